// UDP_CHECK: send `payload`; an ICMP port unreachable means down. With
// `require_reply` a reply (matching the pattern, within the length bounds) is
// needed before connect_timeout; without it, silence until then is success.
import { randomBytes } from 'node:crypto';
import { parseHex, type ResolvedChecker } from '../options.js';
import type { PollRunner } from '../runner.js';
import type { CheckResult, UdpCheckOptions } from '../types.js';
import { exchange } from './dgram.js';
import { failure } from './net.js';

const OK: CheckResult = { ok: true };

export function udpCheck(): PollRunner {
  const cache = new WeakMap<ResolvedChecker, { payload?: Buffer; pattern?: { bytes: Buffer; mask: Buffer } }>();
  return {
    run({ checker, signal }) {
      const o = checker.options as UdpCheckOptions;
      let p = cache.get(checker);
      if (!p) {
        p = {
          payload: o.payload !== undefined ? parseHex(o.payload, false).bytes : undefined,
          pattern: typeof o.require_reply === 'string' ? parseHex(o.require_reply, true) : undefined,
        };
        cache.set(checker, p);
      }
      const pattern = p.pattern;
      const min = o.min_reply_length ?? 0;
      const max = o.max_reply_length ?? 255;
      const requireReply = o.require_reply !== undefined && o.require_reply !== false;
      return exchange(checker.connection!, p.payload ?? randomBytes(8), signal, {
        onReply(data) {
          if (!requireReply) return OK;
          if (data.length < min || data.length > max) return failure('reply', `reply length ${data.length} outside ${min}-${max}`);
          if (pattern) {
            const n = Math.min(data.length, pattern.bytes.length);
            for (let i = 0; i < n; i++) {
              if ((data[i] & pattern.mask[i]) !== (pattern.bytes[i] & pattern.mask[i])) return failure('reply', 'reply mismatch');
            }
          }
          return OK;
        },
        onTimeout: () => (requireReply ? failure('timeout', 'timeout (no reply)') : OK),
      });
    },
  };
}
