// One connected datagram exchange over a native socket (UDP_CHECK, DNS_CHECK):
// SO_MARK, bind and network namespace applied; an ICMP port unreachable shows up
// as ECONNREFUSED on the connected socket.
import { consts, RawSocket, sockaddrIn, type LvsdError } from '@lvsd/native';
import type { EffectiveConnection } from '../options.js';
import type { CheckResult } from '../types.js';
import { errorToResult, netnsFd } from './net.js';

export interface Exchange {
  /** Looks at one reply: a verdict, or undefined to keep waiting. */
  onReply(data: Buffer): CheckResult | undefined;
  /** The verdict when the deadline passes without one. */
  onTimeout(): CheckResult;
}

export function exchange(c: EffectiveConnection, payload: Buffer, signal: AbortSignal, x: Exchange): Promise<CheckResult> {
  return new Promise((resolve) => {
    let sock: RawSocket;
    try {
      sock = new RawSocket(c.family === 6 ? consts.AF_INET6 : consts.AF_INET, consts.SOCK_DGRAM, consts.IPPROTO_UDP, c.netns ? { netns: netnsFd(c.netns) } : {});
    } catch (e) {
      return resolve(errorToResult(errnoish(e)));
    }
    let done = false;
    const finish = (r: CheckResult) => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      sock.close();
      resolve(r);
    };
    const onAbort = () => finish(x.onTimeout());
    try {
      if (c.fwmark !== undefined) sock.setOption(consts.SOL_SOCKET, consts.SO_MARK, c.fwmark);
      if (c.bindto !== undefined || c.bind_port !== undefined) sock.bind(sockaddrIn(c.bindto ?? (c.family === 6 ? '::' : '0.0.0.0'), c.bind_port ?? 0));
      sock.connect(sockaddrIn(c.ip, c.port));
      sock.on('message', (m) => {
        const r = x.onReply(m.data);
        if (r) finish(r);
      });
      sock.on('error', (e) => finish(errorToResult(errnoish(e))));
      sock.listen();
      signal.addEventListener('abort', onAbort, { once: true });
      sock.send(payload);
    } catch (e) {
      finish(errorToResult(errnoish(e)));
    }
  });
}

/** An LvsdError carrying an errno, as the errno code Node errors use. */
export function errnoish(e: unknown): unknown {
  const l = e as LvsdError;
  if (l && l.errnoName) return Object.assign(new Error(l.message), { code: l.errnoName });
  return e;
}
