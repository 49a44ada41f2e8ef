// Golden bytes for every IPVS command body (genlmsghdr + attributes), checked by hand
// against include/uapi/linux/ip_vs.h, and the fast encoders held to the schema-driven
// ones. The kernel tests prove the kernel accepts them.
import { describe, expect, it } from 'vitest';
import { Writer } from '@lvsd/native';
import { encode, normalizeDestination, normalizeService, serviceKeyAttr, type DestinationSpec, type ServiceSpec } from '@lvsd/ipvs';
import { putDest, putServiceFull, putServiceKey, reference, serviceKeyWords } from '../../../packages/ipvs/src/codec.js';

const s = normalizeService({ protocol: 'tcp', address: '10.0.0.1', port: 80, scheduler: 'rr' });
const p = normalizeService({
  protocol: 'udp',
  address: '2001:db8::1',
  port: 53,
  scheduler: 'sh',
  schedulerFlags: ['sh-port'],
  persistenceTimeout: 300,
  persistenceNetmask: 64,
  persistenceEngine: 'sip',
  onePacket: true,
});
const f = normalizeService({ fwmark: 7, scheduler: 'mh' });
const d = normalizeDestination({ address: '192.0.2.10', weight: 5, upperThreshold: 100, lowerThreshold: 10, forwardingMethod: 'masq', port: 8080 }, s);
const t = normalizeDestination(
  { address: '2001:db8::10', forwardingMethod: 'tunnel', tunnelType: 'gue', tunnelPort: 6080, tunnelChecksum: 'remcsum', weight: 2 },
  s,
);
const k = serviceKeyAttr(s);
const kf = serviceKeyAttr(f);
const hex = (fn: (w: Writer) => void) => {
  const w = new Writer(16);
  fn(w);
  return w.take().toString('hex');
};
/** The same through a buffer that is not word aligned: forces the byte-at-a-time path. */
const hexUnaligned = (fn: (w: Writer) => void) => {
  const w = new Writer(16);
  w.buf = Buffer.from(new ArrayBuffer(8192), 1, 8000);
  fn(w);
  return w.take().toString('hex');
};

const golden: Record<string, [(w: Writer) => void, string]> = {
  'NEW_SERVICE tcp': [
    (w) => encode.newService(w, s),
    '010100005400018006000100020000000600020006000000140003000a000001000000000000000000000000060004000050000007000600727200000c00070000000000ffffffff080008000000000008000900ffffffff',
  ],
  'NEW_SERVICE udp6 persistent sh-port ops pe': [
    (w) => encode.newService(w, p),
    '010100005c000180060001000a00000006000200110000001400030020010db8000000000000000000000001060004000035000007000600736800000c00070015000000ffffffff080008002c010000080009004000000008000b0073697000',
  ],
  'NEW_SERVICE fwmark': [
    (w) => encode.newService(w, f),
    '010100003800018006000100020000000800050007000000070006006d6800000c00070000000000ffffffff080008000000000008000900ffffffff',
  ],
  SET_SERVICE: [
    (w) => encode.setService(w, s),
    '020100005400018006000100020000000600020006000000140003000a000001000000000000000000000000060004000050000007000600727200000c00070000000000ffffffff080008000000000008000900ffffffff',
  ],
  DEL_SERVICE: [(w) => encode.delService(w, s), '030100003000018006000100020000000600020006000000140003000a0000010000000000000000000000000600040000500000'],
  'GET_SERVICE dump': [(w) => encode.getService(w), '04010000'],
  'GET_SERVICE one': [(w) => encode.getService(w, f), '040100001400018006000100020000000800050007000000'],
  'NEW_DEST masq thresholds': [
    (w) => encode.newDest(w, k, d),
    '050100003000018006000100020000000600020006000000140003000a00000100000000000000000000000006000400005000004800028014000100c000020a000000000000000000000000060002001f900000080003000000000008000400050000000800050064000000080006000a00000006000b0002000000',
  ],
  'NEW_DEST gue tunnel, mixed family': [
    (w) => encode.newDest(w, k, t),
    '050100003000018006000100020000000600020006000000140003000a0000010000000000000000000000000600040000500000600002801400010020010db80000000000000000000000100600020000500000080003000200000008000400020000000800050000000000080006000000000006000b000a00000005000d000100000006000e0017c0000006000f0002000000',
  ],
  'SET_DEST on fwmark': [
    (w) => encode.setDest(w, kf, d),
    '0601000014000180060001000200000008000500070000004800028014000100c000020a000000000000000000000000060002001f900000080003000000000008000400050000000800050064000000080006000a00000006000b0002000000',
  ],
  DEL_DEST: [
    (w) => encode.delDest(w, k, d),
    '070100003000018006000100020000000600020006000000140003000a00000100000000000000000000000006000400005000002800028014000100c000020a000000000000000000000000060002001f90000006000b0002000000',
  ],
  GET_DEST: [(w) => encode.getDest(w, k), '080100003000018006000100020000000600020006000000140003000a0000010000000000000000000000000600040000500000'],
  NEW_DAEMON: [
    (w) => encode.newDaemon(w, { state: 'backup', interface: 'eth0', syncId: 9, mcastGroup: '239.1.2.3', mcastPort: 8849, mcastTtl: 2, syncMaxlen: 1400 }),
    '090100004000038008000100020000000900020065746830000000000800030009000000060004007805000008000500ef01020306000700912200000500080002000000',
  ],
  DEL_DAEMON: [(w) => encode.delDaemon(w, 'master'), '0a0100000c0003800800010001000000'],
  GET_DAEMON: [(w) => encode.getDaemon(w), '0b010000'],
  SET_CONFIG: [(w) => encode.setConfig(w, { tcp: 900, tcpFin: 120, udp: 300 }), '0c01000008000400840300000800050078000000080006002c010000'],
  GET_CONFIG: [(w) => encode.getConfig(w), '0d010000'],
  GET_INFO: [(w) => encode.getInfo(w), '0f010000'],
  'ZERO one': [(w) => encode.zero(w, s), '100100003000018006000100020000000600020006000000140003000a0000010000000000000000000000000600040000500000'],
  'ZERO all': [(w) => encode.zero(w), '10010000'],
  FLUSH: [(w) => encode.flush(w), '11010000'],
};

describe('golden bytes', () => {
  for (const [name, [fn, want]] of Object.entries(golden)) {
    it(name, () => expect(hex(fn)).toBe(want));
  }
});

describe('fast encoders match the schema-driven encoder', () => {
  const services: ServiceSpec[] = [
    { protocol: 'tcp', address: '10.0.0.1', port: 80 },
    { protocol: 'udp', address: '255.255.255.254', port: 65535, scheduler: 'wrr', persistenceTimeout: 1, persistenceNetmask: '255.255.0.0' },
    { protocol: 'sctp', address: '::', port: 1, scheduler: 'lblcr' },
    { protocol: 'tcp', address: 'fe80::1:2:3:4', port: 8080, scheduler: 'mh', schedulerFlags: ['mh-fallback', 'mh-port'], persistenceTimeout: 86400, persistenceNetmask: 48 },
    { fwmark: 0xffffffff, family: 'inet6', scheduler: 'ovf' },
    { fwmark: 1, scheduler: 'fo', persistenceEngine: 'sip', persistenceTimeout: 5 },
  ];
  const dests: DestinationSpec[] = [
    { address: '192.0.2.1' },
    { address: '0.0.0.1', port: 0, weight: 0, forwardingMethod: 'local' },
    { address: '203.0.113.255', port: 65535, weight: 2147483647, upperThreshold: 2147483647, lowerThreshold: 2147483647, forwardingMethod: 'bypass' },
    { address: '192.0.2.1', forwardingMethod: 'tunnel' },
    { address: '192.0.2.1', forwardingMethod: 'tunnel', tunnelType: 'gre', tunnelChecksum: 'csum' },
    { address: '2001:db8::ffff', forwardingMethod: 'tunnel', tunnelType: 'gue', tunnelPort: 1, tunnelChecksum: 'nocsum' },
  ];
  for (const spec of services) {
    it(`service ${JSON.stringify(spec)}`, () => {
      const svc = normalizeService(spec);
      expect(hex((w) => putServiceKey(w, svc))).toBe(hex((w) => reference.serviceKey(w, svc)));
      expect(hex((w) => putServiceFull(w, svc))).toBe(hex((w) => reference.serviceFull(w, svc)));
      for (const ds of dests) {
        let dest;
        try {
          dest = normalizeDestination(ds, svc);
        } catch {
          continue; // e.g. a same-family rule this service cannot take
        }
        expect(hex((w) => putDest(w, dest, true))).toBe(hex((w) => reference.dest(w, dest, true)));
        expect(hex((w) => putDest(w, dest, false))).toBe(hex((w) => reference.dest(w, dest, false)));
        expect(hexUnaligned((w) => putDest(w, dest, true))).toBe(hex((w) => reference.dest(w, dest, true)));
        expect(hexUnaligned((w) => encode.newDest(w, k, dest))).toBe(hex((w) => encode.newDest(w, k, dest, serviceKeyWords(k))));
      }
    });
  }
});
