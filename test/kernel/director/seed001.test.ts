// The seed 001 topology end to end (the demo's scenario, asserted): two directors,
// failover, a real server leaving and rejoining the table, lvsd paired with
// keepalived, a live connection through a SIGHUP reload, graceful stop.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { assertInLab } from '../helpers';

const root = fileURLToPath(new URL('../../..', import.meta.url));

it('runs the seed 001 scenario', () => {
  assertInLab();
  const result = `/tmp/seed001-${process.pid}.json`;
  const r = spawnSync(process.execPath, [`${root}test/demo/seed001.mjs`], {
    env: { ...process.env, LVSD_DEMO_SLACK: '4', LVSD_DEMO_RESULT: result, LVSD_DEMO_DIR: `/tmp/seed001-${process.pid}` },
    encoding: 'utf8',
    timeout: 560_000,
  });
  const out = `${r.stdout}\n${r.stderr}`;
  const { code, results } = JSON.parse(readFileSync(result, 'utf8')) as { code: number; results: { name: string; ok: boolean }[] };
  expect(code, out).toBe(0);
  expect(results.map((x) => x.name)).toEqual(
    expect.arrayContaining([
      'each director is master of one VIP',
      'VI_1 moved to d2',
      'rs2 left the IPVS tables',
      'rs2 is back',
      'keepalived took over from lvsd',
      'lvsd preempted keepalived back',
      'the connection survived the reload',
      'd1 released its VIP and IPVS services',
    ]),
  );
  expect(results.every((x) => x.ok)).toBe(true);
}, 600_000);
