import { describe, expect, it } from 'vitest';
import { CheckScheduler, FakeClock, type CheckResult, type CheckRunner, type HealthEvent, type HealthTarget } from '@lvsd/health';

const OK: CheckResult = { ok: true };
const FAIL: CheckResult = { ok: false, code: 'refused', reason: 'refused' };

/** A runner whose outcome per target is scripted by a function of the attempt number. */
function scripted(fn: (id: string, n: number) => CheckResult | 'hang' | 'stuck') {
  const counts = new Map<string, number>();
  const times: Record<string, number[]> = {};
  let clock: FakeClock;
  const runner: CheckRunner = {
    run: ({ target, signal }) => {
      const n = counts.get(target.id) ?? 0;
      counts.set(target.id, n + 1);
      (times[target.id] ??= []).push(clock.now());
      const r = fn(target.id, n);
      if (r === 'hang') return new Promise((res) => signal.addEventListener('abort', () => res({ ok: false, code: 'timeout', reason: `aborted: ${signal.reason}` })));
      if (r === 'stuck') return new Promise(() => {});
      return Promise.resolve(r);
    },
  };
  return { runner, times, counts, bind: (c: FakeClock) => (clock = c) };
}

function setup(fn: (id: string, n: number) => CheckResult | 'hang' | 'stuck', opts: { concurrency?: number; random?: () => number; timerResolution?: number } = {}) {
  const clock = new FakeClock();
  const s = scripted(fn);
  s.bind(clock);
  const sched = new CheckScheduler({ clock, runners: { TCP_CHECK: s.runner, MISC_CHECK: s.runner }, random: opts.random ?? (() => 0), concurrency: opts.concurrency, timerResolution: opts.timerResolution });
  const events: HealthEvent[] = [];
  sched.on('change', (e) => events.push(e));
  return { clock, sched, events, ...s };
}

const tcp = (id: string, o: Partial<HealthTarget> & Record<string, unknown> = {}): HealthTarget => ({
  id,
  address: '127.0.0.1',
  port: 80,
  checkers: [{ checker: 'TCP_CHECK', delay_loop: 5, retry: 2, delay_before_retry: 1, connect_timeout: 2, ...(o.c as object) }],
  ...o,
});

describe('CheckScheduler: keepalived retry semantics', () => {
  it('starts up (no alpha) and goes down on the FIRST failure at start', async () => {
    const { clock, sched, events } = setup(() => FAIL);
    sched.add(tcp('a'));
    expect(sched.status('a')!.alive).toBe(true);
    sched.start();
    await clock.advance(0);
    expect(events.map((e) => e.type)).toEqual(['down']);
    expect(events[0]).toMatchObject({ id: 'a', code: 'refused', reason: 'refused' });
  });

  it('retries `retry` times, delay_before_retry apart, before declaring down', async () => {
    // ok first, then failures forever: down after 1 + retry(2) failures.
    const { clock, sched, events, times } = setup((_id, n) => (n === 0 ? OK : FAIL));
    sched.add(tcp('a'));
    sched.start();
    await clock.advance(0); // attempt 0 ok at t=0
    await clock.advance(5000); // t=5 fail #1
    await clock.advance(1000); // t=6 retry fail #2
    expect(events).toEqual([]);
    await clock.advance(1000); // t=7 retry fail #3 -> down
    expect(events.map((e) => [e.type, e.time])).toEqual([['down', 7000]]);
    expect(times.a).toEqual([0, 5000, 6000, 7000]);
    // down: next attempt delay_loop later
    await clock.advance(5000);
    expect(times.a.at(-1)).toBe(12000);
  });

  it('a server failing fewer than retry+1 times in a row never goes down', async () => {
    // pattern: ok fail fail ok fail fail ok ... (2 consecutive failures, retry 2)
    const { clock, sched, events } = setup((_id, n) => (n % 3 === 0 ? OK : FAIL));
    sched.add(tcp('a'));
    sched.start();
    for (let i = 0; i < 100; i++) await clock.advance(1000);
    expect(events).toEqual([]);
    expect(sched.status('a')!.alive).toBe(true);
  });

  it('a flapping server never flips faster than rise/fall allow', async () => {
    // alternates ok/fail every attempt: with retry 1 (fall 2) it never goes down
    const flap = setup((_id, n) => (n % 2 ? FAIL : OK));
    flap.sched.add(tcp('a', { c: { retry: 1 } }));
    flap.sched.start();
    for (let i = 0; i < 200; i++) await flap.clock.advance(1000);
    expect(flap.events).toEqual([]);

    // flaps in bursts: 3 fails, 2 oks, repeat; retry 2 (fall 3), rise 3: after the
    // first down it can never collect 3 successes in a row, so it stays down.
    const burst = setup((_id, n) => (n % 5 < 3 ? FAIL : OK));
    burst.sched.add(tcp('b', { c: { retry: 2, rise: 3 } }));
    burst.sched.start();
    for (let i = 0; i < 300; i++) await burst.clock.advance(1000);
    expect(burst.events.map((e) => e.type)).toEqual(['down']);

    // Generic bound: with rise r and fall f, consecutive transitions are at least
    // min(r * delay_loop, f attempts) apart.
    const rnd = mulberry32(7);
    const noisy = setup(() => (rnd() < 0.5 ? OK : FAIL));
    noisy.sched.add(tcp('c', { c: { retry: 2, rise: 2, delay_loop: 5, delay_before_retry: 1 } }));
    noisy.sched.start();
    for (let i = 0; i < 2000; i++) await noisy.clock.advance(1000);
    expect(noisy.events.length).toBeGreaterThan(4);
    for (let i = 1; i < noisy.events.length; i++) {
      const gap = noisy.events[i].time - noisy.events[i - 1].time;
      // down->up needs 2 successes delay_loop apart (>= 5 s after the down);
      // up->down needs 3 failures: >= 1 delay_loop to the first, then 2 retries (1 s each).
      expect(gap).toBeGreaterThanOrEqual(5000);
      expect(noisy.events[i].type).not.toBe(noisy.events[i - 1].type);
    }
  });

  it('alpha: starts down, the first success brings it up', async () => {
    const { clock, sched, events } = setup(() => OK);
    sched.add(tcp('a', { virtualServer: { alpha: true } }));
    expect(sched.status('a')!.alive).toBe(false);
    sched.start();
    await clock.advance(0);
    expect(events.map((e) => e.type)).toEqual(['up']);
  });

  it('times out an attempt at connect_timeout through its AbortSignal', async () => {
    const { clock, sched, events } = setup(() => 'hang');
    let aborted = 0;
    sched.on('check', (e) => e.result.ok || (e.result.code === 'timeout' && aborted++));
    sched.add(tcp('a', { c: { retry: 0 } }));
    sched.start();
    await clock.advance(1999);
    expect(events).toEqual([]);
    await clock.advance(1);
    expect(events).toMatchObject([{ type: 'down', code: 'timeout', time: 2000, reason: 'aborted: timeout' }]);
    expect(aborted).toBe(1);
  });

  it('closes an attempt whose runner ignores the abort as a timeout, 1 s after the deadline', async () => {
    const { clock, sched, events } = setup(() => 'stuck');
    sched.add(tcp('a', { c: { retry: 0 } }));
    sched.start();
    await clock.advance(2999);
    expect(events).toEqual([]);
    await clock.advance(1);
    expect(events).toMatchObject([{ type: 'down', code: 'timeout', time: 3000 }]);
  });

  it('an attempt closed after the grace gives its concurrency slot back, even if its runner never answers', async () => {
    // Cap 1: 'a' never answers. Once its attempt is closed as a timeout, 'b' runs.
    const { clock, sched, times } = setup((id) => (id === 'a' ? 'stuck' : OK), { concurrency: 1 });
    sched.add(tcp('a', { c: { retry: 0 } }));
    sched.add(tcp('b'));
    sched.start();
    await clock.advance(2999);
    expect(times.b).toBeUndefined();
    await clock.advance(1);
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    await clock.advance(0);
    expect(times.b).toEqual([3000]);
    expect(sched.inFlight).toBe(0);
    sched.stop();
  });

  it('detects a dead server within delay_loop + connect_timeout x (retry+1) + delay_before_retry x retry', async () => {
    let dead = false;
    const { clock, sched, events } = setup(() => (dead ? 'hang' : OK));
    sched.add(tcp('a')); // delay_loop 5, connect_timeout 2, retry 2, dbr 1
    sched.start();
    await clock.advance(3000);
    dead = true;
    const t0 = clock.now();
    await clock.advance(30000);
    const bound = 5000 + 2000 * 3 + 1000 * 2;
    expect(events[0].type).toBe('down');
    expect(events[0].time - t0).toBeLessThanOrEqual(bound);
  });
});

describe('CheckScheduler: one timer, jitter, concurrency', () => {
  it('holds one clock timer for 10,000 checks and spreads their first run over warmup', async () => {
    const rnd = mulberry32(42);
    const { clock, sched, times } = setup(() => OK, { random: rnd, timerResolution: 0 });
    for (let i = 0; i < 10_000; i++) sched.add({ id: `t${i}`, address: '127.0.0.1', port: 80, checkers: [{ checker: 'TCP_CHECK', delay_loop: 1 }] });
    sched.start();
    expect(clock.pending).toBe(1);
    await clock.advance(1000);
    expect(clock.pending).toBe(1);
    const perMs = new Map<number, number>();
    for (const ts of Object.values(times)) perMs.set(Math.floor(ts[0]), (perMs.get(Math.floor(ts[0])) ?? 0) + 1);
    expect(Object.keys(times).length).toBe(10_000);
    // warmup defaults to delay_loop (1 s): ~10 per ms, never hundreds.
    expect(Math.max(...perMs.values())).toBeLessThan(40);
  });

  it('with the default 10 ms tick, runs due checks in batches: ~100 wake-ups a second for 10,000 checks', async () => {
    const { clock, sched, times } = setup(() => OK, { random: mulberry32(1) });
    for (let i = 0; i < 10_000; i++) sched.add({ id: `t${i}`, address: '127.0.0.1', port: 80, checkers: [{ checker: 'TCP_CHECK', delay_loop: 1 }] });
    sched.start();
    let wakeups = 0;
    const orig = clock.setTimer.bind(clock);
    clock.setTimer = (fn, ms) => orig(() => (wakeups++, fn()), ms);
    await clock.advance(3000);
    expect(wakeups).toBeLessThanOrEqual(301);
    const ticks = new Map<number, number>();
    for (const ts of Object.values(times)) for (const t of ts) ticks.set(t, (ticks.get(t) ?? 0) + 1);
    // every run on the 10 ms grid, never before its time, and spread over the second
    expect([...ticks.keys()].every((t) => t % 10 === 0)).toBe(true);
    expect(Math.max(...ticks.values())).toBeLessThan(300);
    expect(Object.values(times).every((ts) => ts.length >= 2)).toBe(true);
  });

  it('never runs more attempts at once than the concurrency cap', async () => {
    const clock = new FakeClock();
    let active = 0;
    let peak = 0;
    const runner: CheckRunner = {
      run: () => {
        active++;
        peak = Math.max(peak, active);
        return new Promise((r) => setTimeout(() => (active--, r({ ok: true })), 1));
      },
    };
    const sched = new CheckScheduler({ clock, runners: { TCP_CHECK: runner }, concurrency: 7, random: () => 0 });
    for (let i = 0; i < 100; i++) sched.add({ id: `t${i}`, address: '127.0.0.1', port: 80, checkers: [{ checker: 'TCP_CHECK', delay_loop: 1 }] });
    sched.start();
    await clock.advance(0);
    for (let i = 0; i < 500 && sched.attempts < 100; i++) await new Promise((r) => setTimeout(r, 10));
    expect(peak).toBe(7);
    expect(sched.attempts).toBe(100);
    sched.stop();
  });
});

describe('CheckScheduler: the concurrency cap (p-limit, and its fast path)', () => {
  /** A runner whose attempts stay open until the test settles them, one by one. */
  function manual() {
    const open: { id: string; settle: (how: 'ok' | 'reject' | 'throw') => void }[] = [];
    const started: string[] = [];
    let active = 0;
    let peak = 0;
    const runner: CheckRunner = {
      run: ({ target }) => {
        started.push(target.id);
        if (target.id.startsWith('sync-throw')) throw new Error(`thrown by ${target.id}`);
        active++;
        peak = Math.max(peak, active);
        return new Promise<CheckResult>((res, rej) => {
          open.push({
            id: target.id,
            settle: (how) => {
              active--;
              if (how === 'ok') res(OK);
              else rej(new Error(`rejected by ${target.id}`));
            },
          });
        });
      },
    };
    return { runner, open, started, get active() { return active; }, get peak() { return peak; } };
  }
  const flush = async () => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  };
  const add = (sched: CheckScheduler, ids: string[]) => {
    for (const id of ids) sched.add({ id, address: '127.0.0.1', port: 80, checkers: [{ checker: 'TCP_CHECK', delay_loop: 1000, connect_timeout: 1000 }] });
  };

  for (const cap of [1, 2, 3, 5]) {
    it(`cap ${cap}: never more attempts at once than the cap, queued ones start in launch order`, async () => {
      const clock = new FakeClock();
      const m = manual();
      const sched = new CheckScheduler({ clock, runners: { TCP_CHECK: m.runner }, concurrency: cap, random: () => 0 });
      const ids = Array.from({ length: 12 }, (_, i) => `t${String(i).padStart(2, '0')}`);
      add(sched, ids);
      sched.start();
      await clock.advance(0);
      await flush();
      expect(m.active).toBe(cap);
      expect(sched.inFlight).toBe(12);
      // Settle in an order unlike the start order: the oldest last.
      while (m.open.length) {
        const i = m.open.length > 1 ? 1 : 0;
        m.open.splice(i, 1)[0].settle('ok');
        await flush();
        expect(m.active).toBeLessThanOrEqual(cap);
        expect(m.active).toBe(Math.min(cap, 12 - sched.attempts));
      }
      expect(m.peak).toBe(cap);
      expect(m.started).toEqual(ids);
      expect(sched.attempts).toBe(12);
      expect(sched.inFlight).toBe(0);
      sched.stop();
    });
  }

  it('failed attempts (thrown, rejected), direct or queued, count as errors and free their slots', async () => {
    const clock = new FakeClock();
    const m = manual();
    const sched = new CheckScheduler({ clock, runners: { TCP_CHECK: m.runner }, concurrency: 4, random: () => 0 });
    const results: CheckResult[] = [];
    sched.on('check', (e) => results.push(e.result));
    add(sched, ['sync-throw-1', 'a', 'b', 'c', 'sync-throw-2', 'd', 'e']);
    sched.start();
    await clock.advance(0);
    await flush();
    // Thrown at once: no slot kept. a, b, c run; the rest wait or ran.
    expect(m.active).toBeLessThanOrEqual(4);
    for (let i = 0; m.open.length; i++) {
      m.open.shift()!.settle(i % 2 ? 'ok' : 'reject');
      await flush();
      expect(m.active).toBeLessThanOrEqual(4);
    }
    expect(sched.attempts).toBe(7);
    expect(sched.inFlight).toBe(0);
    expect(results.filter((r) => !r.ok).map((r) => (r.ok ? '' : r.reason)).sort()).toEqual(
      ['rejected by a', 'rejected by c', 'rejected by e', 'thrown by sync-throw-1', 'thrown by sync-throw-2'].sort(),
    );
    expect(m.started).toEqual(['sync-throw-1', 'a', 'b', 'c', 'sync-throw-2', 'd', 'e']);
    // The slots are free: the next round (in the order the first one completed: e last)
    // fills all 4 again, the throwers holding none, and e waits.
    await clock.advance(1000_000);
    await flush();
    expect(m.started.slice(7).sort()).toEqual(['a', 'b', 'c', 'd', 'sync-throw-1', 'sync-throw-2']);
    expect(m.active).toBe(4);
    expect(sched.inFlight).toBe(5);
    sched.stop();
  });

  it('a checker stopped while its attempt waits for a slot never runs, and its slot is not lost', async () => {
    const clock = new FakeClock();
    const m = manual();
    const sched = new CheckScheduler({ clock, runners: { TCP_CHECK: m.runner }, concurrency: 2, random: () => 0 });
    add(sched, ['a', 'b', 'c', 'd']);
    sched.start();
    await clock.advance(0);
    await flush();
    expect(m.started).toEqual(['a', 'b']);
    sched.remove('c');
    while (m.open.length) {
      m.open.shift()!.settle('ok');
      await flush();
    }
    expect(m.started).toEqual(['a', 'b', 'd']);
    expect(sched.inFlight).toBe(0);
    sched.stop();
  });
});

describe('CheckScheduler: weights, updates, events', () => {
  it('misc_dynamic weights are reported as weight events, in order', async () => {
    const seq = [OK, { ok: true, weight: 10 } as CheckResult, { ok: true, weight: 20 } as CheckResult, FAIL, OK];
    const { clock, sched, events } = setup((_id, n) => seq[Math.min(n, seq.length - 1)]);
    sched.add({ id: 'm', address: '10.0.0.1', port: 80, weight: 3, checkers: [{ checker: 'MISC_CHECK', misc_path: '/bin/true', misc_dynamic: true, delay_loop: 1 }] });
    sched.start();
    await clock.advance(0);
    for (let i = 0; i < 4; i++) await clock.advance(1000);
    expect(events.map((e) => [e.type, 'weight' in e ? e.weight : 0])).toEqual([
      ['weight', 10],
      ['weight', 20],
      ['weight', 3],
      ['down', 3],
      ['up', 3],
    ]);
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
  });

  it('update keeps the state of unchanged checkers and starts new ones fresh', async () => {
    const { clock, sched, events } = setup((id) => (id === 'a' ? FAIL : OK));
    sched.add(tcp('a'));
    sched.start();
    await clock.advance(0);
    expect(sched.status('a')!.alive).toBe(false);
    // same checker, different weight: state kept (still down), weight event
    sched.update({ ...tcp('a'), weight: 5 });
    expect(sched.status('a')!.alive).toBe(false);
    expect(sched.status('a')!.checkers[0].hasRun).toBe(true);
    // apply with an unchanged list: nothing happens
    const n = events.length;
    sched.apply([{ ...tcp('a'), weight: 5 }, tcp('b')]);
    expect(events.length).toBe(n);
    expect(sched.status().map((s) => s.id)).toEqual(['a', 'b']);
    // a changed checker: fresh (up, not run)
    sched.update(tcp('a', { c: { connect_timeout: 3 } }));
    expect(sched.status('a')!.checkers[0].hasRun).toBe(false);
    expect(events.at(-1)).toMatchObject({ type: 'up', id: 'a' });
    sched.apply([tcp('b')]);
    expect(sched.has('a')).toBe(false);
  });

  it('rejects a bad config and changes nothing', () => {
    const { sched } = setup(() => OK);
    sched.add(tcp('a'));
    expect(() => sched.apply([tcp('x'), { id: 'y', address: 'nope', port: 80, checkers: [{ checker: 'TCP_CHECK' }] }])).toThrow(/not an IP address/);
    expect(sched.status().map((s) => s.id)).toEqual(['a']);
    expect(() => sched.add({ id: 'z', address: '1.2.3.4', checkers: [{ checker: 'TCP_CHECK' }] })).toThrow(/connect_port/);
  });

  it('patch changes only the targets it names: removes, adds, updates; others keep their state; a bad target changes nothing', async () => {
    const { clock, sched, events } = setup((id) => (id === 'a' ? FAIL : OK));
    sched.apply([tcp('a'), tcp('b'), tcp('c')]);
    sched.start();
    await clock.advance(0);
    expect(sched.status('a')!.alive).toBe(false);
    const n = events.length;
    // a (unchanged, named in both lists) keeps its state; c goes; d comes; b is not named
    sched.patch([tcp('a'), tcp('d')], ['a', 'c']);
    expect(sched.status().map((s) => s.id).sort()).toEqual(['a', 'b', 'd']);
    expect(sched.status('a')!.alive).toBe(false);
    expect(sched.status('a')!.checkers[0].hasRun).toBe(true);
    expect(events.slice(n).map((e) => e.id)).not.toContain('a');
    sched.patch([{ ...tcp('b'), weight: 3 }]);
    expect(sched.status('b')!.weight).toBe(3);
    expect(() => sched.patch([tcp('e'), { id: 'f', address: 'nope', port: 80, checkers: [{ checker: 'TCP_CHECK' }] }], ['b'])).toThrow(/not an IP address/);
    expect(() => sched.patch([tcp('e'), tcp('e')])).toThrow(/duplicate target id e/);
    expect(sched.status().map((s) => s.id).sort()).toEqual(['a', 'b', 'd']);
  });

  it('omega: stop() reports live servers down', async () => {
    const { clock, sched, events } = setup(() => OK);
    sched.add(tcp('a', { virtualServer: { omega: true } }));
    sched.add(tcp('b'));
    sched.start();
    await clock.advance(0);
    sched.stop();
    expect(events).toMatchObject([{ type: 'down', id: 'a', code: 'shutdown' }]);
    expect(clock.pending).toBe(0);
  });
});

function mulberry32(a: number) {
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('CheckScheduler.load', () => {
  it("loads the runners of the targets' checker types, or of the types given, once each", async () => {
    const loaded: string[] = [];
    const runner = (name: string): CheckRunner => ({ run: async () => OK, load: async () => void loaded.push(name) });
    const sched = new CheckScheduler({ clock: new FakeClock(), runners: { TCP_CHECK: runner('tcp'), HTTP_GET: runner('http'), MISC_CHECK: runner('misc') } });
    await sched.load();
    expect(loaded).toEqual([]);
    sched.add(tcp('a'));
    sched.add(tcp('b'));
    await sched.load();
    expect(loaded).toEqual(['tcp']);
    await sched.load(['HTTP_GET', 'SSL_GET', 'FILE_CHECK']);
    expect(loaded).toEqual(['tcp', 'http']);
  });
});

describe('CheckScheduler.suspend (ha_suspend)', () => {
  it('runs no checks and sends no events while suspended; the state is kept; resumed, checks run again', async () => {
    const { clock, sched, events, counts } = setup((_id, n) => (n < 1 ? OK : FAIL));
    sched.add(tcp('a', { c: { retry: 0 } }));
    sched.start();
    await clock.advance(0);
    expect(counts.get('a')).toBe(1);
    expect(sched.suspend('a')).toBe(true);
    await clock.advance(60_000);
    expect(counts.get('a'), 'no attempt while suspended').toBe(1);
    expect(events).toEqual([]);
    expect(sched.status('a')).toMatchObject({ alive: true, suspended: true });
    sched.suspend('a', false);
    await clock.advance(0);
    expect(counts.get('a')).toBe(2);
    expect(events.map((e) => e.type)).toEqual(['down']);
    expect(sched.suspend('nope')).toBe(false);
  });

  it('a suspended target added before start stays quiet at start', async () => {
    const { clock, sched, counts } = setup(() => OK);
    sched.add(tcp('a'));
    sched.suspend('a');
    sched.start();
    await clock.advance(30_000);
    expect(counts.get('a')).toBeUndefined();
  });
});
