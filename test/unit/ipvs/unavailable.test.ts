// The host kernel of these machines has no IPVS: opening a client there must fail with a
// clear LVSD_ERR_IPVS_UNAVAILABLE (generic netlink family lookups need no privilege).
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { IpvsClient } from '@lvsd/ipvs';

describe.skipIf(existsSync('/proc/net/ip_vs'))('a kernel without ip_vs', () => {
  it('IpvsClient.open rejects with LVSD_ERR_IPVS_UNAVAILABLE', async () => {
    const e = await IpvsClient.open().catch((x) => x);
    expect(e).toMatchObject({ code: 'LVSD_ERR_IPVS_UNAVAILABLE', object: { family: 'IPVS' } });
    expect(e.message).toMatch(/modprobe ip_vs/);
  });

  it('honours an aborted signal before doing anything', async () => {
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(IpvsClient.open({ signal: ac.signal })).rejects.toThrow('stop');
  });
});
