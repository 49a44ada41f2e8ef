// MISC_CHECK: run a program (argv, no shell) in its own process group. Exit 0
// is up, 1 is down, 2-255 is up with weight code - 2 under misc_dynamic (down
// without it). At misc_timeout the whole group gets SIGTERM, then SIGKILL 2 s
// later; when the program exits, whatever it left in its group is killed too,
// so a check never leaves processes behind. Node reaps the child itself: no
// zombies.
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { runProgram } from '@lvsd/native';
import { splitCommandLine, type ResolvedChecker } from '../options.js';
import type { PollRunner } from '../runner.js';
import type { CheckResult, MiscCheckOptions } from '../types.js';
import { failure } from './net.js';

const KILL_GRACE_MS = 2000;


/** A user (and group) name or number to uid/gid, from /etc/passwd and /etc/group. */
export function lookupUser(spec: MiscCheckOptions['user']): { uid: number; gid: number } | undefined {
  if (spec === undefined) return undefined;
  const u = typeof spec === 'object' ? spec : { user: spec, group: undefined };
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':'));
  const pw = passwd.find((f) => f[0] === String(u.user) || (typeof u.user === 'number' && f[2] === String(u.user)));
  let uid: number;
  let gid: number;
  if (pw) {
    uid = Number(pw[2]);
    gid = Number(pw[3]);
  } else if (/^\d+$/.test(String(u.user))) {
    uid = gid = Number(u.user);
  } else throw new Error(`MISC_CHECK user ${u.user}: no such user`);
  if (u.group !== undefined) {
    const groups = readFileSync('/etc/group', 'utf8').split('\n').map((l) => l.split(':'));
    const gr = groups.find((f) => f[0] === String(u.group));
    if (gr) gid = Number(gr[2]);
    else if (/^\d+$/.test(String(u.group))) gid = Number(u.group);
    else throw new Error(`MISC_CHECK group ${u.group}: no such group`);
  }
  return { uid, gid };
}

export function miscCheck(): PollRunner {
  const argvs = new WeakMap<ResolvedChecker, { argv: string[]; ids?: { uid: number; gid: number } }>();
  return {
    run({ checker, signal, configuredWeight }) {
      const o = checker.options as MiscCheckOptions;
      let prep = argvs.get(checker);
      if (!prep) {
        try {
          prep = { argv: typeof o.misc_path === 'string' ? splitCommandLine(o.misc_path) : o.misc_path, ids: lookupUser(o.user) };
        } catch (e) {
          return Promise.resolve(failure('error', (e as Error).message));
        }
        argvs.set(checker, prep);
      }
      const { argv, ids } = prep;
      return runProgram(argv, { signal, killGraceMs: KILL_GRACE_MS, uid: ids?.uid, gid: ids?.gid }).then((r): CheckResult => {
        if (r.error) return failure('error', `cannot run ${argv[0]}: ${r.error}`);
        if (r.timedOut) return failure('timeout', 'timeout (script killed)');
        if (r.signal) return failure('signal', `script killed by ${r.signal}`);
        const c = r.code ?? 255;
        if (c === 0) return o.misc_dynamic ? { ok: true, weight: configuredWeight } : { ok: true };
        if (c >= 2 && o.misc_dynamic) return { ok: true, weight: c - 2, detail: `script exit ${c}` };
        return failure('exit', `script exit ${c}`);
      });
    },
  };
}

export const SIGNALS = constants.signals;
