// Real servers on loopback (no root, no namespace): TCP, HTTP, TLS + SNI, SMTP.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { genhash, resolveCheckerOptions, HealthChecker, type HealthEvent } from '@lvsd/health';
import { runOnce } from './helpers.js';

const closers: (() => void)[] = [];
// md5sum of 'hello from the real server\n', computed once with coreutils.
const KNOWN_MD5 = '12a2f67a6cf03d885f4eb03efc0228e9';
afterAll(() => closers.forEach((c) => c()));

function listen(server: net.Server, host = '127.0.0.1'): Promise<number> {
  closers.push(() => server.close());
  return new Promise((r) => server.listen(0, host, () => r((server.address() as net.AddressInfo).port)));
}

/** A port nothing listens on (bound then closed): connecting gets RST. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  const p = await new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as net.AddressInfo).port)));
  await new Promise((r) => s.close(r));
  return p;
}

describe('TCP_CHECK on loopback', () => {
  it('up on a listener that accepts and closes; refused on a closed port', async () => {
    let accepted = 0;
    const port = await listen(net.createServer((s) => (accepted++, s.destroy())));
    expect(await runOnce({ checker: 'TCP_CHECK' }, { address: '127.0.0.1', port })).toMatchObject({ ok: true });
    const closed = await closedPort();
    expect(await runOnce({ checker: 'TCP_CHECK' }, { address: '127.0.0.1', port: closed })).toMatchObject({ ok: false, code: 'refused' });
    expect(accepted).toBe(1);
  });

  it('connect_ip / connect_port / bindto / bind_port', async () => {
    const seen: string[] = [];
    const port = await listen(net.createServer((s) => (seen.push(`${s.remoteAddress}:${s.remotePort}`), s.destroy())), '127.0.0.3');
    const r = await runOnce({ checker: 'TCP_CHECK', connect_ip: '127.0.0.3', connect_port: port, bindto: '127.0.0.7', bind_port: 47123 }, { address: '127.0.0.1', port: 1 });
    expect(r.ok).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual(['127.0.0.7:47123']);
  });

  it('the net.Socket fallback path behaves the same', async () => {
    const { tcpCheck, tcpCheckViaSocket } = await import('../../../packages/health/src/checkers/tcp.js');
    expect(tcpCheck.engine).toBe('tcp_wrap');
    const port = await listen(net.createServer((s) => s.destroy()));
    const closed = await closedPort();
    const run = (p: number) => {
      const checker = resolveCheckerOptions(undefined, { address: '127.0.0.1', port: p }, { checker: 'TCP_CHECK' });
      return tcpCheckViaSocket.run({ target: { id: 't', address: '127.0.0.1', port: p, checkers: [] }, checker, configuredWeight: 1, signal: AbortSignal.timeout(1000) });
    };
    expect(await run(port)).toEqual({ ok: true });
    expect(await run(closed)).toMatchObject({ ok: false, code: 'refused' });
  });

  it("the scheduler's callback path (start): up, refused, aborted before the connect completes, bindto; one completion each", async () => {
    const { tcpCheck } = await import('../../../packages/health/src/checkers/tcp.js');
    const seen: string[] = [];
    const port = await listen(net.createServer((s) => (seen.push(`${s.remoteAddress}`), s.destroy())));
    const closed = await closedPort();
    const start = (p: number, opts: Record<string, unknown> = {}, abortAtOnce = false) =>
      new Promise<{ results: unknown[]; data: unknown }>((resolve) => {
        const checker = resolveCheckerOptions(undefined, { address: '127.0.0.1', port: p }, { checker: 'TCP_CHECK', ...opts } as never);
        const results: unknown[] = [];
        let hook: ((c: never) => void) | undefined;
        const ctx = {
          target: { id: 't', address: '127.0.0.1', port: p, checkers: [] },
          checker,
          configuredWeight: 1,
          get signal(): AbortSignal {
            throw new Error('the callback path must not make an AbortSignal');
          },
          data: undefined as unknown,
          onAbort: (fn: (c: never) => void) => void (hook = fn),
          complete: (r: unknown) => {
            results.push(r);
            // Let a late libuv callback (the cancelled connect) show up if it would.
            setTimeout(() => resolve({ results, data: ctx.data }), 50);
          },
        };
        tcpCheck.start!(ctx as never);
        if (abortAtOnce) hook!(ctx as never);
      });
    expect((await start(port)).results).toEqual([{ ok: true }]);
    expect((await start(closed)).results).toMatchObject([{ ok: false, code: 'refused' }]);
    expect((await start(port, {}, true)).results).toEqual([{ ok: false, code: 'timeout', reason: 'timeout' }]);
    // A source address: the promise path underneath, still one completion.
    expect((await start(port, { bindto: '127.0.0.9' })).results).toEqual([{ ok: true }]);
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toContain('127.0.0.9');
  });

  it('the whole engine on the callback path: up, down (refused) when the listener goes, up when it is back', async () => {
    let srv = net.createServer((s) => s.destroy());
    const port = await listen(srv);
    const hc = new HealthChecker({ timerResolution: 0 });
    const events: HealthEvent[] = [];
    let checks = 0;
    hc.on('change', (e) => events.push(e));
    hc.on('check', () => checks++);
    hc.add({ id: 'rs', address: '127.0.0.1', port, checkers: [{ checker: 'TCP_CHECK', delay_loop: 0.02, delay_before_retry: 0.02, retry: 1, warmup: 0, connect_timeout: 1 }] });
    hc.start();
    const until = async (f: () => boolean) => {
      for (let i = 0; i < 300 && !f(); i++) await new Promise((r) => setTimeout(r, 10));
    };
    await until(() => checks >= 3);
    expect(events).toEqual([]);
    await new Promise((r) => srv.close(r));
    await until(() => events.length >= 1);
    srv = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => srv.listen(port, '127.0.0.1', () => r()));
    closers.push(() => srv.close());
    await until(() => events.length >= 2);
    hc.stop();
    expect(events.map((e) => [e.type, 'code' in e ? e.code : ''])).toEqual([
      ['down', 'refused'],
      ['up', ''],
    ]);
    expect(hc.inFlight).toBe(0);
  });

  it('IPv6 loopback', async () => {
    const port = await listen(net.createServer((s) => s.destroy()), '::1');
    expect(await runOnce({ checker: 'TCP_CHECK' }, { address: '::1', port })).toMatchObject({ ok: true });
  });
});

describe('HTTP_GET on loopback', () => {
  let port = 0;
  const hosts: string[] = [];
  const agents: string[] = [];
  const body = 'hello from the real server\n';
  beforeAll(async () => {
    const srv = http.createServer((req, res) => {
      hosts.push(req.headers.host ?? '');
      agents.push(req.headers['user-agent'] ?? '');
      if (req.url === '/ok') res.end(body);
      else if (req.url === '/500') (res.statusCode = 500), res.end('boom');
      else if (req.url === '/503') (res.statusCode = 503), res.end('busy');
      else if (req.url === '/hang-after-headers') {
        res.writeHead(200, { 'content-length': '100' });
        res.write('partial');
      } else if (req.url === '/slow-body') {
        res.writeHead(200);
        let n = 0;
        const t = setInterval(() => (++n > 20 ? (clearInterval(t), res.end()) : res.write('.')), 100);
        res.on('close', () => clearInterval(t));
      } else if (req.url === '/chunked') {
        res.write('part one, ');
        setTimeout(() => res.end('part two'), 10);
      } else (res.statusCode = 404), res.end();
    });
    port = await listen(srv);
    closers.push(() => srv.closeAllConnections());
  });
  const get = (url: object[], extra: object = {}, t = 1000) => runOnce({ checker: 'HTTP_GET', url: url as never, ...extra }, { address: '127.0.0.1', port }, t);

  it('200 with the default 200-299 is up; 500 is "status 500"', async () => {
    expect(await get([{ path: '/ok' }])).toMatchObject({ ok: true });
    expect(await get([{ path: '/500' }])).toMatchObject({ ok: false, code: 'status', reason: 'status 500' });
    expect(await get([{ path: '/503' }])).toMatchObject({ ok: false, reason: 'status 503' });
    expect(await get([{ path: '/503', status_code: ['200-299', 503] }])).toMatchObject({ ok: true });
    expect(agents.at(-1)).toBe('KeepAliveClient');
  });

  it('digest: the MD5 genhash prints; a wrong one is "digest mismatch"', async () => {
    const md5 = genhash(body);
    expect(md5).toBe(KNOWN_MD5);
    expect(await get([{ path: '/ok', digest: md5 }])).toMatchObject({ ok: true });
    expect(await get([{ path: '/ok', digest: '0'.repeat(32) }])).toMatchObject({ ok: false, code: 'digest', reason: 'digest mismatch' });
    // chunked transfer: the digest is over the body, not the chunk framing
    expect(await get([{ path: '/chunked', digest: genhash('part one, part two') }])).toMatchObject({ ok: true });
  });

  it('regex: a miss fails; regex_no_match inverts', async () => {
    expect(await get([{ path: '/ok', regex: 'real\\s+server' }])).toMatchObject({ ok: true });
    expect(await get([{ path: '/ok', regex: 'maintenance' }])).toMatchObject({ ok: false, code: 'regex', reason: 'regex miss' });
    expect(await get([{ path: '/ok', regex: 'HELLO', regex_options: 'caseless' }])).toMatchObject({ ok: true });
    expect(await get([{ path: '/ok', regex: 'hello', regex_no_match: true }])).toMatchObject({ ok: false, reason: 'regex match' });
    expect(await get([{ path: '/ok', regex: 'server', regex_max_offset: 5 }])).toMatchObject({ ok: false });
  });

  it('every url block must pass', async () => {
    expect(await get([{ path: '/ok' }, { path: '/500' }])).toMatchObject({ ok: false, reason: 'status 500' });
  });

  it('a server that hangs after the headers, or sends its body too slowly, times out', async () => {
    const hang = await get([{ path: '/hang-after-headers' }], {}, 300);
    expect(hang).toMatchObject({ ok: false, code: 'timeout' });
    expect(hang.ms).toBeLessThan(800);
    expect(await get([{ path: '/slow-body' }], {}, 500)).toMatchObject({ ok: false, code: 'timeout' });
    // the same body with enough time is fine
    expect(await get([{ path: '/slow-body' }], {}, 4000)).toMatchObject({ ok: true });
  });

  it('virtualhost is the Host header (with the port when not 80)', async () => {
    await get([{ path: '/ok', virtualhost: 'www.example.test' }]);
    expect(hosts.at(-1)).toBe(`www.example.test:${port}`);
    await get([{ path: '/ok' }]);
    expect(hosts.at(-1)).toBe(`127.0.0.1:${port}`);
  });

  it('the whole engine, reusing its client across attempts: up, down on 503, up again', async () => {
    let code = 200;
    let served = 0;
    const srv = http.createServer((_req, res) => (served++, (res.statusCode = code), res.end('x')));
    const p = await listen(srv);
    const hc = new HealthChecker();
    const events: HealthEvent[] = [];
    let oks = 0;
    hc.on('change', (e) => events.push(e));
    hc.on('check', (e) => e.result.ok && oks++);
    hc.add({ id: 'web', address: '127.0.0.1', port: p, checkers: [{ checker: 'HTTP_GET', url: [{ path: '/' }], delay_loop: 0.03, delay_before_retry: 0.03, retry: 1, warmup: 0, connect_timeout: 1 }] });
    hc.start();
    const until = async (f: () => boolean) => {
      for (let i = 0; i < 200 && !f(); i++) await new Promise((r) => setTimeout(r, 10));
    };
    await until(() => oks >= 5);
    expect(events).toEqual([]);
    code = 503;
    await until(() => events.length >= 1);
    code = 200;
    await until(() => events.length >= 2);
    hc.stop();
    expect(events.map((e) => [e.type, 'reason' in e ? e.reason : ''])).toEqual([
      ['down', 'status 503'],
      ['up', ''],
    ]);
    expect(served).toBeGreaterThanOrEqual(8);
  });

  it('the whole engine: a hang past the deadline is "timeout", then a fresh client; two url blocks; stack traces left as they were', async () => {
    let mode: 'ok' | 'hang' = 'ok';
    const paths: string[] = [];
    const srv = http.createServer((req, res) => {
      paths.push(req.url ?? '');
      if (mode === 'hang') return void res.writeHead(200, { 'content-length': '10' });
      res.end(body);
    });
    const p = await listen(srv);
    closers.push(() => srv.closeAllConnections());
    const limit = Error.stackTraceLimit;
    const hc = new HealthChecker();
    const events: HealthEvent[] = [];
    let oks = 0;
    hc.on('change', (e) => events.push(e));
    hc.on('check', (e) => e.result.ok && oks++);
    const url = [{ path: '/a', digest: genhash(body) }, { path: '/b', regex: 'real server' }];
    hc.add({ id: 'web', address: '127.0.0.1', port: p, checkers: [{ checker: 'HTTP_GET', url, delay_loop: 0.03, delay_before_retry: 0.03, retry: 0, warmup: 0, connect_timeout: 0.2 }] });
    await hc.load();
    hc.start();
    const until = async (f: () => boolean) => {
      for (let i = 0; i < 300 && !f(); i++) await new Promise((r) => setTimeout(r, 10));
    };
    await until(() => oks >= 3);
    expect(paths.slice(0, 4)).toEqual(['/a', '/b', '/a', '/b']);
    mode = 'hang';
    await until(() => events.length >= 1);
    mode = 'ok';
    await until(() => events.length >= 2);
    hc.stop();
    expect(events.map((e) => [e.type, 'reason' in e ? e.reason : ''])).toEqual([
      ['down', 'timeout'],
      ['up', ''],
    ]);
    expect(Error.stackTraceLimit).toBe(limit);
    expect(new Error('x').stack).toContain('loopback-tcp-http');
  });

  it('refused and reset', async () => {
    expect(await runOnce({ checker: 'HTTP_GET', url: [{ path: '/' }] }, { address: '127.0.0.1', port: await closedPort() })).toMatchObject({ ok: false, code: 'refused' });
    const rst = await listen(net.createServer((s) => s.once('data', () => s.resetAndDestroy())));
    expect(await runOnce({ checker: 'HTTP_GET', url: [{ path: '/' }] }, { address: '127.0.0.1', port: rst })).toMatchObject({ ok: false, code: 'reset' });
  });
});

describe('SSL_GET on loopback with a self-signed certificate', () => {
  let dir = '';
  let port = 0;
  const snis: (string | undefined)[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lvsd-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=www.example.test',
      '-addext', 'subjectAltName=DNS:www.example.test', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    const ctx = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
    const srv = tls.createServer({ ...ctx, SNICallback: (name, cb) => (snis.push(name), cb(null, tls.createSecureContext(ctx))) }, (s) => {
      s.on('error', () => {});
      s.once('data', () => s.end('HTTP/1.1 200 OK\r\ncontent-length: 6\r\nconnection: close\r\n\r\nsecure'));
    });
    srv.on('tlsClientError', () => {});
    port = await listen(srv);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const ssl = (extra: object) => runOnce({ checker: 'SSL_GET', url: [{ path: '/', digest: genhash('secure') }], ...extra }, { address: '127.0.0.1', port });

  it('certificate not verified by default (keepalived), SNI = virtualhost', async () => {
    expect(await ssl({ virtualhost: 'www.example.test' })).toMatchObject({ ok: true });
    expect(snis.at(-1)).toBe('www.example.test');
    const before = snis.length;
    expect(await ssl({})).toMatchObject({ ok: true });
    expect(snis.length).toBe(before); // no virtualhost: no SNI
    expect(await ssl({ virtualhost: 'www.example.test', enable_sni: false })).toMatchObject({ ok: true });
    expect(snis.length).toBe(before);
  });

  it('verification on request: fails without the CA or with a wrong name, passes with both', async () => {
    expect(await ssl({ virtualhost: 'www.example.test', ssl: { verify: true } })).toMatchObject({ ok: false, code: 'tls' });
    expect(await ssl({ virtualhost: 'other.example.test', ssl: { verify: true, ca: join(dir, 'cert.pem') } })).toMatchObject({ ok: false, code: 'tls' });
    expect(await ssl({ virtualhost: 'www.example.test', ssl: { verify: true, ca: join(dir, 'cert.pem') } })).toMatchObject({ ok: true });
  });

  it('plain HTTP to a TLS port fails', async () => {
    expect((await runOnce({ checker: 'HTTP_GET', url: [{ path: '/' }] }, { address: '127.0.0.1', port }, 500)).ok).toBe(false);
  });
});

describe('SMTP_CHECK on loopback', () => {
  it('220 banner, HELO answered 250, QUIT', async () => {
    const helos: string[] = [];
    const port = await listen(
      net.createServer((s) => {
        s.write('220-mail.example.test ESMTP\r\n220 ready\r\n');
        s.on('data', (d) => {
          const l = d.toString();
          if (l.startsWith('HELO')) helos.push(l.trim()), s.write('250 hello\r\n');
          else if (l.startsWith('QUIT')) s.end('221 bye\r\n');
        });
      }),
    );
    expect(await runOnce({ checker: 'SMTP_CHECK' }, { address: '127.0.0.1', port })).toMatchObject({ ok: true });
    expect(await runOnce({ checker: 'SMTP_CHECK', helo_name: 'lb1.example.test' }, { address: '127.0.0.1', port })).toMatchObject({ ok: true });
    expect(helos).toEqual(['HELO smtpchecker.keepalived.org', 'HELO lb1.example.test']);
  });

  it('a 554 banner, a rejected HELO, a silent server', async () => {
    const bad = await listen(net.createServer((s) => s.end('554 go away\r\n')));
    expect(await runOnce({ checker: 'SMTP_CHECK' }, { address: '127.0.0.1', port: bad })).toMatchObject({ ok: false, code: 'protocol', reason: 'smtp banner 554' });
    const rej = await listen(net.createServer((s) => (s.write('220 hi\r\n'), s.on('data', () => s.write('501 no\r\n')))));
    expect(await runOnce({ checker: 'SMTP_CHECK' }, { address: '127.0.0.1', port: rej })).toMatchObject({ ok: false, reason: 'smtp HELO 501' });
    const silent = await listen(net.createServer(() => {}));
    expect(await runOnce({ checker: 'SMTP_CHECK' }, { address: '127.0.0.1', port: silent }, 300)).toMatchObject({ ok: false, code: 'timeout' });
  });
});
