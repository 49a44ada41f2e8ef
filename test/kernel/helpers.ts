// Helpers for kernel tests (vitest project `kernel`), which run inside the user-mode
// Linux lab (test/lab/run.mjs): the host kernel has no IPVS. Every test gets its own
// network namespace, so IPVS tables, links and addresses never leak from one test into
// the next, and the namespace (with any process started in it) is removed afterwards.
//
//   import { useNetns } from '../helpers';
//   const ns = useNetns();                  // a fresh namespace for every test in this file
//   it('adds a service', async () => {
//     ns.sh('ipvsadm -A -t 10.0.0.1:80 -s rr');
//     const sock = NetlinkSocket.open(NETLINK_GENERIC, { netns: ns.path });
//   });
//
// or, as a vitest fixture: `labTest('...', ({ netns }) => { ... })`.
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeAll, beforeEach, test } from 'vitest';

export const LAB_HINT =
  'kernel tests run inside the user-mode Linux lab: `npm test`, or by hand ' +
  '`node test/lab/run.mjs -- npx vitest run --project kernel [file]`';

/** True inside the lab guest: IPVS is loaded (the host kernel of our machines has none). */
export function inLab(): boolean {
  return existsSync('/proc/net/ip_vs');
}

/** Throws a clear error unless running inside the lab. */
export function assertInLab(): void {
  if (!inLab()) {
    const why = process.env.LVSD_LAB === '1' ? 'the lab booted but ip_vs is not loaded' : 'no /proc/net/ip_vs here';
    throw new Error(`not inside the lab (${why}): ${LAB_HINT}`);
  }
}

// Every file that imports these helpers fails up front with the hint when run outside the
// lab, instead of later with a confusing ENOENT or EAFNOSUPPORT deep inside the code under
// test. A hook rather than a throw at import, so `vitest list` still works on the host.
beforeAll(assertInLab);

export class ShError extends Error {
  constructor(
    readonly cmd: string,
    readonly status: number | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`\`${cmd}\` failed (exit ${status}): ${stderr.trim() || stdout.trim() || 'no output'}`);
    this.name = 'ShError';
  }
}

/** Run a shell command (in the lab's initial namespace) and return its stdout; throws ShError. */
export function hostSh(cmd: string, input?: string): string {
  return run(['sh', '-c', cmd], cmd, input);
}

function runAsync(argv: string[], cmd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const status = typeof err.code === 'number' ? err.code : null;
      reject(new ShError(cmd, status, stdout, stderr || err.message));
    });
  });
}

function run(argv: string[], cmd: string, input?: string): string {
  try {
    return execFileSync(argv[0], argv.slice(1), {
      encoding: 'utf8',
      input,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (e) {
    const err = e as { status?: number | null; stdout?: string; stderr?: string; message: string };
    if (err.status === undefined && err.stderr === undefined) throw e;
    throw new ShError(cmd, err.status ?? null, String(err.stdout ?? ''), String(err.stderr ?? err.message));
  }
}

export interface Netns {
  /** `lvsd-<random>` */
  readonly name: string;
  /** `/var/run/netns/<name>`: pass to `NetlinkSocket.open(proto, { netns })` or `RawSocket` */
  readonly path: string;
  /** Run `cmd` with `sh -c` inside the namespace; returns stdout, throws ShError with stderr. */
  sh(cmd: string, input?: string): string;
  /** Like sh() without blocking the event loop (while your code under test has sockets open). */
  exec(cmd: string): Promise<string>;
  /** Start a long-running process inside the namespace; it is killed (by PID) on delete(). */
  spawn(argv: string[], opts?: SpawnOptions): ChildProcess;
  /** Kill what spawn() started and every other process left in the namespace, then delete it. */
  delete(): void;
}

const live = new Set<Netns>();

/** Create a fresh network namespace with `lo` up. Prefer useNetns()/labTest, which clean up. */
export function createNetns(prefix = 'lvsd'): Netns {
  assertInLab();
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  run(['ip', 'netns', 'add', name], `ip netns add ${name}`);
  const children = new Set<ChildProcess>();
  let deleted = false;
  const ns: Netns = {
    name,
    path: `/var/run/netns/${name}`,
    sh: (cmd, input) => run(['ip', 'netns', 'exec', name, 'sh', '-c', cmd], cmd, input),
    exec: (cmd) => runAsync(['ip', 'netns', 'exec', name, 'sh', '-c', cmd], cmd),
    spawn(argv, opts) {
      const child = spawn('ip', ['netns', 'exec', name, ...argv], { stdio: 'ignore', ...opts });
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    delete() {
      if (deleted) return;
      deleted = true;
      live.delete(ns);
      for (const c of children) if (c.pid !== undefined && c.exitCode === null) tryKill(c.pid);
      // Anything else still running in the namespace was started by this test, through
      // sh() with `&` or a daemon that forked: end it by PID so the namespace can go.
      for (const pid of pidsIn(ns.path)) tryKill(pid);
      run(['ip', 'netns', 'del', name], `ip netns del ${name}`);
    },
  };
  try {
    // spawns are slow in the lab (tens of ms each): `ip -n`, not `ip netns exec ... sh -c`
    run(['ip', '-n', name, 'link', 'set', 'lo', 'up'], `ip -n ${name} link set lo up`);
  } catch (e) {
    ns.delete();
    throw e;
  }
  live.add(ns);
  return ns;
}

/** PIDs of the processes whose network namespace is the one bound at `path` (`ip netns pids`, without a spawn). */
export function pidsIn(path: string): number[] {
  let want: string;
  try {
    want = `net:[${statSync(path).ino}]`;
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${d}/ns/net`) === want) out.push(Number(d));
    } catch {}
  }
  return out;
}

function tryKill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
}

/** Namespaces created by createNetns() and not deleted yet (for leak checks). */
export function liveNetns(): ReadonlySet<Netns> {
  return live;
}

/**
 * A fresh namespace for each test of the calling file (or describe block): created in
 * beforeEach, deleted in afterEach. The returned object always refers to the current test's
 * namespace.
 */
export function useNetns(prefix?: string): Netns {
  let current: Netns | undefined;
  beforeEach(() => {
    current = createNetns(prefix);
  });
  afterEach(() => {
    const ns = current;
    current = undefined;
    ns?.delete();
  });
  const get = (): Netns => {
    if (!current) throw new Error('useNetns(): the namespace exists only while a test runs (beforeEach to afterEach)');
    return current;
  };
  return {
    get name() {
      return get().name;
    },
    get path() {
      return get().path;
    },
    sh: (cmd, input) => get().sh(cmd, input),
    exec: (cmd) => get().exec(cmd),
    spawn: (argv, opts) => get().spawn(argv, opts),
    delete: () => get().delete(),
  };
}

/** vitest `test` with a `netns` fixture: a fresh namespace per test, deleted afterwards. */
export const labTest = test.extend<{ netns: Netns }>({
  // eslint-disable-next-line no-empty-pattern
  netns: async ({}, use) => {
    const ns = createNetns();
    try {
      await use(ns);
    } finally {
      ns.delete();
    }
  },
});
