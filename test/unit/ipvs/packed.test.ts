// Packed real servers (normalize.ts): the common IPv4 real servers of a desired table are
// kept as words, not objects. Everything a caller sees must be what the object form gives:
// entries, plans, the bytes sent, the errors.
import { describe, expect, it } from 'vitest';
import { Writer } from '@lvsd/native';
import { IpvsClient, encode, normalizeDestination, normalizeService, normalizeTable, plan, serviceKeyAttr, type DesiredService, type IpvsOp } from '@lvsd/ipvs';
import { newDestPackedBody, serviceKeyWords } from '../../../packages/ipvs/src/codec.js';
import { PackedEntry, PACK_WORDS, PACKED_OP } from '../../../packages/ipvs/src/normalize.js';

const svc: DesiredService = {
  protocol: 'tcp',
  address: '10.0.0.1',
  port: 80,
  destinations: [
    { address: '192.0.2.10' },
    { address: '255.255.255.254', port: 65535, forwardingMethod: 'masq', weight: 0x7fffffff, upperThreshold: 9, lowerThreshold: 3 },
    { address: '0.0.0.1', forwardingMethod: 'local', weight: 0 },
    { address: '198.51.100.7', forwardingMethod: 'bypass', port: 0 },
  ],
};

describe('packed real servers', () => {
  it('give the same canonical destinations as normalizeDestination', () => {
    const e = normalizeTable([svc]).get('tcp|10.0.0.1|80')!;
    expect(e).toBeInstanceOf(PackedEntry);
    const s = normalizeService(svc);
    expect(e.dests).toEqual(svc.destinations!.map((d) => normalizeDestination(d, s)));
    expect(Object.keys(e.dests[0])).toEqual(Object.keys(normalizeDestination(svc.destinations![0], s)));
  });

  it('are used only for plain IPv4 real servers behind an IPv4 service', () => {
    const t = normalizeTable([
      { protocol: 'tcp', address: '10.0.0.2', port: 80, destinations: [{ address: '192.0.2.1' }, { address: '192.0.2.2', forwardingMethod: 'tunnel' }] },
      { protocol: 'tcp', address: '10.0.0.3', port: 80, destinations: [{ address: '2001:db8::1', forwardingMethod: 'tunnel' }] },
      { protocol: 'tcp', address: '2001:db8::2', port: 80, destinations: [{ address: '2001:db8::3' }] },
      { fwmark: 4, destinations: [{ address: '192.0.2.4' }] },
      { protocol: 'udp', address: '10.0.0.5', port: 53 },
    ]);
    expect([...t.values()].map((e) => e instanceof PackedEntry)).toEqual([false, false, false, true, false]);
    expect(t.get('fwmark|inet|4')!.dests[0].port).toBe(0);
  });

  it('report invalid input exactly as the object path', () => {
    const bad = (d: object) => {
      try {
        normalizeTable([{ protocol: 'tcp', address: '10.0.0.1', port: 80, destinations: [{ address: '192.0.2.1' }, d as never] }]);
      } catch (e) {
        return (e as Error).message;
      }
      return 'accepted';
    };
    expect(bad({ address: '192.0.2.9', weight: -1 })).toMatch(/weight must be/);
    expect(bad({ address: '192.0.2.9', forwardingMethod: 'nat' })).toMatch(/unknown forwarding method/);
    expect(bad({ address: '192.0.2.9', lowerThreshold: 5, upperThreshold: 4 })).toMatch(/lower threshold 5 is above/);
    expect(bad({ address: '192.0.2.1', port: 80 })).toBe('destination 192.0.2.1:80 appears twice in service tcp|10.0.0.1|80');
    expect(bad({ address: '192.0.2.01' })).toMatch(/bad destination address/);
  });

  it('find duplicates in long lists too', () => {
    const destinations = Array.from({ length: 40 }, (_, i) => ({ address: `192.0.2.${i}` }));
    destinations.push({ address: '192.0.2.17' });
    expect(() => normalizeTable([{ protocol: 'tcp', address: '10.0.0.1', port: 80, destinations }])).toThrow(/192\.0\.2\.17:80 appears twice/);
  });

  it('are reused unchanged, and a spec edited in place is seen', () => {
    const spec = structuredClone(svc);
    const a = normalizeTable([spec]);
    expect(normalizeTable([spec], a).get('tcp|10.0.0.1|80')).toBe(a.get('tcp|10.0.0.1|80'));
    expect(normalizeTable([structuredClone(spec)], a).get('tcp|10.0.0.1|80')).toBe(a.get('tcp|10.0.0.1|80'));
    spec.destinations![1].weight = 5;
    const b = normalizeTable([spec], a);
    expect(b.get('tcp|10.0.0.1|80')).not.toBe(a.get('tcp|10.0.0.1|80'));
    expect(a.get('tcp|10.0.0.1|80')!.dests[1].weight).toBe(0x7fffffff); // the old state is a copy
    expect(plan(a, b).map((o) => `${o.kind} ${'destination' in o ? o.destination.weight : ''}`)).toEqual(['edit-destination 5']);
  });

  it('travel in add-service ops with readable destinations', () => {
    const [op] = plan({ services: [] }, [svc]) as (IpvsOp & { [PACKED_OP]?: PackedEntry })[];
    expect(op[PACKED_OP]).toBeInstanceOf(PackedEntry);
    expect(Object.keys(op)).toEqual(['kind', 'service', 'destinations']);
    const s = normalizeService(svc);
    expect(op).toEqual({ kind: 'add-service', service: s, destinations: svc.destinations!.map((d) => normalizeDestination(d, s)) });
    const first = (op as { destinations: unknown[] }).destinations;
    expect((op as { destinations: unknown[] }).destinations).toBe(first); // built once
    expect(JSON.parse(JSON.stringify(op)).destinations).toHaveLength(4);
    expect(op[PACKED_OP]).toBeUndefined(); // once read, the objects are what gets sent
  });

  it('encode to the bytes of encode.newDest', () => {
    const s = normalizeService(svc);
    const e = normalizeTable([svc]).get('tcp|10.0.0.1|80') as PackedEntry;
    const key = serviceKeyAttr(s);
    const words = serviceKeyWords(key);
    for (let i = 0; i < e.count; i++) {
      const want = new Writer(16);
      encode.newDest(want, key, normalizeDestination(svc.destinations![i], s));
      const got = new Writer(16);
      newDestPackedBody(got, words, words.length, e.words, e.at + i * PACK_WORDS);
      const hex = want.take().toString('hex');
      expect(got.take().toString('hex')).toBe(hex);
      const odd = new Writer(16);
      odd.buf = Buffer.from(new ArrayBuffer(8192), 1, 8000); // not word aligned: the byte path
      newDestPackedBody(odd, words, words.length, e.words, e.at + i * PACK_WORDS);
      expect(odd.take().toString('hex')).toBe(hex);
    }
  });
});


describe('applyBatch over packed ops', () => {
  /** A client whose batch channel records the bodies instead of sending them. */
  function recorder() {
    const bodies: string[] = [];
    const bulk = {
      counters: { messages: 0, sendmsg: 0 },
      async send(_type: number, count: number, write: (w: Writer, i: number) => void) {
        for (let i = 0; i < count; i++) {
          const w = new Writer(16);
          write(w, i);
          bodies.push(w.take().toString('hex'));
        }
        this.counters.messages += count;
        this.counters.sendmsg++;
        return [];
      },
    };
    const client = Object.assign(Object.create(IpvsClient.prototype), { bulk, family: { id: 1 }, closed: false }) as IpvsClient;
    return { client, bodies };
  }

  it('sends the same messages as the same ops with Destination objects, or as read and changed by the caller', async () => {
    const table = [svc, { ...svc, address: '10.0.0.2', destinations: svc.destinations!.slice(1) }, { fwmark: 9, destinations: [{ address: '192.0.2.99' }] }];
    const packed = recorder();
    const ops = plan({ services: [] }, table);
    expect(ops.every((o) => (o as { [PACKED_OP]?: unknown })[PACKED_OP])).toBe(true);
    await packed.client.applyBatch(ops);
    const plain = recorder();
    const objects = ops.map((o) => (o.kind === 'add-service' ? { kind: o.kind, service: o.service, destinations: [...o.destinations!] } : o));
    await plain.client.applyBatch(objects);
    expect(packed.bodies).toHaveLength(1 + 4 + 1 + 3 + 1 + 1);
    expect(packed.bodies).toEqual(plain.bodies);
    const edited = recorder();
    const again = plan({ services: [] }, table);
    (again[0] as { destinations: { weight: number }[] }).destinations[0].weight = 42;
    await edited.client.applyBatch(again);
    expect(edited.bodies[1]).not.toBe(plain.bodies[1]);
    expect(edited.bodies.filter((b, i) => b !== plain.bodies[i])).toHaveLength(1);
  });
});
