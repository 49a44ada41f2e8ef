import { describe, expect, it } from 'vitest';
import { RawSocket, sockaddrIn } from '@lvsd/native';

// A UDP socket on loopback stands in for the VRRP socket: the sender only moves bytes.
const udp = () => {
  const s = new RawSocket(2, 2, 0); // AF_INET, SOCK_DGRAM
  s.bind(sockaddrIn('127.0.0.1', 0));
  return s;
};

describe('RawSocket.startPeriodic', () => {
  it('refuses an interval that is not a positive number instead of sending flat out', () => {
    const s = udp();
    try {
      for (const bad of [0, -1, NaN, Infinity, 0.0001]) {
        expect(() => s.startPeriodic(Buffer.from('x'), [sockaddrIn('127.0.0.1', 9)], bad)).toThrow(
          expect.objectContaining({ code: 'LVSD_ERR_INVALID_ARG' }),
        );
      }
      const p = s.startPeriodic(Buffer.from('x'), [sockaddrIn('127.0.0.1', 9)], 1000);
      expect(() => p.update(Buffer.from('y'), 0)).toThrow(expect.objectContaining({ code: 'LVSD_ERR_INVALID_ARG' }));
      p.stop();
    } finally {
      s.close();
    }
  });
});
