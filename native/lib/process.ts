// The one way lvsd runs a user's program (track_script, notify, MISC_CHECK, quorum
// scripts): as argv, without a shell, as keepalived 2 does, in a process group of its
// own. A timeout, an abort or the program's own exit takes the whole group with it,
// so nothing the program started outlives it and no zombie is left.
import { spawn } from 'node:child_process';

export interface RunProgramOptions {
  /** Kill the program's group after this many milliseconds. */
  timeoutMs?: number;
  /** Kill the program's group when this aborts. */
  signal?: AbortSignal;
  /** On timeout or abort, SIGTERM first and SIGKILL this much later; 0 (default): SIGKILL at once. */
  killGraceMs?: number;
  /** Run inside this network namespace (a path such as /var/run/netns/blue), through nsenter. */
  netns?: string;
  uid?: number;
  gid?: number;
}

export interface RunProgramResult {
  /** Exit code; null when killed by a signal or never started. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Killed by the timeout or the abort signal. */
  timedOut: boolean;
  /** Set when the program could not be started (ENOENT, EACCES...). */
  error?: string;
}

/** Sends `sig` to a process group; a group already gone is not an error. */
export function killGroup(pgid: number, sig: NodeJS.Signals | number): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    // ESRCH: the group is empty.
  }
}

export function runProgram(argv: readonly string[], opts: RunProgramOptions = {}): Promise<RunProgramResult> {
  if (argv.length === 0) return Promise.resolve({ code: null, signal: null, timedOut: false, error: 'empty command' });
  const full = opts.netns ? ['nsenter', `--net=${opts.netns}`, '--', ...argv] : argv;
  return new Promise((resolve) => {
    let timedOut = false;
    let settled = false;
    let graceTimer: NodeJS.Timeout | undefined;
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(full[0], full.slice(1), { stdio: 'ignore', detached: true, uid: opts.uid, gid: opts.gid });
    } catch (e) {
      // Arguments spawn refuses up front (a NUL byte, a bad uid) are a program
      // that could not start, like ENOENT: a result, never a rejection.
      resolve({ code: null, signal: null, timedOut: false, error: (e as NodeJS.ErrnoException).code ?? String(e) });
      return;
    }
    const pid = child.pid;
    const kill = () => {
      if (settled || timedOut) return;
      timedOut = true;
      if (pid === undefined) return;
      const grace = opts.killGraceMs ?? 0;
      if (grace <= 0) return killGroup(pid, 'SIGKILL');
      killGroup(pid, 'SIGTERM');
      graceTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), grace);
      graceTimer.unref();
    };
    const timer = opts.timeoutMs !== undefined ? setTimeout(kill, opts.timeoutMs) : undefined;
    opts.signal?.addEventListener('abort', kill, { once: true });
    if (opts.signal?.aborted) kill();
    const settle = (r: RunProgramResult) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      if (graceTimer) clearTimeout(graceTimer);
      opts.signal?.removeEventListener('abort', kill);
      // Whatever the program left running in its group goes with it.
      if (pid !== undefined) killGroup(pid, 'SIGKILL');
      resolve(r);
    };
    child.once('error', (e) => settle({ code: null, signal: null, timedOut, error: (e as NodeJS.ErrnoException).code ?? e.message }));
    child.once('exit', (code, signal) => settle({ code, signal, timedOut }));
  });
}

/**
 * Splits a command line like a POSIX shell does words (single quotes literal, double
 * quotes with \\ \" \$ \` escapes, backslash outside quotes), without any expansion
 * or shell syntax. Throws on an unterminated quote.
 */
export function splitCommandLine(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let q: '"' | "'" | null = null;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (q) {
      if (ch === q) q = null;
      else if (ch === '\\' && q === '"' && i + 1 < s.length && '"\\$`'.includes(s[i + 1]!)) cur += s[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      q = ch;
      has = true;
    } else if (ch === '\\' && i + 1 < s.length) {
      cur += s[++i];
      has = true;
    } else if (/\s/.test(ch)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else cur += ch;
  }
  if (q) throw new Error(`unterminated ${q} quote in ${JSON.stringify(s)}`);
  if (has || cur) out.push(cur);
  return out;
}
