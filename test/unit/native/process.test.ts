import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { runProgram } from '@lvsd/native';

/** Running, as opposed to gone or a zombie waiting for whoever reaps orphans here. */
const alive = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0] !== 'Z';
  } catch {
    return false;
  }
};

describe('runProgram', () => {
  it('reports the exit code and runs argv without a shell', async () => {
    expect(await runProgram(['/bin/sh', '-c', 'exit 7'])).toEqual({ code: 7, signal: null, timedOut: false });
    // One argument with a space and a `;`: a shell would have split it.
    expect((await runProgram(['/bin/echo', 'a; exit 3'])).code).toBe(0);
  });

  it('names a program that cannot start, and an empty command', async () => {
    expect((await runProgram(['/nonexistent/prog'])).error).toBe('ENOENT');
    expect((await runProgram([])).error).toBe('empty command');
  });

  it('kills the whole group at the timeout, children included', async () => {
    const t0 = Date.now();
    const r = await runProgram(['/bin/sh', '-c', 'sleep 30 & echo $! > /dev/null; sleep 30'], { timeoutMs: 200 });
    expect(r).toMatchObject({ timedOut: true, signal: 'SIGKILL', code: null });
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('kills what the program left in its group when it exits', async () => {
    const file = `/tmp/lvsd-process-test-${process.pid}`;
    const r = await runProgram(['/bin/sh', '-c', `sleep 30 & echo $! > ${file}`]);
    expect(r.code).toBe(0);
    const { rmSync } = await import('node:fs');
    const pid = Number(readFileSync(file, 'utf8'));
    rmSync(file);
    for (let i = 0; i < 50 && alive(pid); i++) await new Promise((res) => setTimeout(res, 20));
    expect(alive(pid)).toBe(false);
  });

  it('on abort: SIGTERM first, SIGKILL after the grace period for a program that ignores it', async () => {
    const ac = new AbortController();
    const p = runProgram(['/bin/sh', '-c', 'trap "" TERM; sleep 30'], { signal: ac.signal, killGraceMs: 300 });
    setTimeout(() => ac.abort(), 100);
    const t0 = Date.now();
    const r = await p;
    expect(r).toMatchObject({ timedOut: true, signal: 'SIGKILL' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
  });

  it('an already aborted signal kills at once', async () => {
    const r = await runProgram(['/bin/sleep', '30'], { signal: AbortSignal.abort() });
    expect(r.timedOut).toBe(true);
  });
});

describe('runProgram arguments spawn refuses', () => {
  it('resolves with the error instead of rejecting', async () => {
    const r = await runProgram(['/bin/echo', 'a\0b']);
    expect(r).toMatchObject({ code: null, signal: null, timedOut: false, error: 'ERR_INVALID_ARG_VALUE' });
  });
});
