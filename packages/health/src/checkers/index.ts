import type { CheckRunner } from '../runner.js';
import type { CheckerType } from '../types.js';
import { dnsCheck } from './dns.js';
import { fileCheck } from './file.js';
import { httpCheck } from './http.js';
import { miscCheck } from './misc.js';
import { pingCheck } from './ping.js';
import { smtpCheck } from './smtp.js';
import { tcpCheck } from './tcp.js';
import { udpCheck } from './udp.js';

/** A fresh set of the built-in checkers (some keep sockets and caches: one set per scheduler). */
export function defaultRunners(): Record<CheckerType, CheckRunner> {
  const http = httpCheck();
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
