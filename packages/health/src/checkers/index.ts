import type { CheckRunner, PollRunner } from '../runner.js';
import type { CheckerType } from '../types.js';
import { dnsCheck } from './dns.js';
import { fileCheck } from './file.js';
import { miscCheck } from './misc.js';
import { pingCheck } from './ping.js';
import { smtpCheck } from './smtp.js';
import { tcpCheck } from './tcp.js';
import { udpCheck } from './udp.js';

/**
 * HTTP_GET / SSL_GET, loaded on first use: undici is most of a start-up in the lab,
 * and a director without HTTP checks should not pay for it.
 */
function lazyHttpCheck(): PollRunner {
  let loading: Promise<PollRunner> | undefined;
  let loaded: PollRunner | undefined;
  const load = () => (loading ??= import('./http.js').then((m) => (loaded = m.httpCheck())));
  return {
    run(ctx) {
      // Not async once loaded: an async wrapper would add a promise per check.
      return loaded ? loaded.run(ctx) : load().then((r) => r.run(ctx));
    },
    async load() {
      await load();
    },
    close() {
      loaded?.close?.();
    },
  };
}

/** A fresh set of the built-in checkers (some keep sockets and caches: one set per scheduler). */
export function defaultRunners(): Record<CheckerType, CheckRunner> {
  const http = lazyHttpCheck();
  return {
    TCP_CHECK: tcpCheck,
    HTTP_GET: http,
    SSL_GET: http,
    PING_CHECK: pingCheck(),
    UDP_CHECK: udpCheck(),
    DNS_CHECK: dnsCheck,
    SMTP_CHECK: smtpCheck,
    MISC_CHECK: miscCheck(),
    FILE_CHECK: fileCheck(),
  };
}
