// DNS_CHECK: one query (`type`, default SOA, for `name`, default the root) over
// UDP; the server is up when it answers with the query's id and RCODE 0.
import { randomInt } from 'node:crypto';
import type { PollRunner } from '../runner.js';
import type { CheckResult, DnsCheckOptions, DnsType } from '../types.js';
import { exchange } from './dgram.js';
import { failure } from './net.js';

export const DNS_TYPES: Record<DnsType, number> = { A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28 };

export function buildDnsQuery(id: number, name: string, type: DnsType): Buffer {
  const labels = name
    .replace(/\.$/, '')
    .split('.')
    .filter(Boolean)
    .map((l) => Buffer.from(l, 'ascii'));
  if (labels.some((l) => l.length > 63)) throw new Error(`DNS label too long in ${name}`);
  const q = Buffer.alloc(12 + labels.reduce((s, l) => s + 1 + l.length, 0) + 1 + 4);
  q.writeUInt16BE(id, 0);
  q.writeUInt16BE(0x0100, 2); // RD, as keepalived
  q.writeUInt16BE(1, 4); // QDCOUNT
  let o = 12;
  for (const l of labels) {
    q[o++] = l.length;
    l.copy(q, o);
    o += l.length;
  }
  q[o++] = 0;
  q.writeUInt16BE(DNS_TYPES[type], o);
  q.writeUInt16BE(1, o + 2); // IN
  return q;
}

export const dnsCheck: PollRunner = {
  run({ checker, signal }) {
    const o = checker.options as DnsCheckOptions;
    const id = randomInt(0x10000);
    const query = buildDnsQuery(id, o.name ?? '.', o.type ?? 'SOA');
    return exchange(checker.connection!, query, signal, {
      onReply(r): CheckResult | undefined {
        // Like keepalived: ignore what is not the answer to this query.
        if (r.length < 12 || r.readUInt16BE(0) !== id || !(r[2] & 0x80)) return undefined;
        const rcode = r[3] & 0x0f;
        return rcode === 0 ? { ok: true } : failure('rcode', `dns rcode ${rcode}`);
      },
      onTimeout: () => failure('timeout'),
    });
  },
};
