// MISC_CHECK with real processes and FILE_CHECK with a real file (no root).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HealthChecker, parseTrackValue, fileResult, type HealthEvent } from '@lvsd/health';
import { runOnce } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'lvsd-misc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const rs = { address: '192.0.2.1', port: 80, weight: 3 };
const sh = (script: string) => ['/bin/sh', '-c', script];

const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.split(') ')[1]?.[0] !== 'Z' ? 'running' : 'zombie';
  } catch {
    return 'gone';
  }
};
/** Our own children that are zombies. */
const zombies = () =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
        return f[0] === 'Z' && Number(f[1]) === process.pid;
      } catch {
        return false;
      }
    });

describe('MISC_CHECK runs real programs', () => {
  it('exit 0 up, exit 1 "script exit 1", exit 7 down unless misc_dynamic (weight 5)', async () => {
    expect(await runOnce({ checker: 'MISC_CHECK', misc_path: sh('exit 0') }, rs)).toMatchObject({ ok: true });
    expect(await runOnce({ checker: 'MISC_CHECK', misc_path: '/bin/sh -c "exit 1"' }, rs)).toMatchObject({ ok: false, code: 'exit', reason: 'script exit 1' });
    expect(await runOnce({ checker: 'MISC_CHECK', misc_path: sh('exit 7') }, rs)).toMatchObject({ ok: false, reason: 'script exit 7' });
    expect(await runOnce({ checker: 'MISC_CHECK', misc_path: sh('exit 7'), misc_dynamic: true }, rs)).toMatchObject({ ok: true, weight: 5 });
    expect(await runOnce({ checker: 'MISC_CHECK', misc_path: sh('exit 0'), misc_dynamic: true }, rs)).toMatchObject({ ok: true, weight: 3 });
    expect(await runOnce({ checker: 'MISC_CHECK', misc_path: '/nonexistent/check' }, rs)).toMatchObject({ ok: false, code: 'error' });
  });

  it('a script that hangs is killed with its whole process group at misc_timeout', async () => {
    const pids = join(dir, 'hang.pids');
    const r = await runOnce({ checker: 'MISC_CHECK', misc_path: sh(`sleep 30 & echo $! >> ${pids}; echo $$ >> ${pids}; trap '' TERM; wait`) }, rs, 300);
    expect(r).toMatchObject({ ok: false, code: 'timeout' });
    await new Promise((res) => setTimeout(res, 2500)); // TERM ignored: SIGKILL after 2 s
    const list = readFileSync(pids, 'utf8').trim().split('\n').map(Number);
    expect(list.length).toBe(2);
    for (const p of list) expect(alive(p)).not.toBe('running');
    expect(zombies()).toEqual([]);
  });

  it('children a script forks are not left behind, and nothing becomes a zombie', async () => {
    const pids = join(dir, 'fork.pids');
    const r = await runOnce({ checker: 'MISC_CHECK', misc_path: sh(`for i in 1 2 3; do sleep 29.9371 & echo $! >> ${pids}; done; (sleep 29.9371 &) ; exit 0`) }, rs);
    expect(r).toMatchObject({ ok: true });
    // Killed at once. Once the script exited they were init's children, and
    // reaping them is init's job (this sandbox's init does it lazily): what
    // matters is that none runs on and none is a zombie of ours.
    const list = readFileSync(pids, 'utf8').trim().split('\n').map(Number);
    await new Promise((res) => setTimeout(res, 50));
    for (const p of list) expect(alive(p)).not.toBe('running');
    // the double-forked sleep too: nothing in any process group we made survives
    const stray = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8') === 'sleep\u000029.9371\u0000' && alive(Number(p)) === 'running';
        } catch {
          return false;
        }
      });
    expect(stray).toEqual([]);
    expect(zombies()).toEqual([]);
  });

  it('user: runs as another user', async () => {
    const out = join(dir, 'whoami');
    writeFileSync(out, '');
    execFileSync('chmod', ['755', dir]);
    execFileSync('chmod', ['666', out]);
    expect(await runOnce({ checker: 'MISC_CHECK', misc_path: sh(`id -u > ${out}`), user: 'nobody' }, rs)).toMatchObject({ ok: true });
    expect(readFileSync(out, 'utf8').trim()).toBe(execFileSync('id', ['-u', 'nobody']).toString().trim());
    expect(await runOnce({ checker: 'MISC_CHECK', misc_path: sh('true'), user: 'no-such-user-xyz' }, rs)).toMatchObject({ ok: false, code: 'error' });
  });
});

describe('FILE_CHECK (track_file)', () => {
  it('reads numbers like strtol(.., 0)', () => {
    expect(parseTrackValue('12\n')).toBe(12);
    expect(parseTrackValue('-3')).toBe(-3);
    expect(parseTrackValue('0x10')).toBe(16);
    expect(parseTrackValue('010')).toBe(8);
    expect(parseTrackValue('')).toBe(0);
    expect(parseTrackValue('abc')).toBeUndefined();
  });

  it('weight 0: non-zero fails (zero with reverse); otherwise value x weight is added', () => {
    expect(fileResult({ checker: 'FILE_CHECK', file: 'f', weight: 0 }, 1, 3)).toMatchObject({ ok: false, code: 'file' });
    expect(fileResult({ checker: 'FILE_CHECK', file: 'f', weight: 0 }, 0, 3)).toMatchObject({ ok: true, weight: 3 });
    expect(fileResult({ checker: 'FILE_CHECK', file: 'f', weight: 0, reverse: true }, 0, 3)).toMatchObject({ ok: false });
    expect(fileResult({ checker: 'FILE_CHECK', file: 'f', weight: 2 }, 5, 3)).toMatchObject({ ok: true, weight: 13 });
    expect(fileResult({ checker: 'FILE_CHECK', file: 'f', weight: 2, reverse: true }, 1, 3)).toMatchObject({ ok: true, weight: 1 });
  });

  it('follows a real file through writes and renames', async () => {
    const f = join(dir, 'track');
    writeFileSync(f, '0\n');
    const hc = new HealthChecker();
    const events: HealthEvent[] = [];
    hc.on('change', (e) => events.push(e));
    hc.add({ id: 'rs', address: '192.0.2.1', port: 80, weight: 10, checkers: [{ checker: 'FILE_CHECK', track_file: 'maint', file: f, weight: 0 }] });
    hc.start();
    const until = async (n: number) => {
      for (let i = 0; i < 100 && events.length < n; i++) await new Promise((r) => setTimeout(r, 20));
    };
    await new Promise((r) => setTimeout(r, 100));
    expect(events).toEqual([]);
    writeFileSync(f, '1\n');
    await until(1);
    expect(events.at(-1)).toMatchObject({ type: 'down', code: 'file', reason: 'file maint value 1' });
    writeFileSync(join(dir, 'track.tmp'), '0\n');
    renameSync(join(dir, 'track.tmp'), f);
    await until(2);
    expect(events.at(-1)).toMatchObject({ type: 'up', id: 'rs' });
    hc.stop();
    expect(existsSync(f)).toBe(true);
  });
});
