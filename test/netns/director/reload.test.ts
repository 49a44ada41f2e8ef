// A reload that changes a VRRP instance (priority, VIPs) on the running master,
// with keepalived 2.2 as the peer: the successor resumes MASTER, so the peer never
// sees a gap long enough to take over, and nothing resigns.
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canNetns } from '../vrrp/helpers.js';
import * as lab from '../vrrp/lab.mjs';

const root = join(import.meta.dirname, '../../..');
const labs: any[] = [];
afterAll(() => {
  for (const l of labs) l.cleanup();
});

describe.skipIf(!canNetns())('Director reload with a VRRP peer', () => {
  beforeAll(() => execFileSync(process.execPath, [`${root}/node_modules/typescript/bin/tsc`, '-b', 'packages/director'], { cwd: root, stdio: 'inherit' }), 180_000);

  it('a changed instance keeps MASTER across the reload: no election, no priority 0, the peer stays BACKUP', async () => {
    const l = lab.createLab({ members: ['a', 'b'], net: 31 });
    labs.push(l);
    const vip1 = '10.77.31.100';
    const vip2 = '10.77.31.101';
    const ka = lab.startKeepalived(l, 'b', lab.keepalivedConf({ vrid: 31, priority: 100, vips: [`${vip1}/24`] }));
    await ka.ready();
    const conf = join(l.tmp, 'lvsd.conf');
    const write = (priority: number, vips: string[]) => writeFileSync(conf, lab.keepalivedConf({ vrid: 31, priority, state: 'MASTER', vips }));
    write(150, [`${vip1}/24`]);
    const child = spawn('ip', ['netns', 'exec', l.ns.a, process.execPath, `${root}/packages/director/dist/cli.js`, '-P', '-l', '--log-json', '-f', conf], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    l.procs.add({ pid: child.pid });
    const events: any[] = [];
    lab.onJsonLines(child.stderr, (e: any) => events.push(e));
    const states = () => events.filter((e) => e.event === 'vrrp-state').map((e) => `${e.to}/${e.reason}`);
    await lab.waitFor(() => lab.hasAddress(l, 'a', vip1) && !lab.hasAddress(l, 'b', vip1), 15_000, 'lvsd master');

    const logBefore = ka.log().length;
    write(140, [`${vip1}/24`]);
    process.kill(child.pid!, 'SIGHUP');
    await lab.waitFor(() => events.some((e) => e.event === 'reloaded'), 15_000, 'reloaded');
    // Longer than keepalived's Master_Down_Interval (3 x 1 s + skew): it would have taken over by now.
    await lab.sleep(4000);
    const diag = `lvsd: ${events.map((e) => `${e.time?.slice(17)} ${e.msg}`).join('\n')}\nkeepalived: ${ka.log().slice(logBefore)}`;
    expect(lab.hasAddress(l, 'a', vip1) && !lab.hasAddress(l, 'b', vip1), `lvsd kept the VIP\n${diag}`).toBe(true);
    expect(ka.log().slice(logBefore), 'no election on the peer').not.toMatch(/Entering MASTER STATE|priority 0/);
    expect(states().slice(-2)).toEqual(['MASTER/masterDown', 'MASTER/reload']);
    expect(events.find((e) => e.event === 'vrrp-reload')).toMatchObject({ replaced: ['VI_1'] });

    // The successor advertises its new priority: below the peer's, the peer preempts.
    write(90, [`${vip1}/24`]);
    process.kill(child.pid!, 'SIGHUP');
    await lab.waitFor(() => lab.hasAddress(l, 'b', vip1) && !lab.hasAddress(l, 'a', vip1), 10_000, 'keepalived (100) preempts lvsd (now 90)');

    // Alone again (the peer gone) and master: VIPs changed by a reload are added and removed in place.
    ka.kill('SIGKILL');
    await lab.waitFor(() => lab.hasAddress(l, 'a', vip1), 10_000, 'lvsd master again');
    lab.sh('ip', ['-n', l.ns.b, 'addr', 'flush', 'dev', 'eth0', 'to', `${vip1}/32`]);
    write(90, [`${vip2}/24`]);
    process.kill(child.pid!, 'SIGHUP');
    await lab.waitFor(() => lab.hasAddress(l, 'a', vip2) && !lab.hasAddress(l, 'a', vip1), 10_000, 'VIPs swapped');
    await lab.waitFor(() => states().at(-1) === 'MASTER/reload', 5_000, 'the successor resumed MASTER');
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  });
});
