// The lvsd CLI: `-t` by spawning the built dist/cli.js, the daemon runner with a fake Director.
import { execFileSync, spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../../packages/director/src/cli/args.js';
import { createLogger } from '../../../packages/director/src/cli/log.js';
import { runDaemon, type DirectorLike } from '../../../packages/director/src/cli/run.js';
import type { KeepalivedConfig } from '@lvsd/director';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(ROOT, 'packages/director/dist/cli.js');
const BIN = join(ROOT, 'packages/director/bin/lvsd.js');
const FIX = join(ROOT, 'test/fixtures/config');
let tmp: string;

function lvsd(args: string[], bin = CLI) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  // The CLI is tested as users run it: the compiled JavaScript (incremental build, fast when up to date).
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', join(ROOT, 'packages/director')], { stdio: 'pipe' });
  } catch (e) {
    // A referenced package being mid-edit must not hide the CLI's own results when a build exists.
    if (!existsSync(CLI)) throw e;
    console.warn(`tsc -b packages/director failed; testing the existing ${CLI}:\n${String((e as { stdout?: unknown }).stdout ?? e)}`);
  }
  tmp = mkdtempSync(join(tmpdir(), 'lvsd-cli-'));
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('lvsd -t', () => {
  const seeds = ['seed000-node-a', 'seed000-node-b', 'seed001-node1', 'seed001-node2', 'seed002-master', 'seed003-backup', 'seed003-master'];
  it.each(seeds)('%s.conf validates (exit 0)', (s) => {
    const r = lvsd(['-t', '-f', join(FIX, `${s}.conf`)]);
    expect(r.err).toContain(`lvsd: ${join(FIX, `${s}.conf`)}: configuration OK`);
    expect(r.code).toBe(0);
  });

  it.each(['seed001-node1', 'seed001-node2'])('%s.raw.conf validates with the NBSP message (exit 0; 5 with --strict)', (s) => {
    const f = join(FIX, `${s}.raw.conf`);
    const r = lvsd(['-t', '-f', f]);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`${f}:3:12: warning: U+00A0 NO-BREAK SPACE used as a space`);
    expect(r.err).toMatch(/more lines of this file have non-ASCII spaces \(lines 14-16, 18-21, /);
    expect(lvsd(['-t', '--strict', '-f', f]).code).toBe(5);
    expect(lvsd(['-t', '-D', '-f', f]).err.split('\n').filter((l) => l.includes('U+00A0')).length).toBe(115);
  });

  it('exits 5 with file:line:col messages on errors', () => {
    const f = join(tmp, 'bad.conf');
    writeFileSync(f, 'vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 300\n  virtual_ipaddress {\n    10.0.0.1\n  }\n}\n');
    const r = lvsd(['-t', '--use-file', f]);
    expect(r.code).toBe(5);
    expect(r.err).toContain(`${f}:3:21: error: virtual_router_id: expected a VRID between 1 and 255, got '300'`);
    expect(r.err).toContain('configuration NOT valid, nothing would be applied');
  });

  it('exits 4 when the file cannot be read', () => {
    const r = lvsd(['-t', '-f', join(tmp, 'missing.conf')]);
    expect(r.code).toBe(4);
    expect(r.err).toContain(`${join(tmp, 'missing.conf')}:1:1: error: cannot read configuration file: no such file`);
  });

  it('--log-json writes one JSON object per line', () => {
    const r = lvsd(['-t', '--log-json', '-f', join(FIX, 'seed003-master.conf')]);
    const lines = r.err.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ line: 28, col: 13, severity: 'warning', keyword: 'nb_get_retry' });
    expect(lines[lines.length - 1]).toMatchObject({ level: 'info' });
  });

  it('-i selects @id lines', () => {
    const f = join(tmp, 'ids.conf');
    writeFileSync(f, 'vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 5\n @lb1 priority 150\n @lb2 priority 50\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n');
    const dump = (id: string) => JSON.parse(lvsd(['-t', '-d', '-i', id, '-f', f]).out) as KeepalivedConfig;
    expect(dump('lb1').vrrpInstances[0]!.priority).toBe(150);
    expect(dump('lb2').vrrpInstances[0]!.priority).toBe(50);
  });

  it('the bin runs through its #! line (env -S node with its V8 options)', () => {
    // As `npx lvsd` starts it: executed, not handed to node (a #! line the system cannot
    // run would break every installed lvsd while `node bin/lvsd.js` kept working).
    const r = spawnSync(BIN, ['-v'], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, NODE_OPTIONS: '' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^lvsd \d+\.\d+\.\d+/);
    const flags = readFileSync(BIN, 'utf8').split('\n')[0]!;
    expect(flags).toMatch(/^#!\/usr\/bin\/env -S node --max-semi-space-size=2$/);
  });

  it('-t loads no native code: it works where the addon cannot load', () => {
    const noAddon = 'data:text/javascript,process.dlopen=()=>{throw new Error("the native addon was loaded")}';
    const r = spawnSync(process.execPath, ['--import', noAddon, CLI, '-t', '-f', join(FIX, 'seed001-node1.conf')], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).not.toContain('native addon was loaded');
    expect(r.status, r.stderr).toBe(0);
  });

  it('-v, -h and a bad flag', () => {
    expect(lvsd(['-v']).out).toMatch(/^lvsd \d+\.\d+\.\d+/);
    const h = lvsd(['--help']);
    expect(h.code).toBe(0);
    expect(h.out).toContain('-f, --use-file=FILE');
    const bad = lvsd(['--nope']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("Unknown option '--nope'");
  });

  it('the bin shim runs the same CLI', () => {
    const r = lvsd(['-t', '-f', join(FIX, 'seed000-node-a.conf')], BIN);
    expect(r.code).toBe(0);
    expect(r.err).toContain('configuration OK');
  });
});

describe('arguments', () => {
  it('parses keepalived flags, short and long', () => {
    expect(parseCliArgs(['-f', '/x.conf', '-P', '-n', '-l', '-D', '-p', '/run/l.pid', '-i', 'lb1', '-I', '-V', '--strict', '--log-json'])).toMatchObject({
      useFile: '/x.conf',
      vrrp: true,
      check: false,
      dontFork: true,
      logConsole: true,
      logDetail: true,
      pid: '/run/l.pid',
      configId: 'lb1',
      dontReleaseIpvs: true,
      dontReleaseVrrp: true,
      strict: true,
      logJson: true,
    });
    expect(parseCliArgs([]).useFile).toBe('/etc/keepalived/keepalived.conf');
    expect(parseCliArgs(['--use-file=/y.conf', '--check', '--config-test'])).toMatchObject({ useFile: '/y.conf', check: true, configTest: true });
  });
});

describe('the daemon runner (fake Director)', () => {
  class FakeDirector extends EventEmitter implements DirectorLike {
    calls: string[] = [];
    configs: KeepalivedConfig[] = [];
    constructor(
      config: KeepalivedConfig,
      readonly opts: Record<string, unknown>,
    ) {
      super();
      this.configs.push(config);
    }
    async start() {
      this.calls.push('start');
      this.emit('log', { level: 'info', msg: 'VI_1 entering MASTER state', instance: 'VI_1' });
    }
    async reload(c: KeepalivedConfig) {
      this.calls.push('reload');
      this.configs.push(c);
    }
    async stop() {
      this.calls.push('stop');
    }
    status() {
      return { instances: [{ name: 'VI_1', state: 'MASTER' }] };
    }
  }

  it('starts, reloads on HUP (rejecting a bad file), dumps on USR1/USR2, stops on TERM, manages the pid file', async () => {
    const conf = join(tmp, 'run.conf');
    const inst = (prio: number) => `vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 5\n priority ${prio}\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n`;
    writeFileSync(conf, inst(100));
    const pid = join(tmp, 'lvsd.pid');
    const lines: string[] = [];
    const logger = createLogger({ json: true, write: (l) => void lines.push(l) });
    const signals = new EventEmitter();
    let director: FakeDirector | undefined;
    const opts = parseCliArgs(['-f', conf, '-p', pid, '-P', '-I']);
    const done = runDaemon(opts, logger, {
      signals: signals as unknown as NodeJS.Process,
      dumpDir: tmp,
      createDirector: (c, o) => (director = new FakeDirector(c, o as unknown as Record<string, unknown>)),
    });
    const tick = () => new Promise((r) => setTimeout(r, 20));
    await tick();
    expect(director!.calls).toEqual(['start']);
    expect(director!.opts).toMatchObject({ vrrp: true, check: false, dontReleaseIpvs: true, dontReleaseVrrp: false });
    expect(readFileSync(pid, 'utf8')).toBe(`${process.pid}\n`);

    writeFileSync(conf, inst(120));
    signals.emit('SIGHUP');
    await tick();
    expect(director!.calls).toEqual(['start', 'reload']);
    expect(director!.configs[1]!.vrrpInstances[0]!.priority).toBe(120);

    writeFileSync(conf, inst(999));
    signals.emit('SIGHUP');
    await tick();
    expect(director!.calls).toEqual(['start', 'reload']);

    signals.emit('SIGUSR1');
    signals.emit('SIGUSR2');
    expect(JSON.parse(readFileSync(join(tmp, 'keepalived.stats.json'), 'utf8'))).toEqual({ instances: [{ name: 'VI_1', state: 'MASTER' }] });
    expect(readFileSync(join(tmp, 'keepalived.data'), 'utf8')).toContain('state = MASTER');

    signals.emit('SIGTERM');
    expect(await done).toBe(0);
    expect(director!.calls).toEqual(['start', 'reload', 'stop']);
    expect(existsSync(pid)).toBe(false);

    const events = lines.map((l) => JSON.parse(l) as { level: string; msg: string; event?: string });
    expect(events.map((e) => e.event ?? e.msg)).toEqual(
      expect.arrayContaining(['VI_1 entering MASTER state', 'started', 'reload', 'reloaded', 'reload-rejected', 'data-dump', 'stats-dump', 'stop', 'stopped']),
    );
    expect(events.find((e) => e.event === 'config-diagnostic' && e.level === 'error')!.msg).toContain(
      `${conf}:4:11: error: priority: expected a priority between 1 and 255, got '999'`,
    );
  });

  it('does not start from an invalid configuration', async () => {
    const conf = join(tmp, 'bad-run.conf');
    writeFileSync(conf, 'vrrp_instance {\n}\n');
    let created = false;
    const code = await runDaemon(parseCliArgs(['-f', conf]), createLogger({ write: () => {} }), {
      signals: new EventEmitter() as unknown as NodeJS.Process,
      createDirector: () => {
        created = true;
        throw new Error('must not be called');
      },
    });
    expect(code).toBe(5);
    expect(created).toBe(false);
  });
});
