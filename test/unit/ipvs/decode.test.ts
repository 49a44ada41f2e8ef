// Decoding of dumps recorded from the lab kernel (test/fixtures/ipvs/record.mjs built
// the table with ipvsadm and saved the raw replies and ipvsadm's own listings).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nlmsg } from '@lvsd/native';
import { decodeDaemonMessage, decodeDestMessage, decodeInfo, decodeServiceMessage, decodeTimeouts, abi, type Destination, type Service } from '@lvsd/ipvs';
import { parseSave, parseThresholds, viewOfTable, svcName } from '../../fixtures/ipvs/ipvsadm.js';

const fx = JSON.parse(readFileSync(new URL('../../fixtures/ipvs/lab-dump.json', import.meta.url), 'utf8')) as {
  services: string[];
  dests: string[][];
  info: string[];
  config: string[];
  daemons: string[];
  ipvsadmSn: string;
  ipvsadmLnThresholds: string;
};
const msg = (h: string) => nlmsg.parseMessages(Buffer.from(h, 'hex'))[0];

function table(stats = true): { service: Service; destinations: Destination[] }[] {
  return fx.services.map((h, i) => {
    const service = decodeServiceMessage(msg(h), { stats })!;
    const af = service.family === 'inet6' ? abi.AF_INET6 : abi.AF_INET;
    return { service, destinations: fx.dests[i].map((d) => decodeDestMessage(msg(d), af, { stats })!) };
  });
}

describe('decoding the lab kernel dump', () => {
  it('reads every service and destination as ipvsadm -Sn shows them', () => {
    expect(viewOfTable(table())).toEqual(parseSave(fx.ipvsadmSn));
    expect(viewOfTable(table(false))).toEqual(parseSave(fx.ipvsadmSn));
  });

  it('reads thresholds as ipvsadm -Ln --thresholds shows them', () => {
    const want = parseThresholds(fx.ipvsadmLnThresholds);
    const got = new Map<string, [number, number]>();
    for (const e of table()) {
      for (const d of e.destinations) {
        const hp = d.address.includes(':') ? `[${d.address}]:${d.port}` : `${d.address}:${d.port}`;
        got.set(`${svcName(e.service)} -> ${hp}`, [d.upperThreshold, d.lowerThreshold]);
      }
    }
    expect(got).toEqual(want);
    expect(want.get('tcp 10.0.0.1:80 -> 192.0.2.11:8080')).toEqual([100, 10]);
  });

  it('decodes fields ipvsadm -Sn leaves implicit', () => {
    const t = table();
    const udp = t.find((e) => e.service.protocol === 'udp' && e.service.port === 53)!.service;
    expect(udp).toMatchObject({ scheduler: 'wlc', persistent: true, persistenceTimeout: 120, persistenceNetmask: '255.255.255.0', flags: 1 });
    const v6 = t.find((e) => e.service.family === 'inet6' && !e.service.fwmark)!;
    expect(v6.service).toMatchObject({ address: '2001:db8::100', persistenceNetmask: 64, persistenceTimeout: 300 });
    expect(v6.destinations.find((d) => d.family === 'inet')).toMatchObject({ address: '192.0.2.50', forwardingMethod: 'tunnel', tunnelType: 'ipip' });
    const sip = t.find((e) => e.service.port === 5060)!.service;
    expect(sip).toMatchObject({ persistenceEngine: 'sip', onePacket: true, persistent: true });
    const gue = t.flatMap((e) => e.destinations).find((d) => d.tunnelType === 'gue')!;
    expect(gue).toMatchObject({ tunnelPort: 6080, tunnelChecksum: 'remcsum', weight: 2 });
    const fw6 = t.find((e) => e.service.fwmark === 9)!.service;
    expect(fw6).toMatchObject({ family: 'inet6', scheduler: 'nq', persistenceNetmask: 128 });
    expect(fw6.protocol).toBeUndefined();
  });

  it('the one-pass decoder (no counters) agrees with the schema-driven one', () => {
    let n = 0;
    fx.services.forEach((h, i) => {
      const service = decodeServiceMessage(msg(h))!;
      const af = service.family === 'inet6' ? abi.AF_INET6 : abi.AF_INET;
      for (const d of fx.dests[i]) {
        const { stats: _s, activeConns: _a, inactiveConns: _i, persistentConns: _p, ...full } = decodeDestMessage(msg(d), af)!;
        expect(decodeDestMessage(msg(d), af, { stats: false })).toEqual(full);
        n++;
      }
    });
    expect(n).toBe(10);
  });

  it('decodes stats64 and stats, and leaves them out when asked', () => {
    const e = table()[0];
    expect(e.service.stats).toEqual({ conns: 0n, inpkts: 0n, outpkts: 0n, inbytes: 0n, outbytes: 0n, cps: 0n, inpps: 0n, outpps: 0n, inbps: 0n, outbps: 0n });
    expect(e.destinations[0].activeConns).toBe(0);
    const lean = table(false)[0];
    expect(lean.service.stats).toBeUndefined();
    expect(lean.destinations[0].stats).toBeUndefined();
  });

  it('decodes info, timeouts and sync daemons', () => {
    expect(decodeInfo(msg(fx.info[0]))).toEqual({ version: '1.2.1', versionCode: 0x010201, connTableSize: 4096 });
    expect(decodeTimeouts(msg(fx.config[0]))).toEqual({ tcp: 901, tcpFin: 121, udp: 301 });
    expect(fx.daemons.map((h) => decodeDaemonMessage(msg(h)))).toEqual([
      { state: 'master', interface: 'sync0', syncId: 5, syncMaxlen: 1472, mcastGroup: '224.0.0.81', mcastPort: 8848, mcastTtl: 1 },
      { state: 'backup', interface: 'sync0', syncId: 6, syncMaxlen: 1472, mcastGroup: '239.1.2.3', mcastPort: 8849, mcastTtl: 2 },
    ]);
  });
});
