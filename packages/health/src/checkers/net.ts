// Opening the check's connection and naming what went wrong. Plain
// net.connect when the options allow; a socket made by @lvsd/native (then
// handed to Node) when it needs SO_MARK or a network namespace, which Node's
// own sockets cannot do.
import { openSync, closeSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { consts, native, sockaddrIn } from '@lvsd/native';
import type { EffectiveConnection } from '../options.js';
import type { CheckResult, FailureCode } from '../types.js';

/** The abort reason the scheduler uses at an attempt's deadline. */
export const TIMEOUT_REASON = 'timeout';

export function failure(code: FailureCode, reason: string = code): CheckResult {
  return { ok: false, code, reason };
}

/** A socket / TLS / undici error as a check failure. */
export function errorToResult(e: unknown, signal?: AbortSignal): CheckResult {
  if (signal?.aborted) return failure('timeout');
  const err = e as NodeJS.ErrnoException & { code?: string };
  const code = err?.code ?? '';
  switch (code) {
    case 'ECONNREFUSED':
      return failure('refused');
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return failure('reset');
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
    case 'EADDRNOTAVAIL':
      return failure('unreachable', `unreachable (${code})`);
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ABORT_ERR':
    case 'UND_ERR_ABORTED':
      return failure('timeout');
  }
  if (/^ERR_TLS|^ERR_SSL|CERT|SELF_SIGNED|UNABLE_TO|HOSTNAME/.test(code)) return failure('tls', `tls: ${code}`);
  if (err?.cause) return errorToResult(err.cause, signal);
  return failure('error', err?.message ? `${code ? code + ': ' : ''}${err.message}` : String(e));
}

const nsFds = new Map<string, number>();
/** An fd for the namespace path, kept open for the process lifetime (one per namespace). */
export function netnsFd(path: string): number {
  let fd = nsFds.get(path);
  if (fd === undefined) {
    fd = openSync(path, 'r');
    nsFds.set(path, fd);
  }
  return fd;
}

export function closeNetnsFds(): void {
  for (const fd of nsFds.values()) closeSync(fd);
  nsFds.clear();
}

function needsNative(c: EffectiveConnection): boolean {
  return c.fwmark !== undefined || c.netns !== undefined;
}

/** An unconnected Node socket over a native one, with SO_MARK / bind / namespace applied. */
function nativeSocket(c: EffectiveConnection): net.Socket {
  const fd = native.socket(c.family === 6 ? consts.AF_INET6 : consts.AF_INET, consts.SOCK_STREAM, 0, c.netns ? netnsFd(c.netns) : undefined);
  try {
    if (c.fwmark !== undefined) native.setsockopt(fd, consts.SOL_SOCKET, consts.SO_MARK, c.fwmark);
    if (c.bindto !== undefined || c.bind_port !== undefined) {
      native.bind(fd, sockaddrIn(c.bindto ?? (c.family === 6 ? '::' : '0.0.0.0'), c.bind_port ?? 0));
    }
  } catch (e) {
    native.close(fd);
    throw e;
  }
  return new net.Socket({ fd, readable: true, writable: true });
}

const hostOf = (c: EffectiveConnection) => (c.bind_if && c.ip.startsWith('fe80') && !c.ip.includes('%') ? `${c.ip}%${c.bind_if}` : c.ip);

/**
 * Starts a TCP connection; returns the socket at once (connect in progress).
 * Callers listen for 'connect' / 'error' themselves.
 */
export function startTcp(c: EffectiveConnection): net.Socket {
  if (needsNative(c)) {
    const s = nativeSocket(c);
    s.connect({ host: hostOf(c), port: c.port });
    return s;
  }
  return net.connect({ host: hostOf(c), port: c.port, family: c.family, localAddress: c.bindto, localPort: c.bind_port });
}

/** Connects (and optionally starts TLS); rejects with the socket error, or on abort. */
export function connectTcp(c: EffectiveConnection, signal: AbortSignal, tlsOpts?: tls.ConnectionOptions): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    let sock: net.Socket;
    try {
      sock = startTcp(c);
    } catch (e) {
      return reject(e);
    }
    let out: net.Socket = sock;
    const onAbort = () => {
      out.destroy();
      reject(signal.reason);
    };
    const done = (e?: Error) => {
      signal.removeEventListener('abort', onAbort);
      out.removeListener('error', done);
      if (e) {
        out.destroy();
        reject(e);
      } else resolve(out);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    sock.once('error', done);
    if (!tlsOpts) {
      sock.once('connect', () => done());
      return;
    }
    sock.once('connect', () => {
      sock.removeListener('error', done);
      const t = tls.connect({ ...tlsOpts, socket: sock });
      out = t;
      t.once('error', done);
      t.once('secureConnect', () => done());
    });
  });
}

/** Reads CRLF-terminated lines from a socket until `want` returns a verdict. */
export function readLines(sock: net.Socket, signal: AbortSignal, want: (line: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const cleanup = () => {
      sock.removeListener('data', onData);
      sock.removeListener('error', onError);
      sock.removeListener('end', onEnd);
      signal.removeEventListener('abort', onAbort);
    };
    const onData = (d: Buffer) => {
      buf += d.toString('latin1');
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).replace(/\r$/, '');
        buf = buf.slice(i + 1);
        if (want(line)) {
          cleanup();
          return resolve(line);
        }
      }
      if (buf.length > 65536) {
        cleanup();
        reject(Object.assign(new Error('line too long'), { code: 'EPROTO' }));
      }
    };
    const onError = (e: Error) => (cleanup(), reject(e));
    const onEnd = () => (cleanup(), reject(Object.assign(new Error('connection closed by server'), { code: 'ECONNRESET' })));
    const onAbort = () => (cleanup(), reject(signal.reason));
    sock.on('data', onData);
    sock.once('error', onError);
    sock.once('end', onEnd);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
