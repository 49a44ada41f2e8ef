// Checks across a veth pair between two namespaces we create: a blackhole
// (SYN dropped by nftables), ICMP to an address that exists and then is removed,
// both ICMP socket kinds, SO_MARK on every kind of check socket, and a flapping
// real server watched by the whole engine with the real clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthChecker, defaultRunners, resolveCheckerOptions, type CheckResult, type CheckerOptions, type HealthEvent, type PollRunner } from '@lvsd/health';
import { createLab, isRoot, S4, S6, type Lab } from './lab.js';

const d = isRoot ? describe : describe.skip;
let lab: Lab;
const runners = defaultRunners();

beforeAll(() => {
  if (isRoot) lab = createLab();
});
afterAll(() => {
  for (const r of Object.values(runners)) r.close?.();
  lab?.cleanup();
});

async function runOnce(c: CheckerOptions, rs: { address: string; port?: number }, timeoutMs = 1000): Promise<CheckResult & { ms: number }> {
  const checker = resolveCheckerOptions(undefined, rs, { ...c, netns: lab.cPath } as CheckerOptions);
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort('timeout'), timeoutMs);
  const t0 = performance.now();
  try {
    const r = await (runners[checker.type] as PollRunner).run({ target: { id: 't', address: rs.address, port: rs.port, checkers: [c] }, checker, configuredWeight: 1, signal: ac.signal });
    return { ...r, ms: performance.now() - t0 };
  } finally {
    clearTimeout(t);
  }
}

d('TCP_CHECK across namespaces', () => {
  beforeAll(async () => {
    await lab.listen(S4, 8080, (s) => s.destroy());
    await lab.listen(S6, 8080, (s) => s.destroy());
    await lab.listen(S4, 8081, (s) => s.destroy()); // will be blackholed
    lab.nft('s', 'table inet hc { chain in { type filter hook input priority 0; tcp dport 8081 tcp flags syn drop; } }');
  });

  it('up on a listener, refused on a closed port (RST), IPv4 and IPv6', async () => {
    expect(await runOnce({ checker: 'TCP_CHECK' }, { address: S4, port: 8080 })).toMatchObject({ ok: true });
    expect(await runOnce({ checker: 'TCP_CHECK' }, { address: S6, port: 8080 })).toMatchObject({ ok: true });
    expect(await runOnce({ checker: 'TCP_CHECK' }, { address: S4, port: 8099 })).toMatchObject({ ok: false, code: 'refused' });
  });

  it('a blackhole (SYN dropped) times out at the deadline and leaves no socket behind', async () => {
    const r = await runOnce({ checker: 'TCP_CHECK' }, { address: S4, port: 8081 }, 400);
    expect(r).toMatchObject({ ok: false, code: 'timeout' });
    expect(r.ms).toBeGreaterThanOrEqual(390);
    expect(r.ms).toBeLessThan(700);
    const h = await runOnce({ checker: 'HTTP_GET', url: [{ path: '/' }] }, { address: S4, port: 8081 }, 400);
    expect(h).toMatchObject({ ok: false, code: 'timeout' });
    await new Promise((res) => setTimeout(res, 50));
    // no SYN-SENT socket of ours survives the deadline
    expect(lab.exec('c', 'ss', ['-tnH', 'state', 'syn-sent']).trim()).toBe('');
  });

  it('detects a blackholed server within delay_loop + connect_timeout x (retry+1) + delay_before_retry x retry', async () => {
    let srvUp = true;
    await lab.listen(S4, 8082, (s) => s.destroy());
    const hc = new HealthChecker();
    const events: HealthEvent[] = [];
    hc.on('change', (e) => events.push(e));
    const c = { checker: 'TCP_CHECK' as const, netns: lab.cPath, delay_loop: 0.3, connect_timeout: 0.2, retry: 2, delay_before_retry: 0.1, warmup: 0 };
    hc.add({ id: 'rs', address: S4, port: 8082, checkers: [c] });
    hc.start();
    await new Promise((res) => setTimeout(res, 500));
    expect(events).toEqual([]);
    lab.nft('s', 'table inet hc2 { chain in { type filter hook input priority 0; tcp dport 8082 tcp flags syn drop; } }');
    srvUp = false;
    const t0 = performance.now();
    for (let i = 0; i < 100 && !events.length; i++) await new Promise((res) => setTimeout(res, 20));
    const took = performance.now() - t0;
    hc.stop();
    expect(srvUp).toBe(false);
    expect(events).toMatchObject([{ type: 'down', code: 'timeout' }]);
    expect(took).toBeLessThanOrEqual(300 + 200 * 3 + 100 * 2 + 100);
  });
});

// /proc/sys/net is the namespace of whoever opens it: write it from inside `c`.
const setPingGroupRange = (v: string) => lab.exec('c', 'sh', ['-c', `echo '${v}' > /proc/sys/net/ipv4/ping_group_range`]);

d('PING_CHECK', () => {
  it('an address that answers is up; once removed, down', async () => {
    expect(await runOnce({ checker: 'PING_CHECK' }, { address: S4 })).toMatchObject({ ok: true });
    expect(await runOnce({ checker: 'PING_CHECK' }, { address: S6 })).toMatchObject({ ok: true });
    lab.exec('s', 'ip', ['addr', 'del', `${S4}/24`, 'dev', 'eth0']);
    lab.exec('s', 'ip', ['addr', 'del', `${S6}/64`, 'dev', 'eth0']);
    try {
      expect((await runOnce({ checker: 'PING_CHECK' }, { address: S4 }, 500)).ok).toBe(false);
      expect((await runOnce({ checker: 'PING_CHECK' }, { address: S6 }, 500)).ok).toBe(false);
    } finally {
      lab.exec('s', 'ip', ['addr', 'add', `${S4}/24`, 'dev', 'eth0']);
      lab.exec('s', 'ip', ['addr', 'add', `${S6}/64`, 'dev', 'eth0', 'nodad']);
    }
    expect(await runOnce({ checker: 'PING_CHECK' }, { address: S4 }, 2000)).toMatchObject({ ok: true });
  });

  it('uses a raw socket where ping_group_range forbids, an ICMP datagram socket where it allows', async () => {
    const { Pinger } = await import('../../../packages/health/src/checkers/ping.js');
    setPingGroupRange('1 0');
    const raw = new Pinger(4, { netns: lab.cPath });
    setPingGroupRange('0 2147483647');
    const dg = new Pinger(4, { netns: lab.cPath });
    const dg6 = new Pinger(6, { netns: lab.cPath });
    try {
      expect(raw.kind).toBe('raw');
      expect(dg.kind).toBe('dgram');
      const sig = () => AbortSignal.timeout(1000);
      expect(await raw.ping(S4, sig())).toMatchObject({ ok: true });
      expect(await dg.ping(S4, sig())).toMatchObject({ ok: true });
      expect(await dg6.ping(S6, sig())).toMatchObject({ ok: true });
      // many at once on one shared socket, matched by sequence number
      const many = await Promise.all(Array.from({ length: 50 }, () => dg.ping(S4, sig())));
      expect(many.every((r) => r.ok)).toBe(true);
    } finally {
      raw.close();
      dg.close();
      dg6.close();
      setPingGroupRange('1 0');
    }
  });
});

d('fwmark (SO_MARK) on every kind of check socket', () => {
  beforeAll(async () => {
    await lab.listen(S4, 8090, (s) => {
      s.once('data', () => s.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok'));
    });
    lab.nft(
      'c',
      `table inet marks {
        chain out { type filter hook output priority 0;
          meta mark 0x2a tcp dport 8090 counter;
          meta mark 0x2a udp dport 5353 counter;
          meta mark 0x2a icmp type echo-request counter;
        }
      }`,
    );
  });
  const counters = () =>
    [...lab.exec('c', 'nft', ['list', 'table', 'inet', 'marks']).matchAll(/counter packets (\d+)/g)].map((m) => Number(m[1]));

  it('TCP_CHECK, HTTP_GET, UDP_CHECK and PING_CHECK packets carry the mark', async () => {
    expect(counters()).toEqual([0, 0, 0]);
    expect(await runOnce({ checker: 'TCP_CHECK', fwmark: 42 }, { address: S4, port: 8090 })).toMatchObject({ ok: true });
    expect(await runOnce({ checker: 'HTTP_GET', fwmark: 42, url: [{ path: '/' }] }, { address: S4, port: 8090 })).toMatchObject({ ok: true });
    await runOnce({ checker: 'UDP_CHECK', fwmark: 42 }, { address: S4, port: 5353 }, 200);
    expect(await runOnce({ checker: 'PING_CHECK', fwmark: 42 }, { address: S4 })).toMatchObject({ ok: true });
    const [tcp, udp, icmp] = counters();
    expect(tcp).toBeGreaterThanOrEqual(4); // SYN, ACK... of two connections
    expect(udp).toBe(1);
    expect(icmp).toBe(1);
    // without fwmark: no mark
    await runOnce({ checker: 'TCP_CHECK' }, { address: S4, port: 8090 });
    expect(counters()[0]).toBe(tcp);
  });
});

d('the engine against a flapping real server', () => {
  it('state changes no faster than rise/fall allow', async () => {
    await lab.listen(S4, 8095, (s) => s.destroy());
    // The server flaps: its SYNs are answered with RST, then accepted, every 150 ms.
    let dropping = false;
    const flip = setInterval(() => {
      dropping = !dropping;
      lab.nft('s', dropping ? 'table inet flap { chain in { type filter hook input priority 0; tcp dport 8095 tcp flags syn reject with tcp reset; } }' : 'delete table inet flap');
    }, 150);
    const hc = new HealthChecker();
    // One ordered stream of attempt results and state changes.
    const stream: ({ kind: 'check'; ok: boolean } | { kind: 'event'; type: string })[] = [];
    hc.on('check', (e) => stream.push({ kind: 'check', ok: e.result.ok }));
    hc.on('change', (e) => stream.push({ kind: 'event', type: e.type }));
    // fall = retry + 1 = 3 consecutive failures; rise 3 consecutive successes
    hc.add({ id: 'rs', address: S4, port: 8095, checkers: [{ checker: 'TCP_CHECK', netns: lab.cPath, delay_loop: 0.1, delay_before_retry: 0.1, connect_timeout: 0.5, retry: 2, rise: 3, warmup: 0 }] });
    hc.start();
    await new Promise((res) => setTimeout(res, 3000));
    clearInterval(flip);
    hc.stop();
    if (dropping) lab.nft('s', 'delete table inet flap');
    const checks = stream.filter((x) => x.kind === 'check') as { ok: boolean }[];
    expect(checks.filter((c) => c.ok).length).toBeGreaterThan(5);
    expect(checks.filter((c) => !c.ok).length).toBeGreaterThan(5);
    // Whatever the timing did, every change must be earned: a down needs the 3
    // failures before it in a row, an up the 3 successes before it.
    // (keepalived: before the first success, one failure is enough.)
    let fails = 0;
    let oks = 0;
    let seenOk = false;
    let alive = true;
    for (const x of stream) {
      if (x.kind === 'check') {
        if (x.ok) (oks++, (fails = 0), (seenOk = true));
        else (fails++, (oks = 0));
      } else if (x.type === 'down') {
        expect(alive).toBe(true);
        expect(fails).toBeGreaterThanOrEqual(seenOk ? 3 : 1);
        alive = false;
      } else if (x.type === 'up') {
        expect(alive).toBe(false);
        expect(oks).toBeGreaterThanOrEqual(3);
        alive = true;
      }
    }
    // With the server flipping every 150 ms that never happens: no change at all.
    const maxRun = (ok: boolean) => {
      let best = 0;
      let cur = 0;
      for (const c of checks) best = Math.max(best, (cur = c.ok === ok ? cur + 1 : 0));
      return best;
    };
    if (maxRun(false) < 3 && checks[0]?.ok) expect(stream.filter((x) => x.kind === 'event')).toEqual([]);
  });
});

