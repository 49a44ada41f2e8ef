// Trackers and notifications run real processes (no shell), so these tests do too.
import { mkdtempSync, readFileSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FifoWriter, fifoLine, FileTracker, NotifyQueue, resolveProgram, runProgram, ScriptTracker, splitArgv } from '@lvsd/vrrp';

const dir = mkdtempSync(join(tmpdir(), 'lvsd-vrrp-unit-'));
const script = (name: string, body: string) => {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return p;
};
/** Running, not a zombie waiting for a reaper. */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe('argv without a shell', () => {
  it('splits like keepalived: quotes and backslashes, no expansion', () => {
    expect(splitArgv(`/etc/keepalived/notify.sh master`)).toEqual(['/etc/keepalived/notify.sh', 'master']);
    expect(splitArgv(`cmd "a b" 'c d' e\\ f $HOME`)).toEqual(['cmd', 'a b', 'c d', 'e f', '$HOME']);
    expect(splitArgv(`[[ -f /etc/keepalived/down ]] && exit 1 || exit 0`)[0]).toBe('[[');
  });
  it('looks the program up in PATH; `[[` is not a program, so such a script is disabled (keepalived 2.2.7 does the same)', () => {
    expect(resolveProgram('sh')).toMatch(/\/sh$/);
    expect(resolveProgram('[[')).toBeUndefined();
    const t = new ScriptTracker({ name: 'chk_down', script: '[[ -f /etc/keepalived/down ]] && exit 1 || exit 0', weight: 5 });
    expect(t.enabled).toBe(false);
    expect(t.status()).toEqual({ fault: false, delta: 0 });
  });
});

describe('vrrp_script', () => {
  it('weights: >0 adds on success, <0 subtracts on failure, 0 means FAULT on failure', async () => {
    const ok = script('ok', 'exit 0');
    const ko = script('ko', 'exit 1');
    const cases: [string, number, { fault: boolean; delta: number }][] = [
      [ok, 5, { fault: false, delta: 5 }],
      [ko, 5, { fault: false, delta: 0 }],
      [ok, -20, { fault: false, delta: 0 }],
      [ko, -20, { fault: false, delta: -20 }],
      [ko, 0, { fault: true, delta: 0 }],
    ];
    for (const [s, weight, want] of cases) {
      const t = new ScriptTracker({ name: 'x', script: s, weight, interval: 60 });
      await t.start();
      t.stop();
      expect(t.status()).toEqual(want);
    }
  });
  it('rise and fall: a state changes only after that many results in a row', async () => {
    const flag = join(dir, 'flag');
    writeFileSync(flag, '0');
    const s = script('flagged', `[ "$(cat ${flag})" = 0 ]`);
    const t = new ScriptTracker({ name: 'x', script: s, weight: 0, interval: 0.02, fall: 3, rise: 2 });
    const changes: { fault: boolean; runs: number }[] = [];
    t.on('change', (st) => changes.push({ fault: st.fault, runs: t.runs }));
    const until = async (cond: () => boolean) => {
      for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
      expect(cond()).toBe(true);
    };
    await t.start();
    expect(t.status().fault).toBe(false);
    writeFileSync(flag, '1');
    let from = t.runs;
    await until(() => t.runs >= from + 3); // the run in flight may still have read 0
    await until(() => changes.length === 1);
    expect(changes[0].fault).toBe(true);
    expect(changes[0].runs - from).toBeGreaterThanOrEqual(3);
    writeFileSync(flag, '0');
    from = t.runs;
    await until(() => changes.length === 2);
    t.stop();
    expect(changes[1].fault).toBe(false);
    expect(changes[1].runs - from).toBeGreaterThanOrEqual(2);
  });
  it('a timeout kills the whole process group, children included', async () => {
    const pidFile = join(dir, 'child.pid');
    const s = script('hang', `sleep 30 & echo $! > ${pidFile}; wait`);
    const r = await runProgram([s], 1500);
    expect(r).toMatchObject({ ok: false, timedOut: true });
    const child = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((res) => setTimeout(res, 50));
    expect(alive(child)).toBe(false);
  });
});

describe('track_file', () => {
  it('weight x the number in the file; weight 0 means FAULT while non-zero', async () => {
    const f = join(dir, 'track');
    writeFileSync(f, '3\n');
    const w = new FileTracker({ path: f, weight: -10 });
    await w.start();
    expect(w.status()).toEqual({ fault: false, delta: -30 });
    w.stop();
    const z = new FileTracker({ path: f });
    await z.start();
    expect(z.status().fault).toBe(true);
    const changed = new Promise((r) => z.once('change', r));
    writeFileSync(f, '0\n');
    await changed;
    expect(z.status().fault).toBe(false);
    z.stop();
  });
});

describe('notify', () => {
  it('scripts run one at a time in event order, notify_<state> before notify with TYPE NAME STATE PRIORITY', async () => {
    const log = join(dir, 'notify.log');
    // the first script is the slowest: with concurrent runs its line would come last
    const slow = script('slow', `sleep 0.3; echo "$@" >> ${log}`);
    const fast = script('fast', `echo "$@" >> ${log}`);
    const q = new NotifyQueue();
    q.push({ notifyMaster: `${slow} master`, notify: fast }, 'INSTANCE', 'VI_1', 'MASTER', 100);
    q.push({ notifyBackup: `${fast} backup`, notify: fast }, 'INSTANCE', 'VI_1', 'BACKUP', 90);
    q.push({ notifyStop: `${fast} stop` }, 'INSTANCE', 'VI_1', 'STOP', 0);
    await q.idle();
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual(['master', 'INSTANCE VI_1 MASTER 100', 'backup', 'INSTANCE VI_1 BACKUP 90', 'stop']);
  });
  it("notify_fifo lines in keepalived's format, to a FIFO it creates", () => {
    expect(fifoLine('INSTANCE', 'VI_1', 'MASTER', 100)).toBe('INSTANCE "VI_1" MASTER 100\n');
    expect(fifoLine('GROUP', 'G1', 'BACKUP')).toBe('GROUP "G1" BACKUP\n');
    const p = join(dir, 'fifo');
    const w = new FifoWriter(p);
    expect(existsSync(p) && statSync(p).isFIFO()).toBe(true);
    w.write(fifoLine('INSTANCE', 'VI_1', 'FAULT', 100)); // no reader: must not block
    w.close();
  });
});
