import { describe, expect, it } from 'vitest';
import { AttrDecodeError, LvsdError, NetlinkSocket, RawSocket, nlmsg } from '@lvsd/native';

const hdr = (len: number, type: number, flags: number, seq: number) => {
  const b = Buffer.alloc(16);
  b.writeUInt32LE(len, 0);
  b.writeUInt16LE(type, 4);
  b.writeUInt16LE(flags, 6);
  b.writeUInt32LE(seq, 8);
  return b;
};

/** An NLMSG_ERROR whose payload is too short to hold the errno and the echoed header. */
const shortAck = (seq: number) => Buffer.concat([hdr(24, nlmsg.NLMSG_ERROR, 0, seq), Buffer.alloc(8)]);

describe('malformed netlink input', () => {
  it('framing and ack errors are typed (AttrDecodeError, LVSD_ERR_NETLINK_DECODE)', () => {
    const b = hdr(64, nlmsg.NLMSG_DONE, 0, 1);
    expect(() => nlmsg.parseMessages(b)).toThrow(AttrDecodeError);
    const [m] = nlmsg.parseMessages(shortAck(5));
    expect(() => nlmsg.parseAck(m)).toThrow(AttrDecodeError);
  });

  it('a reply that does not decode fails its batch with the typed error instead of throwing out of the receive path', async () => {
    const s = NetlinkSocket.open(0); // NETLINK_ROUTE: no privilege needed; nothing is sent
    try {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const priv = s as any;
      const done: Promise<unknown> = priv.expectBatch(100, 2, ['a', 'b'], {});
      expect(() => priv.onDatagram(shortAck(101))).not.toThrow();
      await expect(done).rejects.toMatchObject({ code: 'LVSD_ERR_NETLINK_DECODE' });
      expect(priv.pending.size).toBe(0);
    } finally {
      s.close();
    }
  });
});

describe('a network namespace that does not exist', () => {
  const path = '/var/run/netns/lvsd-test-no-such-netns';
  it('gives an LvsdError with the positive errno, for netlink and raw sockets alike', () => {
    for (const open of [() => NetlinkSocket.open(0, { netns: path }), () => new RawSocket(2, 2, 0, { netns: path })]) {
      let err: unknown;
      try {
        open();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(LvsdError);
      expect(err).toMatchObject({ code: 'LVSD_ERR_SYSCALL', errno: 2, errnoName: 'ENOENT', object: path });
    }
  });
});

describe('close() while a blocking send runs off the event loop', () => {
  it('keeps the fd open until that send has finished, then closes it', async () => {
    const { fstatSync } = await import('node:fs');
    const s = NetlinkSocket.open(0); // NETLINK_ROUTE
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const fd: number = (s as any).fd;
    // RTM_GETLINK for no interface: the kernel answers with an error, which does not matter here.
    const send = s.sendBlocking({ type: 18, body: (w) => w.bytes(Buffer.alloc(16)) });
    s.close();
    // The send's worker may be writing on the fd now: its number must not be free for reuse.
    expect(() => fstatSync(fd)).not.toThrow();
    await expect(send).rejects.toMatchObject({ code: 'LVSD_ERR_CLOSED' });
    expect(() => fstatSync(fd)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });
});
