// The periodic sender keeps its cadence while the JS event loop is blocked:
// this is what keeps a VRRP master's adverts flowing through a GC pause.
import { describe, expect, it } from 'vitest';
import { RawSocket, consts, decodeSockaddr, sockaddrIn } from '@lvsd/native';

describe('PeriodicSender', () => {
  it('sends on time through a 500 ms event-loop stall', async () => {
    const rx = new RawSocket(consts.AF_INET, consts.SOCK_DGRAM, consts.IPPROTO_UDP);
    const tx = new RawSocket(consts.AF_INET, consts.SOCK_DGRAM, consts.IPPROTO_UDP);
    try {
      rx.bind(sockaddrIn('127.0.0.1', 0));
      const addr = rx.localAddress();
      expect(decodeSockaddr(addr)).toMatchObject({ family: 4, address: '127.0.0.1' });
      const sender = tx.startPeriodic(Buffer.from('advert'), [addr], 20);
      const t0 = Date.now();
      while (Date.now() - t0 < 500) {
        /* a blocked event loop */
      }
      sender.stop(); // joins the thread: nothing is sent after this
      const got = rx.drain(1000);
      // 500 ms / 20 ms = 25 sends; allow scheduling slack but not a stall.
      expect(got.length).toBeGreaterThanOrEqual(20);
      expect(got[0].data.toString()).toBe('advert');
      expect(sender.stats().sent).toBe(got.length);
    } finally {
      rx.close();
      tx.close();
    }
  });
});
