// HTTP_GET and SSL_GET on undici: every url block is fetched on a fresh
// connection (as keepalived does: `Connection: close`), and checked for status
// code, MD5 digest of the body and regex. Each checker keeps one undici Client
// (building one per attempt costs more than the check); its connector makes
// the socket itself and binds the connect to the running attempt's AbortSignal,
// so a connect that hangs (SYN dropped) is torn down at the deadline instead of
// lingering until the kernel gives up.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type tls from 'node:tls';
import type { Client, Dispatcher } from 'undici';
import UndiciClient from 'undici/lib/dispatcher/client.js';
import { compileRegex, parseStatusCodes, type ResolvedChecker } from '../options.js';
import type { CheckContext, PollRunner } from '../runner.js';
import type { CheckResult, HttpCheckOptions, UrlOptions } from '../types.js';
import { connectTcp, errorToResult, failure } from './net.js';

/** Most of a body kept for a regex (keepalived reads at most its buffer too). */
const REGEX_LIMIT = 4 << 20;

interface PreparedUrl {
  url: UrlOptions;
  codes: [number, number][];
  digest?: string;
  regex?: RegExp;
  host: string;
  servername?: string;
}

interface CheckerClient {
  client: Client;
  /** The attempt the next connect belongs to. */
  signal: AbortSignal;
  tls?: tls.ConnectionOptions;
}

export function httpCheck(): PollRunner {
  const prepared = new WeakMap<ResolvedChecker, PreparedUrl[]>();
  // Weak: a checker removed from the scheduler takes its client with it (an idle
  // client holds no socket: every request closes its connection).
  const clients = new WeakMap<ResolvedChecker, CheckerClient>();
  const files = new Map<string, Buffer>();
  const file = (p: string) => {
    let b = files.get(p);
    if (!b) files.set(p, (b = readFileSync(p)));
    return b;
  };
  return {
    async run(ctx: CheckContext): Promise<CheckResult> {
      const r = ctx.checker;
      let urls = prepared.get(r);
      if (!urls) prepared.set(r, (urls = prepare(r)));
      const o = r.options as HttpCheckOptions;
      const ssl = r.type === 'SSL_GET';
      for (const u of urls) {
        const res = await fetchOne(ctx, u, ssl ? tlsOptions(o, u, file) : undefined, clients);
        if (!res.ok) return res;
      }
      return { ok: true };
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
      host,
      servername: sni,
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

async function fetchOne(
  ctx: CheckContext,
  u: PreparedUrl,
  tlsOpts: tls.ConnectionOptions | undefined,
  clients: WeakMap<ResolvedChecker, CheckerClient>,
): Promise<CheckResult> {
  const { signal } = ctx;
  const conn = ctx.checker.connection!;
  let cc = clients.get(ctx.checker);
  if (!cc || cc.client.destroyed || cc.client.closed) {
    const origin = `${tlsOpts ? 'https' : 'http'}://${conn.family === 6 ? `[${conn.ip}]` : conn.ip}:${conn.port}`;
    const holder: CheckerClient = {
      signal,
      client: new UndiciClient(origin, {
        pipelining: 1,
        connect: (_opts, cb) => {
          connectTcp(conn, holder.signal, holder.tls).then(
            (s) => cb(null, s),
            (e: Error) => cb(e, null),
          );
        },
      }),
    };
    cc = holder;
    clients.set(ctx.checker, cc);
  }
  cc.signal = signal;
  cc.tls = tlsOpts;
  const client = cc.client;
  // undici's dispatch API rather than request(): no body stream, no promise per
  // chunk; the response is judged as it arrives.
  return new Promise<CheckResult>((resolve) => {
    let done = false;
    let ctrl: Dispatcher.DispatchController | undefined;
    const md5 = u.digest ? createHash('md5') : undefined;
    const kept: Buffer[] | undefined = u.regex ? [] : undefined;
    let size = 0;
    const finish = (r: CheckResult) => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      resolve(r);
    };
    const onAbort = () => {
      finish(errorToResult(undefined, signal));
      // An aborted exchange can leave the client mid-request: start afresh next time.
      clients.delete(ctx.checker);
      ctrl?.abort(new Error('aborted'));
      client.destroy().catch(() => {});
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      client.dispatch(
        { path: u.url.path, method: 'GET', headers: { host: u.host, 'user-agent': 'KeepAliveClient' }, reset: true },
        {
          onRequestStart(c) {
            ctrl = c;
          },
          onResponseStart(c, statusCode) {
            if (statusCode < 200) return; // 1xx: the real answer follows
            if (!u.codes.some(([lo, hi]) => statusCode >= lo && statusCode <= hi)) {
              finish(failure('status', `status ${statusCode}`));
              c.abort(new Error('unwanted status'));
            }
          },
          onResponseData(_c, chunk) {
            md5?.update(chunk);
            if (kept && size < REGEX_LIMIT) kept.push(chunk);
            size += chunk.length;
          },
          onResponseEnd() {
            if (md5 && md5.digest('hex') !== u.digest) return finish(failure('digest', 'digest mismatch'));
            if (u.regex && kept) {
              const found = searchRegex(u, Buffer.concat(kept));
              if (found === !!u.url.regex_no_match) return finish(failure('regex', u.url.regex_no_match ? 'regex match' : 'regex miss'));
            }
            finish({ ok: true });
          },
          onResponseError(_c, err) {
            finish(errorToResult(err, signal));
          },
        },
      );
    } catch (e) {
      finish(errorToResult(e, signal));
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
