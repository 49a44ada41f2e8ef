#!/usr/bin/env node
// `npm test`: the whole suite, the way CI runs it.
//   1. test/lab/deps.mjs: the lab's Debian packages (installed when root on Debian)
//   2. tsc -b: every package type-checks and builds
//   3. vitest project `unit` on the host
//   4. vitest project `netns` on the host (network namespaces: needs root, else SKIPPED)
//   5. vitest project `kernel` inside one boot of the user-mode Linux lab
// Ends with one line `N passed, N failed, N skipped` (CI reads it) and exits non-zero on
// any failure. With CI=true the kernel tests must run: a lab that cannot start fails the
// run. Outside CI, without root, netns and kernel tests are reported as skipped.
//
//   node test/run.mjs [--only unit,netns,kernel,build] [-- extra vitest args]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDeps } from './lab/deps.mjs';
import { REPO_ROOT, runInLab } from './lab/run.mjs';

const CI = /^(1|true|yes)$/i.test(process.env.CI ?? '');
const ROOT = process.getuid?.() === 0;
const VITEST = join(REPO_ROOT, 'node_modules/.bin/vitest');
const TSC = join(REPO_ROOT, 'node_modules/.bin/tsc');
const HOST_STEP_TIMEOUT = 20 * 60_000; // CI allows 90 min in all: 20 + 20 + 40 + npm ci
const KERNEL_TIMEOUT = 40 * 60_000;

const argv = process.argv.slice(2);
const dd = argv.indexOf('--');
const extra = dd >= 0 ? argv.slice(dd + 1) : [];
const opts = dd >= 0 ? argv.slice(0, dd) : argv;
const onlyIdx = opts.indexOf('--only');
const only = onlyIdx >= 0 ? new Set(opts[onlyIdx + 1].split(',')) : null;
const want = (step) => !only || only.has(step);

const total = { passed: 0, failed: 0, skipped: 0 };
const lines = []; // per-step summary, printed at the end

let stepStart = Date.now();
const say = (s) => {
  stepStart = Date.now();
  process.stderr.write(`\n== ${s}\n`);
};
const took = () => `${((Date.now() - stepStart) / 1000).toFixed(0)} s`;

function note(step, r, detail = '') {
  const info = [took(), detail].filter(Boolean).join('; ');
  lines.push(`${step.padEnd(8)} ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped  (${info})`);
  total.passed += r.passed;
  total.failed += r.failed;
  total.skipped += r.skipped;
}

// Host steps run in their own process group, so a timeout can end the step with everything
// it started; an interrupted `npm test` ends them too.
const groups = new Set();
let reportDir = ''; // vitest JSON reports, under /var/tmp (the lab's /tmp is its own)
const killGroup = (pid) => { try { process.kill(-pid, 'SIGKILL'); } catch {} };
process.on('exit', () => groups.forEach(killGroup));
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.on(sig, () => {
    groups.forEach(killGroup);
    if (reportDir) rmSync(reportDir, { recursive: true, force: true });
    process.stdout.write(`\ninterrupted by ${sig}\n`);
    process.exit(130);
  });

/** Run a host command with inherited stdio and a hard timeout (kills its process group). */
function runHost(cmd, args, { timeoutMs = HOST_STEP_TIMEOUT, env } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: REPO_ROOT, stdio: 'inherit', detached: true, env: env ?? process.env });
    if (child.pid) groups.add(child.pid);
    let timedOut = false;
    const t = setTimeout(() => {
      timedOut = true;
      process.stderr.write(`${cmd} ${args[0] ?? ''}: timed out after ${timeoutMs / 1000} s, killed\n`);
      killGroup(child.pid);
    }, timeoutMs);
    const done = (r) => { clearTimeout(t); groups.delete(child.pid); resolve(r); };
    child.once('error', (e) => done({ code: 127, error: e.message, timedOut }));
    child.once('close', (code, signal) => done({ code: code ?? 128, signal, timedOut }));
  });
}

/** Counts from vitest's JSON report; a crashed run or a file that failed to load counts as a failure. */
function countReport(file, exit) {
  const r = { passed: 0, failed: 0, skipped: 0 };
  let report;
  try {
    report = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    r.failed = 1;
    return { ...r, detail: `no test report (vitest exit ${exit.code}${exit.timedOut ? ', timed out' : ''})` };
  }
  r.passed = report.numPassedTests ?? 0;
  r.failed = report.numFailedTests ?? 0;
  r.skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  const details = [];
  // A file that throws on import has no test results at all but must still fail the run.
  const brokenFiles = (report.testResults ?? []).filter((f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'));
  if (brokenFiles.length) {
    r.failed += brokenFiles.length;
    details.push(`${brokenFiles.length} file(s) failed outside any test`);
  }
  if (exit.code !== 0 && r.failed === 0) {
    r.failed = 1;
    details.push(`vitest exited ${exit.code}${exit.timedOut ? ' (timed out)' : ''} with no failed test: unhandled error?`);
  }
  return { ...r, detail: details.join('; ') };
}

function vitestArgs(project, jsonFile) {
  return ['run', '--project', project, '--passWithNoTests', '--reporter=default', '--reporter=json', `--outputFile.json=${jsonFile}`, ...extra];
}

/** Number of tests in a project, without running them (for honest SKIPPED counts). */
function listCount(project) {
  const r = spawnSync(VITEST, ['list', '--project', project, '--json', '--passWithNoTests'], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  try {
    return JSON.parse(r.stdout.slice(r.stdout.indexOf('['))).length;
  } catch {
    // vitest could not even collect (e.g. a read-only checkout): count the files instead,
    // so that skipped work still shows up as skipped and never as nothing.
    return testFiles(join(REPO_ROOT, 'test', project));
  }
}

function testFiles(dir) {
  let n = 0;
  try {
    for (const e of readdirSync(dir, { withFileTypes: true }))
      n += e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith('.test.ts') ? 1 : 0;
  } catch {}
  return n;
}

async function hostProject(project, dir) {
  const file = join(dir, `${project}.json`);
  say(`vitest --project ${project} (host)`);
  const exit = await runHost(VITEST, vitestArgs(project, file));
  const r = countReport(file, exit);
  note(project, r, r.detail);
}

async function main() {
  const dir = (reportDir = mkdtempSync('/var/tmp/lvsd-test-'));
  const started = Date.now();
  try {
    // 1. lab packages
    let labUsable = true;
    let labSkipReason = '';
    if (want('kernel') || want('netns')) {
      say('lab packages (test/lab/deps.mjs)');
      const d = ensureDeps();
      if (!d.ok) {
        process.stderr.write(`deps: ${d.error}\n`);
        labUsable = false;
        labSkipReason = d.error;
        // counted once, through the kernel step below, unless that step is not run
        if ((CI || ROOT) && !want('kernel')) note('deps', { passed: 0, failed: 1, skipped: 0 }, d.error);
      } else process.stderr.write(d.installed.length ? `deps: installed ${d.installed.join(' ')}\n` : 'deps: all present\n');
    }

    // 2. build
    if (want('build')) {
      say('tsc -b');
      const b = await runHost(TSC, ['-b']);
      // not a test: a clean build adds nothing to the counts, a broken one is one failure
      if (b.code === 0) lines.push(`build    ok  (${took()})`);
      else note('build', { passed: 0, failed: 1, skipped: 0 }, `tsc -b exited ${b.code}`);
    }

    // 3. unit
    if (want('unit')) await hostProject('unit', dir);

    // 4. netns (host network namespaces; root only)
    if (want('netns')) {
      if (ROOT) await hostProject('netns', dir);
      else {
        const n = listCount('netns');
        say(`vitest --project netns: SKIPPED (${n} tests): needs root for network namespaces`);
        note('netns', { passed: 0, failed: 0, skipped: n }, 'SKIPPED: not root');
      }
    }

    // 5. kernel, inside the lab
    if (want('kernel')) {
      if (!CI && !ROOT) {
        const n = listCount('kernel');
        say(`vitest --project kernel: SKIPPED (${n} tests): not root and not CI`);
        note('kernel', { passed: 0, failed: 0, skipped: n }, 'SKIPPED: not root and not CI');
      } else if (!labUsable) {
        const n = Math.max(1, listCount('kernel'));
        say(`vitest --project kernel: FAILED (${n} tests not run): the lab cannot start`);
        note('kernel', { passed: 0, failed: n, skipped: 0 }, `lab cannot start: ${labSkipReason}`);
      } else {
        const file = join(dir, 'kernel.json');
        say('vitest --project kernel (inside the user-mode Linux lab)');
        const lab = await runInLab({
          command: ['node_modules/.bin/vitest', ...vitestArgs('kernel', file)],
          outDir: dir,
          timeoutMs: KERNEL_TIMEOUT,
          onReady: (r) => process.stderr.write(`lab: ready in ${(r.bootMs / 1000).toFixed(2)} s\n`),
        });
        if (!lab.ok) {
          const n = Math.max(1, listCount('kernel'));
          process.stderr.write(`lab: ERROR: ${lab.error}\n${lab.bootLog.split('\n').slice(-30).join('\n')}\n`);
          note('kernel', { passed: 0, failed: n, skipped: 0 }, `lab failed, tests not run: ${lab.error}`);
        } else {
          const r = countReport(file, { code: lab.code });
          note('kernel', r, [`lab boot ${(lab.bootMs / 1000).toFixed(1)} s`, r.detail].filter(Boolean).join('; '));
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  process.stdout.write(`\n== summary (${((Date.now() - started) / 1000).toFixed(0)} s)\n${lines.join('\n')}\n`);
  process.stdout.write(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`);
  return total.failed > 0 ? 1 : 0;
}

main().then(
  (code) => { process.exitCode = code; },
  (e) => {
    console.error(e);
    process.stdout.write(`${total.passed} passed, ${total.failed + 1} failed, ${total.skipped} skipped\n`);
    process.exitCode = 1;
  },
);
