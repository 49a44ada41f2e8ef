#!/usr/bin/env node
// Checks the lab harness itself (run by hand after changing test/lab/run.mjs; about 20 s):
// exit status and output pass-through, separate stdout/stderr, environment, a checkout
// under /tmp, and that every way the lab can fail ends in a clear error and code 125
// without leaving a guest or a control directory behind.
//
//   node test/lab/selftest.mjs
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_FAILURE, REPO_ROOT, runInLab } from './run.mjs';

const quiet = { stdout: null, stderr: null, capture: true };
let failures = 0;

async function check(name, fn) {
  const t0 = Date.now();
  try {
    const r = await fn();
    if (r?.ctlDir) {
      assert.ok(!existsSync(r.ctlDir), `control directory ${r.ctlDir} left behind`);
      assert.ok(!groupAlive(r), 'guest processes left behind');
    }
    console.log(`ok    ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failures++;
    console.log(`FAIL  ${name}: ${e.message}`);
  }
}

function groupAlive(r) {
  // any linux.uml still running with our control directory on its command line is a leak
  try {
    const out = execFileSync('pgrep', ['-f', r.ctlDir], { encoding: 'utf8' });
    return out.trim().length > 0;
  } catch {
    return false;
  }
}

await check('exit status, stdout and stderr come back separately', async () => {
  const r = await runInLab({ ...quiet, command: ['sh', '-c', 'echo out; echo err >&2; exit 7'] });
  assert.equal(r.ok, true, r.error);
  assert.equal(r.code, 7);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  assert.ok(r.modules.includes('ip_vs') && r.modules.includes('ip_vs_mh') && r.modules.includes('veth'));
  assert.ok(r.bootMs > 0 && r.bootMs < 60_000);
  return r;
});

await check('large output arrives intact', async () => {
  const r = await runInLab({ ...quiet, command: ['sh', '-c', 'seq 1 200000'] });
  assert.equal(r.code, 0);
  assert.equal(r.stdout, Array.from({ length: 200000 }, (_, i) => `${i + 1}\n`).join(''));
  return r;
});

await check('env and cwd pass through; /tmp is the guest\'s own', async () => {
  const r = await runInLab({
    ...quiet,
    env: { PATH: process.env.PATH, LVSD_SELFTEST: "it's \"quoted\" $HOME `x`" },
    command: ['sh', '-c', 'printf "%s\\n" "$LVSD_SELFTEST" "$PWD" "$LVSD_LAB"; ls -A /tmp | wc -l'],
  });
  assert.equal(r.stdout, `it's "quoted" $HOME \`x\`\n${REPO_ROOT}\n1\n0\n`);
  return r;
});

await check('outDir is shared and kept', async () => {
  const out = mkdtempSync('/var/tmp/lvsd-selftest-');
  try {
    const r = await runInLab({ ...quiet, outDir: out, command: ['sh', '-c', 'echo hi > "$LVSD_LAB_OUT/x"'] });
    assert.equal(r.code, 0);
    assert.equal(readFileSync(join(out, 'x'), 'utf8'), 'hi\n');
    return r;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

await check('a working directory under the host /tmp is visible in the guest', async () => {
  const dir = mkdtempSync('/tmp/lvsd selftest-');
  try {
    writeFileSync(join(dir, 'f'), 'from host\n');
    const r = await runInLab({ ...quiet, cwd: dir, command: ['sh', '-c', 'cat f; echo from guest > g'] });
    assert.equal(r.stdout, 'from host\n');
    assert.equal(readFileSync(join(dir, 'g'), 'utf8'), 'from guest\n');
    return r;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

await check('a command that runs too long: timeout, guest killed', async () => {
  const r = await runInLab({ ...quiet, timeoutMs: 8000, command: ['sh', '-c', 'echo started; sleep 600'] });
  assert.equal(r.ok, false);
  assert.equal(r.code, LAB_FAILURE);
  assert.equal(r.timedOut, true);
  assert.match(r.error, /still running after 8 s/);
  assert.equal(r.stdout, 'started\n');
  return r;
});

await check('no ip_vs: clear error', async () => {
  const r = await runInLab({ ...quiet, modules: ['dummy'], command: ['true'] });
  assert.equal(r.code, LAB_FAILURE);
  assert.match(r.error, /cannot load ip_vs/);
  return r;
});

await check('a kernel that panics at boot: clear error', async () => {
  const r = await runInLab({ ...quiet, mem: '24M', command: ['true'] });
  assert.equal(r.code, LAB_FAILURE);
  assert.match(r.error, /failed to boot.*Kernel panic/);
  return r;
});

await check('no UML binary: clear error', async () => {
  const saved = process.env.LVSD_LAB_UML;
  process.env.LVSD_LAB_UML = '/nonexistent/linux.uml';
  try {
    const r = await runInLab({ ...quiet, command: ['true'] });
    assert.equal(r.code, LAB_FAILURE);
    assert.match(r.error, /cannot start \/nonexistent\/linux.uml/);
    return r;
  } finally {
    if (saved === undefined) delete process.env.LVSD_LAB_UML;
    else process.env.LVSD_LAB_UML = saved;
  }
});

await check('the CLI passes the exit status and prints the boot time', async () => {
  let status = 0;
  let stderr = '';
  try {
    execFileSync(process.execPath, [join(REPO_ROOT, 'test/lab/run.mjs'), '--', 'sh', '-c', 'exit 3'], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  } catch (e) {
    status = e.status;
    stderr = e.stderr;
  }
  assert.equal(status, 3);
  assert.match(stderr, /^lab: ready in \d+\.\d\d s/m);
});

await check('an interrupted CLI takes the guest and its control directory with it', async () => {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'test/lab/run.mjs'), '--verbose', '--', 'sleep', '600'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const ctl = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no ready line within 60 s')), 60_000);
    child.stderr.on('data', (c) => {
      err += c;
      const m = /init=(\/var\/tmp\/lvsd-lab-[^/]+)\/init\.sh/.exec(err);
      if (m && /^lab: ready in/m.test(err)) {
        clearTimeout(t);
        resolve(m[1]);
      }
    });
  });
  assert.ok(existsSync(ctl));
  child.kill('SIGINT');
  const [code, signal] = await new Promise((r) => child.once('close', (c, s) => r([c, s])));
  assert.ok(code === 130 || signal === 'SIGINT', `exit ${code} ${signal}`);
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(!existsSync(ctl), `${ctl} left behind`);
  assert.ok(!groupAlive({ ctlDir: ctl }), 'guest left running');
});

console.log(failures ? `${failures} check(s) failed` : 'all lab checks passed');
process.exitCode = failures ? 1 : 0;
