// The native netlink path against the host kernel's rtnetlink, inside a namespace
// of our own: batched acks per message, extended ack text, overrun recovery.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetlinkSocket, NetlinkOverrunError, consts, encodeAttrs, type Schema } from '@lvsd/native';

const ns = `lvsd-nl-${randomBytes(3).toString('hex')}`;
const nsPath = `/var/run/netns/${ns}`;
const ip = (...args: string[]) => execFileSync('ip', ['-n', ns, ...args], { encoding: 'utf8' });

const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const RTM_GETLINK = 18;
const RTNLGRP_LINK = 1;
const linkSchema: Schema = {
  ifname: { id: 3, type: 'string' },
  linkinfo: { id: 18, type: 'nested', nested: { kind: { id: 1, type: 'string' } } },
};
const ifinfomsg = (w: { u8(v: number): void; zeros(n: number): void }) => {
  w.u8(0);
  w.zeros(15);
};

describe.skipIf(process.getuid?.() !== 0)('NetlinkSocket (rtnetlink in a namespace)', () => {
  beforeAll(() => execFileSync('ip', ['netns', 'add', ns]));
  afterAll(() => execFileSync('ip', ['netns', 'del', ns]));

  it('opens the socket inside the namespace given by path', async () => {
    const s = NetlinkSocket.open(consts.NETLINK_ROUTE, { netns: nsPath });
    try {
      const links = await s.dump({ type: RTM_GETLINK, body: ifinfomsg });
      expect(links.length).toBe(1); // only lo lives in a fresh namespace
    } finally {
      s.close();
    }
  });

  it('answers each message of one batch on its own, in one sendmsg', async () => {
    const s = NetlinkSocket.open(consts.NETLINK_ROUTE, { netns: nsPath });
    try {
      const bridge = (name: string) => ({
        type: RTM_NEWLINK,
        flags: 0x400 | 0x200, // NLM_F_CREATE | NLM_F_EXCL
        object: { ifname: name },
        body: (w: any) => {
          ifinfomsg(w);
          encodeAttrs(w, linkSchema, { ifname: name, linkinfo: { kind: 'bridge' } });
        },
      });
      const before = s.counters.sendmsg;
      const res = await s.send([bridge('br-a'), bridge('br-a'), bridge('br-b')]);
      expect(s.counters.sendmsg - before).toBe(1);
      expect(res[0]).toBeNull();
      expect(res[1]?.errnoName).toBe('EEXIST');
      expect(res[1]?.index).toBe(1);
      expect(res[1]?.object).toEqual({ ifname: 'br-a' });
      expect(res[2]).toBeNull();
      expect(ip('-o', 'link', 'show')).toMatch(/br-b/);
    } finally {
      s.close();
    }
  });

  it('carries the kernel extended ack text', async () => {
    const s = NetlinkSocket.open(consts.NETLINK_ROUTE, { netns: nsPath });
    try {
      const [r] = await s.send([
        {
          type: RTM_NEWLINK,
          flags: 0x400,
          body: (w) => {
            ifinfomsg(w);
            encodeAttrs(w, linkSchema, { ifname: 'x0', linkinfo: { kind: 'no-such-kind' } });
          },
        },
      ]);
      expect(r?.errno).toBeGreaterThan(0);
      expect(r?.code).toBe('LVSD_ERR_NETLINK');
      expect(r?.extack ?? '').toMatch(/unknown|kind|not/i);
    } finally {
      s.close();
    }
  });

  it('survives ENOBUFS: reports an overrun and keeps working', async () => {
    const s = NetlinkSocket.open(consts.NETLINK_ROUTE, { netns: nsPath, rcvbuf: 4096, groups: [RTNLGRP_LINK] });
    try {
      const overruns: NetlinkOverrunError[] = [];
      s.on('overrun', (e) => overruns.push(e));
      s.on('message', () => {});
      // Fill the tiny queue before the poller runs: many link events from one `ip -batch`.
      const cmds = Array.from({ length: 200 }, (_, i) => `link add vb${i} type bridge`).join('\n');
      execFileSync('ip', ['-n', ns, '-batch', '-'], { input: cmds });
      s.listen();
      await new Promise((r) => setTimeout(r, 200));
      expect(overruns.length).toBeGreaterThan(0);
      expect(overruns[0].code).toBe('LVSD_ERR_NETLINK_OVERRUN');
      const links = await s.dump({ type: RTM_GETLINK, body: ifinfomsg });
      expect(links.length).toBeGreaterThanOrEqual(200);
    } finally {
      s.close();
    }
  });

  it('deletes and reports ENODEV for a missing link with the object named', async () => {
    const s = NetlinkSocket.open(consts.NETLINK_ROUTE, { netns: nsPath });
    try {
      const [r] = await s.send([
        {
          type: RTM_DELLINK,
          object: { ifname: 'nope0' },
          body: (w) => {
            ifinfomsg(w);
            encodeAttrs(w, linkSchema, { ifname: 'nope0' });
          },
        },
      ]);
      expect(r?.errnoName).toBe('ENODEV');
      expect(r?.object).toEqual({ ifname: 'nope0' });
    } finally {
      s.close();
    }
  });
});
