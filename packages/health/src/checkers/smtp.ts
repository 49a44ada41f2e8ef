// SMTP_CHECK: banner 220, HELO <helo_name> answered 250, then QUIT.
import type { PollRunner } from '../runner.js';
import type { CheckResult, SmtpCheckOptions } from '../types.js';
import { connectTcp, errorToResult, failure, readLines } from './net.js';

const DEFAULT_HELO = 'smtpchecker.keepalived.org';
// The last line of a (possibly multi-line) reply: "250 ok", not "250-PIPELINING".
const lastLine = (l: string) => /^\d{3}(?: |$)/.test(l);

export const smtpCheck: PollRunner = {
  async run({ checker, signal }): Promise<CheckResult> {
    const o = checker.options as SmtpCheckOptions;
    let sock;
    try {
      sock = await connectTcp(checker.connection!, signal);
    } catch (e) {
      return errorToResult(e, signal);
    }
    try {
      const banner = await readLines(sock, signal, lastLine);
      if (!banner.startsWith('220')) return failure('protocol', `smtp banner ${banner.slice(0, 3) || 'empty'}`);
      sock.write(`HELO ${o.helo_name ?? DEFAULT_HELO}\r\n`);
      const helo = await readLines(sock, signal, lastLine);
      if (!helo.startsWith('250')) return failure('protocol', `smtp HELO ${helo.slice(0, 3) || 'empty'}`);
      sock.write('QUIT\r\n');
      // keepalived reads one more line; a server that just closes is fine too.
      await readLines(sock, signal, lastLine).catch(() => '');
      return { ok: true };
    } catch (e) {
      return errorToResult(e, signal);
    } finally {
      sock.destroy();
    }
  },
};
