// Real UDP peers on loopback (no root): an echo server, a DNS responder, closed ports.
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDnsQuery } from '@lvsd/health';
import { runOnce } from './helpers.js';

const sockets: dgram.Socket[] = [];
afterAll(() => sockets.forEach((s) => s.close()));

function udpServer(onMsg: (msg: Buffer, reply: (b: Buffer) => void) => void, type: 'udp4' | 'udp6' = 'udp4'): Promise<number> {
  const s = dgram.createSocket(type);
  sockets.push(s);
  s.on('message', (m, rinfo) => onMsg(m, (b) => s.send(b, rinfo.port, rinfo.address)));
  return new Promise((r) => s.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', () => r(s.address().port)));
}

async function closedUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  const p = await new Promise<number>((r) => s.bind(0, '127.0.0.1', () => r(s.address().port)));
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

describe('UDP_CHECK on loopback', () => {
  let echo = 0;
  let silent = 0;
  const got: Buffer[] = [];
  beforeAll(async () => {
    echo = await udpServer((m, reply) => (got.push(m), reply(Buffer.concat([Buffer.from('OK:'), m]))));
    silent = await udpServer(() => {});
  });

  it('sends the payload and accepts a reply matching require_reply (x = any nibble)', async () => {
    expect(await runOnce({ checker: 'UDP_CHECK', payload: '70 69 6e 67', require_reply: '4f 4b 3a 7X' }, { address: '127.0.0.1', port: echo })).toMatchObject({ ok: true });
    expect(got.at(-1)!.toString()).toBe('ping');
    expect(await runOnce({ checker: 'UDP_CHECK', payload: '70', require_reply: '4f 4c' }, { address: '127.0.0.1', port: echo })).toMatchObject({ ok: false, code: 'reply' });
    expect(await runOnce({ checker: 'UDP_CHECK', payload: '70', require_reply: true, max_reply_length: 2 }, { address: '127.0.0.1', port: echo })).toMatchObject({ ok: false, code: 'reply' });
  });

  it('a closed port (ICMP port unreachable) is down at once', async () => {
    const r = await runOnce({ checker: 'UDP_CHECK', require_reply: true }, { address: '127.0.0.1', port: await closedUdpPort() }, 2000);
    expect(r).toMatchObject({ ok: false, code: 'refused' });
    expect(r.ms).toBeLessThan(500);
    expect(await runOnce({ checker: 'UDP_CHECK' }, { address: '127.0.0.1', port: await closedUdpPort() }, 2000)).toMatchObject({ ok: false, code: 'refused' });
  });

  it('a silent server: down with require_reply, up without (no ICMP error until the deadline)', async () => {
    expect(await runOnce({ checker: 'UDP_CHECK', require_reply: true }, { address: '127.0.0.1', port: silent }, 300)).toMatchObject({ ok: false, code: 'timeout' });
    const r = await runOnce({ checker: 'UDP_CHECK' }, { address: '127.0.0.1', port: silent }, 300);
    expect(r).toMatchObject({ ok: true });
    expect(r.ms).toBeGreaterThan(250);
  });

  it('IPv6', async () => {
    const p6 = await udpServer((m, reply) => reply(m), 'udp6');
    expect(await runOnce({ checker: 'UDP_CHECK', require_reply: true }, { address: '::1', port: p6 })).toMatchObject({ ok: true });
  });
});

describe('DNS_CHECK against a small responder on loopback', () => {
  let port = 0;
  let rcode = 0;
  let mute = false;
  const queries: { name: string; type: number; rd: boolean }[] = [];
  beforeAll(async () => {
    port = await udpServer((q, reply) => {
      // parse the question
      let o = 12;
      const labels: string[] = [];
      while (q[o]) {
        labels.push(q.subarray(o + 1, o + 1 + q[o]).toString());
        o += 1 + q[o];
      }
      const type = q.readUInt16BE(o + 1);
      queries.push({ name: labels.join('.') || '.', type, rd: !!(q[2] & 1) });
      if (mute) return;
      const r = Buffer.from(q.subarray(0, o + 5));
      r[2] = 0x81; // QR, RD
      r[3] = 0x80 | rcode; // RA
      // a stray answer with another id first: must be ignored
      const stray = Buffer.from(r);
      stray.writeUInt16BE((r.readUInt16BE(0) + 1) & 0xffff, 0);
      stray[3] = 0x80 | 2;
      reply(stray);
      reply(r);
    });
  });

  it('SOA for the root by default; type and name when given', async () => {
    expect(await runOnce({ checker: 'DNS_CHECK' }, { address: '127.0.0.1', port })).toMatchObject({ ok: true });
    expect(queries.at(-1)).toEqual({ name: '.', type: 6, rd: true });
    expect(await runOnce({ checker: 'DNS_CHECK', type: 'AAAA', name: 'www.example.test' }, { address: '127.0.0.1', port })).toMatchObject({ ok: true });
    expect(queries.at(-1)).toEqual({ name: 'www.example.test', type: 28, rd: true });
  });

  it('an error RCODE, silence and a closed port are failures', async () => {
    rcode = 2;
    expect(await runOnce({ checker: 'DNS_CHECK' }, { address: '127.0.0.1', port })).toMatchObject({ ok: false, code: 'rcode', reason: 'dns rcode 2' });
    rcode = 0;
    mute = true;
    expect(await runOnce({ checker: 'DNS_CHECK' }, { address: '127.0.0.1', port }, 300)).toMatchObject({ ok: false, code: 'timeout' });
    mute = false;
    expect(await runOnce({ checker: 'DNS_CHECK' }, { address: '127.0.0.1', port: await closedUdpPort() })).toMatchObject({ ok: false, code: 'refused' });
  });

  it('builds the query keepalived sends', () => {
    expect(buildDnsQuery(0x1234, 'a.bc', 'A').toString('hex')).toBe('123401000001000000000000' + '01610262630000010001');
  });
});
