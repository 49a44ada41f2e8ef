// TCP_CHECK: the server is up when a TCP connection to it completes.
import type { PollRunner } from '../runner.js';
import type { CheckResult } from '../types.js';
import { errorToResult, startTcp } from './net.js';

const OK: CheckResult = { ok: true };

export const tcpCheck: PollRunner = {
  run({ checker, signal }) {
    // Written against the socket's events rather than connectTcp's promise
    // chain: this is the hot path of a 10,000-server pool.
    return new Promise<CheckResult>((resolve) => {
      let sock: ReturnType<typeof startTcp>;
      try {
        sock = startTcp(checker.connection!);
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
  },
};
