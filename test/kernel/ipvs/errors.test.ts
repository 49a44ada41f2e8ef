// Kernel errnos mapped to IpvsError codes, with the errno, the extended ack and the
// object; invalid input rejected before anything is sent.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IpvsClient, IpvsError, SCHEDULERS_IN_LAB } from './setup.js';
import { useNetns } from '../helpers.js';

const ns = useNetns('ipvs');
let c: IpvsClient;
beforeEach(async () => {
  c = await IpvsClient.open({ netns: ns.path });
});
afterEach(() => c.close());

async function failure(p: Promise<unknown>): Promise<IpvsError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(IpvsError);
    return e as IpvsError;
  }
  throw new Error('expected a failure');
}
const key = { protocol: 'tcp' as const, address: '10.0.0.1', port: 80 };

describe('kernel errors', () => {
  it('EEXIST: a service or destination added twice', async () => {
    await c.addService(key);
    const e = await failure(c.addService(key));
    expect(e).toMatchObject({ code: 'LVSD_ERR_IPVS_EXISTS', errno: 17, errnoName: 'EEXIST', object: { service: { address: '10.0.0.1', port: 80 } } });
    expect(e.message).toContain('tcp 10.0.0.1:80');
    await c.addDestination(key, { address: '192.0.2.1' });
    const d = await failure(c.addDestination(key, { address: '192.0.2.1' }));
    expect(d).toMatchObject({ code: 'LVSD_ERR_IPVS_EXISTS', errno: 17, object: { destination: { address: '192.0.2.1' } } });
  });

  it('ESRCH: no such service (delete, edit, add a destination, get)', async () => {
    for (const p of [
      c.deleteService(key),
      c.editService({ ...key, scheduler: 'rr' }),
      c.addDestination(key, { address: '192.0.2.1' }),
      c.getService(key),
    ]) {
      expect(await failure(p)).toMatchObject({ code: 'LVSD_ERR_IPVS_NOT_FOUND', errno: 3, errnoName: 'ESRCH' });
    }
  });

  it('ENOENT: no such destination (edit, delete)', async () => {
    await c.addService(key);
    for (const p of [c.editDestination(key, { address: '192.0.2.9', weight: 2 }), c.deleteDestination(key, { address: '192.0.2.9' })]) {
      expect(await failure(p)).toMatchObject({ code: 'LVSD_ERR_IPVS_NOT_FOUND', errno: 2, object: { destination: { address: '192.0.2.9' } } });
    }
  });

  it('EINVAL: a real server that is not unicast', async () => {
    await c.addService(key);
    for (const address of ['224.0.0.5', '255.255.255.255']) {
      const e = await failure(c.addDestination(key, { address }));
      expect(e).toMatchObject({ code: 'LVSD_ERR_IPVS_INVALID', errno: 22, errnoName: 'EINVAL', object: { destination: { address } } });
    }
    expect(ns.sh('ipvsadm -Sn')).toBe('-A -t 10.0.0.1:80 -s wlc\n');
  });

  it.skipIf(SCHEDULERS_IN_LAB.includes('twos'))('a scheduler the kernel cannot load (twos before 6.2): LVSD_ERR_IPVS_SCHEDULER', async () => {
    const e = await failure(c.addService({ ...key, scheduler: 'twos' }));
    expect(e).toMatchObject({ code: 'LVSD_ERR_IPVS_SCHEDULER', errno: 2, object: { service: { scheduler: 'twos' } } });
    expect(e.message).toContain('ip_vs_twos');
    await c.addService(key);
    expect((await failure(c.editService({ ...key, scheduler: 'twos' }))).code).toBe('LVSD_ERR_IPVS_SCHEDULER');
  });

  it('EPERM without CAP_NET_ADMIN: LVSD_ERR_PERMISSION', () => {
    // A child process as nobody, in the same namespace, with the same package.
    const script = fileURLToPath(new URL('./eperm-child.mjs', import.meta.url));
    const out = execFileSync('ip', ['netns', 'exec', ns.name, 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, script], {
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('../../..', import.meta.url)),
    });
    expect(JSON.parse(out)).toEqual({ code: 'LVSD_ERR_PERMISSION', errno: 1, errnoName: 'EPERM', object: { service: { address: '10.0.0.1' } } });
  });
});

describe('validation before sending', () => {
  it('sends nothing for invalid input', async () => {
    const before = c.counters.messages;
    const bad = [
      c.addService({ protocol: 'tcp', address: '10.0.0.300', port: 80 }),
      c.addService({ protocol: 'tcp', address: '10.0.0.1', port: 0 }),
      c.addService({ protocol: 'tcp', address: '10.0.0.1', port: 80, scheduler: 'roundrobin' }),
      c.addDestination(key, { address: '192.0.2.1', weight: -1 }),
      c.addDestination(key, { address: '192.0.2.1', weight: 2 ** 31 }),
      c.addDestination(key, { address: '192.0.2.1', upperThreshold: 5, lowerThreshold: 6 }),
      c.addDestination(key, { address: 'not-an-ip' }),
      c.setTimeouts({ tcp: -1 }),
    ];
    for (const p of bad) expect((await failure(p)).code).toBe('LVSD_ERR_IPVS_INVALID');
    expect(c.counters.messages).toBe(before);
    expect(ns.sh('ipvsadm -Sn')).toBe('');
  });
});
