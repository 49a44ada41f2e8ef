// One million mutated and random datagrams through the receive path: nothing may
// throw, and every datagram is either accepted or counted under a drop reason.
import { describe, expect, it } from 'vitest';
import { ipToBytes } from '@lvsd/native';
import { AUTH_NONE, AUTH_PASS, checkDatagram, dropCounters, DROP_REASONS, type ReceiveConfig } from '@lvsd/vrrp';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const SEEDS4 = [
  hex('45c0 002c 0001 0000 ff70 d084 0a09 0001 e000 0012 2133 9602 0101 c56f 0a09 0064 0a09 0065 7365 6372 6574 3132'),
  hex('45c0 0020 0001 0000 ff70 d090 0a09 0001 e000 0012 3134 7801 0032 6190 0a09 0066'),
];
const SEED6 = hex('3135 6e01 0064 6445 fd00 0000 0000 0000 0000 0000 0000 0100');

// xorshift32: deterministic, so a failure can be replayed
let state = 0x9e3779b9;
const rnd = () => {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return state >>> 0;
};

function mutate(seed: Buffer): Buffer {
  const kind = rnd() % 4;
  if (kind === 0) {
    // truncate or extend
    const n = rnd() % (seed.length + 24);
    const b = Buffer.alloc(n);
    seed.copy(b, 0, 0, Math.min(n, seed.length));
    for (let i = seed.length; i < n; i++) b[i] = rnd() & 0xff;
    return b;
  }
  const b = Buffer.from(seed);
  const flips = 1 + (rnd() % (kind === 1 ? 1 : 6));
  for (let i = 0; i < flips; i++) b[rnd() % b.length] = rnd() & 0xff;
  return b;
}

function random(): Buffer {
  const b = Buffer.alloc(rnd() % 96);
  for (let i = 0; i < b.length; i++) b[i] = rnd() & 0xff;
  // half of them look like IPv4 so the VRRP decoder behind the IP parser is reached
  if (b.length > 0 && rnd() & 1) b[0] = 0x45;
  return b;
}

const cfg4: ReceiveConfig = {
  version: 2,
  family: 4,
  vrid: 51,
  ifindex: 3,
  priority: 100,
  advertIntCs: 100,
  authType: AUTH_PASS,
  authData: Buffer.from('secret12'),
  vips: [ipToBytes('10.9.0.100'), ipToBytes('10.9.0.101')],
  unicastPeers: new Set(),
  checkUnicastSrc: false,
  ownAddresses: new Set(),
};
const cfg6: ReceiveConfig = { ...cfg4, version: 3, family: 6, vrid: 53, authType: AUTH_NONE, vips: [ipToBytes('fd00::100')] };
const src6 = ipToBytes('fe80::1');
const dst6 = ipToBytes('ff02::12');

describe('decoder fuzz', () => {
  it('1,000,000 mutated and random datagrams: no exception escapes, every drop is counted', () => {
    const drops = dropCounters();
    let accepted = 0;
    const N = 1_000_000;
    for (let i = 0; i < N; i++) {
      const pick = i % 5;
      const r =
        pick === 4
          ? checkDatagram({ family: 6, data: mutate(SEED6), src: src6, dst: dst6, hopLimit: rnd() & 1 ? 255 : rnd() & 0xff, ifindex: 3 }, cfg6)
          : checkDatagram({ family: 4, data: pick === 3 ? random() : mutate(SEEDS4[pick & 1]), ifindex: 3 }, pick === 1 ? { ...cfg4, version: 3, vrid: 52, authType: AUTH_NONE, advertIntCs: 50, vips: [ipToBytes('10.9.0.102')] } : cfg4);
      if (r.ok) accepted++;
      else drops[r.reason]++;
    }
    const dropped = DROP_REASONS.reduce((n, k) => n + drops[k], 0);
    expect(accepted + dropped).toBe(N);
    // the mix reaches the deep checks, not only the first one
    for (const k of ['malformed', 'ttl', 'version', 'length', 'type', 'checksum', 'vrid', 'authType', 'authFailure'] as const) {
      expect(drops[k], k).toBeGreaterThan(0);
    }
    expect(accepted).toBeGreaterThan(0);
  }, 60_000); // about 1.5 s on an idle machine
});
