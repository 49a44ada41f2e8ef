// HTTP_GET and SSL_GET on undici: every url block is fetched on a fresh
// connection (as keepalived does: `Connection: close`), and checked for status
// code, MD5 digest of the body and regex. Each checker keeps one undici Client
// (building one per attempt costs more than the check); its connector makes
// the socket itself and ties it to the running attempt, so a connect that
// hangs (SYN dropped) is torn down at the deadline instead of lingering until
// the kernel gives up.
//
// A check is the hot path of a large pool, so the exchange avoids what undici
// charges for by default (measured on the host, docs/benchmarks.md): the
// handler is one object per exchange with undici's own handler methods (the
// onRequestStart family is wrapped by undici in two more objects per request,
// with the headers turned into an object twice), the request options are
// built once per url block, undici's per-request timers are off (the
// scheduler's deadline covers the exchange), and the connection is closed by
// us as soon as the response is complete: undici would close it with a new
// InformationalError whose stack trace Node's stream destroy formats (about 8 %
// of a check's CPU in a host profile).
import { createHash, type Hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP, type Socket } from 'node:net';
import type tls from 'node:tls';
import type { Client, Dispatcher } from 'undici';
import UndiciClient from 'undici/lib/dispatcher/client.js';
import type { EffectiveConnection } from '../options.js';
import { compileRegex, parseStatusCodes, type ResolvedChecker } from '../options.js';
import type { CheckContext, PollRunner } from '../runner.js';
import type { CheckResult, HttpCheckOptions, UrlOptions } from '../types.js';
import { connectTcp, errorToResult, failure, startTcp } from './net.js';

/** Most of a body kept for a regex (keepalived reads at most its buffer too). */
const REGEX_LIMIT = 4 << 20;

const OK: CheckResult = { ok: true };
const TIMEOUT: CheckResult = failure('timeout');
const DIGEST_MISMATCH: CheckResult = failure('digest', 'digest mismatch');

/**
 * How we close a connection whose response is complete. One shared error: Node's
 * destroy reads an error's stack, which is formatted once here, not per check.
 * undici treats the code as informational (the request is done, nothing fails).
 */
const DONE = Object.assign(new Error('response complete'), { code: 'UND_ERR_INFO' });
/**
 * undici answers every completed `Connection: close` response with a new
 * InformationalError, made right after our onComplete returns and then
 * dropped (the socket is already closed by then). Capturing its stack trace is
 * about a tenth of a check's CPU, so onComplete turns capture off until the
 * next tick. That tick is queued before the socket's close events: the window
 * is the rest of undici's parser callback and the ticks already queued (Node's
 * stream internals for this read). Not done where the limit is frozen (a
 * hardened realm), as Node itself checks.
 */
const stackLimitWritable = (() => {
  const d = Object.getOwnPropertyDescriptor(Error, 'stackTraceLimit');
  return d !== undefined && d.writable === true && Object.isExtensible(Error);
})();
let savedStackLimit: number | undefined;
const restoreStackLimit = () => {
  if (savedStackLimit === undefined) return;
  Error.stackTraceLimit = savedStackLimit;
  savedStackLimit = undefined;
};
function noStackUntilNextTick(): void {
  if (!stackLimitWritable || savedStackLimit !== undefined) return;
  savedStackLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  process.nextTick(restoreStackLimit);
}

/** Why a response with an unwanted status is cut short (shared for the same reason). */
const UNWANTED = new Error('unwanted status');

interface PreparedUrl {
  url: UrlOptions;
  codes: [number, number][];
  digest?: string;
  regex?: RegExp;
  servername?: string;
  /** undici's request options, the same object on every attempt (undici only reads them). */
  request: Dispatcher.DispatchOptions;
}

/** A checker's undici Client and what its connector needs for the next connection. */
interface Conn {
  client: Client;
  /** The exchange the next (or current) connection belongs to. */
  exchange: Exchange | null;
  tls?: tls.ConnectionOptions;
}

interface Prepared {
  urls: PreparedUrl[];
  conn?: Conn;
}

export function httpCheck(): PollRunner {
  // Weak: a checker removed from the scheduler takes its client with it (an idle
  // client holds no socket: every request closes its connection).
  const prepared = new WeakMap<ResolvedChecker, Prepared>();
  const files = new Map<string, Buffer>();
  const file = (p: string) => {
    let b = files.get(p);
    if (!b) files.set(p, (b = readFileSync(p)));
    return b;
  };
  return {
    run(ctx: CheckContext): Promise<CheckResult> {
      const r = ctx.checker;
      let p = prepared.get(r);
      if (!p) prepared.set(r, (p = { urls: prepare(r) }));
      const ssl = r.type === 'SSL_GET';
      const o = r.options as HttpCheckOptions;
      const { urls } = p;
      // One url block (the usual case): no async function, no extra promise.
      if (urls.length === 1) return fetchOne(ctx, p, urls[0], ssl ? tlsOptions(o, urls[0], file) : undefined);
      return (async () => {
        for (const u of urls) {
          const res = await fetchOne(ctx, p, u, ssl ? tlsOptions(o, u, file) : undefined);
          if (!res.ok) return res;
        }
        return OK;
      })();
    },
    close() {
      files.clear();
    },
  };
}

function prepare(r: ResolvedChecker): PreparedUrl[] {
  const o = r.options as HttpCheckOptions;
  const c = r.connection!;
  const defPort = r.type === 'SSL_GET' ? 443 : 80;
  return o.url.map((url) => {
    const vhost = url.virtualhost ?? o.virtualhost ?? r.virtualhost;
    const name = vhost ?? (c.family === 6 ? `[${c.ip}]` : c.ip);
    const host = c.port === defPort ? name : `${name}:${c.port}`;
    const sni = vhost && !isIP(vhost) && o.enable_sni !== false ? vhost : undefined;
    return {
      url,
      codes: parseStatusCodes(url.status_code),
      digest: url.digest?.toLowerCase(),
      regex: url.regex !== undefined ? compileRegex(url) : undefined,
      servername: sni,
      // reset: undici sends `Connection: close` and never reuses the socket.
      request: { path: url.path, method: 'GET', headers: ['host', host, 'user-agent', 'KeepAliveClient'], reset: true },
    };
  });
}

function tlsOptions(o: HttpCheckOptions, u: PreparedUrl, file: (p: string) => Buffer): tls.ConnectionOptions {
  const s = o.ssl ?? {};
  return {
    // keepalived never verifies the server certificate; `ssl.verify` asks for it.
    rejectUnauthorized: s.verify === true,
    servername: u.servername,
    ca: s.ca ? file(s.ca) : undefined,
    cert: s.certificate ? file(s.certificate) : undefined,
    key: s.key ? file(s.key) : undefined,
    passphrase: s.password,
    ALPNProtocols: ['http/1.1'],
  };
}

function newClient(c: EffectiveConnection, ssl: boolean): Conn {
  const origin = `${ssl ? 'https' : 'http'}://${c.family === 6 ? `[${c.ip}]` : c.ip}:${c.port}`;
  const conn: Conn = {
    exchange: null,
    client: new UndiciClient(origin, {
      pipelining: 1,
      // The attempt's deadline covers the whole exchange; undici's own timers
      // (armed and cleared for every request) would only duplicate it.
      headersTimeout: 0,
      bodyTimeout: 0,
      connect: (_opts, cb) => {
        const x = conn.exchange;
        if (!x || x.done) return process.nextTick(cb, new Error('no attempt'), null);
        if (conn.tls) {
          // TLS: handed over once the handshake is done, so its errors are the connect's.
          connectTcp(c, x.ctx.signal, conn.tls).then(
            (s) => {
              x.socket = s;
              cb(null, s);
            },
            (e: Error) => cb(e, null),
          );
          return;
        }
        // Plain HTTP: handed over while connecting (on the next tick: undici
        // ignores a connector that answers synchronously). undici writes the
        // request, which Node sends once connected; a failed connect fails the
        // request with the socket's error (refused, unreachable).
        let s: Socket;
        try {
          s = startTcp(c);
        } catch (e) {
          return process.nextTick(cb, e as Error, null);
        }
        x.socket = s;
        process.nextTick(cb, null, s);
      },
    }),
  };
  return conn;
}

/**
 * One url block's exchange: the request's handler (undici's own handler
 * interface, called as methods) and the attempt's result.
 */
class Exchange {
  done = false;
  aborted = false;
  socket: Socket | null = null;
  private abortRequest: ((err?: Error) => void) | null = null;
  private md5?: Hash;
  private kept?: Buffer[];
  private size = 0;
  resolve!: (r: CheckResult) => void;

  constructor(
    readonly ctx: CheckContext,
    readonly p: Prepared,
    readonly u: PreparedUrl,
  ) {
    if (u.digest) this.md5 = createHash('md5');
    if (u.regex) this.kept = [];
  }

  finish(r: CheckResult): void {
    if (this.done) return;
    this.done = true;
    if (this.p.conn?.exchange === this) this.p.conn.exchange = null;
    this.resolve(r);
  }

  /** The attempt's deadline (or stop): the connection and the client go. */
  onDeadline(): void {
    if (this.done) return;
    this.aborted = true;
    this.finish(TIMEOUT);
    const conn = this.p.conn;
    // An aborted exchange can leave the client mid-request: start afresh next time.
    if (conn) {
      this.p.conn = undefined;
      conn.client.destroy().catch(() => {});
    }
    this.socket?.destroy();
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortRequest = abort;
  }

  onHeaders(statusCode: number): boolean {
    if (statusCode < 200) return true; // 1xx: the real answer follows
    const codes = this.u.codes;
    for (let i = 0; i < codes.length; i++) if (statusCode >= codes[i][0] && statusCode <= codes[i][1]) return true;
    this.finish(failure('status', `status ${statusCode}`));
    this.abortRequest?.(UNWANTED);
    return false;
  }

  onData(chunk: Buffer): boolean {
    this.md5?.update(chunk);
    if (this.kept && this.size < REGEX_LIMIT) this.kept.push(chunk);
    this.size += chunk.length;
    return true;
  }

  onComplete(): void {
    // Called before undici closes the connection itself (see DONE).
    noStackUntilNextTick();
    this.socket?.destroy(DONE);
    const u = this.u;
    if (this.md5 && this.md5.digest('hex') !== u.digest) return this.finish(DIGEST_MISMATCH);
    if (this.kept && searchRegex(u, Buffer.concat(this.kept)) === !!u.url.regex_no_match) {
      return this.finish(failure('regex', u.url.regex_no_match ? 'regex match' : 'regex miss'));
    }
    this.finish(OK);
  }

  onError(err: Error): void {
    this.finish(this.aborted ? TIMEOUT : errorToResult(err));
  }
}

function fetchOne(ctx: CheckContext, p: Prepared, u: PreparedUrl, tlsOpts: tls.ConnectionOptions | undefined): Promise<CheckResult> {
  return new Promise<CheckResult>((resolve) => {
    const x = new Exchange(ctx, p, u);
    x.resolve = resolve;
    const onDeadline = () => x.onDeadline();
    if (ctx.onAbort) ctx.onAbort(onDeadline);
    else {
      const { signal } = ctx;
      if (signal.aborted) return onDeadline();
      signal.addEventListener('abort', onDeadline, { once: true });
      const resolveOnce = resolve;
      x.resolve = (r) => {
        signal.removeEventListener('abort', onDeadline);
        resolveOnce(r);
      };
    }
    if (x.done) return;
    let conn = p.conn;
    if (!conn || conn.client.destroyed || conn.client.closed) conn = p.conn = newClient(ctx.checker.connection!, !!tlsOpts);
    conn.exchange = x;
    conn.tls = tlsOpts;
    try {
      conn.client.dispatch(u.request, x as unknown as Dispatcher.DispatchHandler);
    } catch (e) {
      x.finish(errorToResult(e));
    }
  });
}

function searchRegex(u: PreparedUrl, body: Buffer): boolean {
  const re = u.regex!;
  const text = body.toString(re.unicode ? 'utf8' : 'latin1');
  const min = u.url.regex_min_offset ?? 0;
  const m = re.exec(text.slice(min));
  if (!m) return false;
  return u.url.regex_max_offset === undefined || m.index + min <= u.url.regex_max_offset;
}

export { genhash } from './genhash.js';
