// Running a director from the command line: load the configuration, start the Director,
// wire the signals (HUP reload, TERM/INT stop, USR1 data dump, USR2 stats), pid file.
import { unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventEmitter } from 'node:events';
import type { KeepalivedConfig } from '../config/model.js';
import type { CliOptions } from './args.js';
import { ConfigLoader } from '../config/incremental.js';
import { EXIT, cliLoadOptions, renderDiagnostics } from './configtest.js';
import { logEvent, type Logger } from './log.js';

/** What the CLI needs of the Director (packages/director/src/director.ts). */
export interface DirectorLike extends EventEmitter {
  start(opts?: { signal?: AbortSignal }): Promise<void>;
  reload(config: KeepalivedConfig): Promise<void>;
  stop(): Promise<void>;
  status(): object;
}

export interface DirectorOptions {
  vrrp: boolean;
  check: boolean;
  dontReleaseIpvs: boolean;
  dontReleaseVrrp: boolean;
  metricsPort?: number;
  metricsHost?: string;
  logger: Logger;
}

export type DirectorFactory = (config: KeepalivedConfig, opts: DirectorOptions) => DirectorLike | Promise<DirectorLike>;

/** The real Director, loaded when needed (so that `lvsd -t` never loads the network code). */
export const loadDirector: DirectorFactory = async (config, opts) => {
  const spec = '../director.js';
  const mod = (await import(spec)) as { Director: new (c: KeepalivedConfig, o: DirectorOptions) => DirectorLike };
  return new mod.Director(config, opts);
};

export interface RunDeps {
  createDirector?: DirectorFactory;
  /** Where process signals come from (default: process). */
  signals?: Pick<NodeJS.Process, 'on' | 'off'>;
  /** Directory for the USR1 / USR2 files (default $TMPDIR or /tmp). */
  dumpDir?: string;
}

/** Which parts run: -P only VRRP, -C only checkers + IPVS, neither (or both) everything. */
export function parts(opts: CliOptions): { vrrp: boolean; check: boolean } {
  if (opts.vrrp && !opts.check) return { vrrp: true, check: false };
  if (opts.check && !opts.vrrp) return { vrrp: false, check: true };
  return { vrrp: true, check: true };
}

/** Runs until stopped by a signal; resolves with the exit code. */
export async function runDaemon(opts: CliOptions, logger: Logger, deps: RunDeps = {}): Promise<number> {
  const signals = deps.signals ?? process;
  const dumpDir = deps.dumpDir ?? tmpdir();
  const create = deps.createDirector ?? loadDirector;

  // One loader for the process: a SIGHUP re-reads only the virtual_server blocks that changed.
  const loader = new ConfigLoader(opts.useFile, cliLoadOptions(opts));
  // performance.now() counts from the process's start: this is Node's own start plus loading the CLI.
  const readStart = performance.now();
  const first = loader.load();
  const firstReadMs = performance.now() - readStart;
  for (const line of renderDiagnostics(first.diagnostics, { json: false, detail: opts.logDetail })) {
    const sev = line.includes(': error: ') ? 'error' : line.includes(': warning: ') ? 'warn' : 'info';
    logger.log(sev, line, { event: 'config-diagnostic' });
  }
  if (!first.ok) {
    logger.error(`configuration ${opts.useFile} has errors: not starting`, { event: 'config-invalid' });
    return first.diagnostics.length === 1 && first.diagnostics[0]!.message.startsWith('cannot read') ? EXIT.NO_CONFIG : EXIT.CONFIG_ERRORS;
  }

  const which = parts(opts);
  /** The configuration running now (a reload replaces it). */
  let current = first.config;
  let director: DirectorLike;
  const createStart = performance.now();
  try {
    director = await create(first.config, {
      ...which,
      dontReleaseIpvs: opts.dontReleaseIpvs,
      dontReleaseVrrp: opts.dontReleaseVrrp,
      ...(opts.metrics ? { metricsPort: opts.metrics.port, metricsHost: opts.metrics.host } : {}),
      logger,
    });
  } catch (e) {
    logger.error(`cannot create the director: ${(e as Error).message}`, { event: 'fatal', error: e });
    return EXIT.FATAL;
  }
  director.on('log', (e: unknown) => logEvent(logger, e));

  if (opts.pid) {
    try {
      writeFileSync(opts.pid, `${process.pid}\n`);
    } catch (e) {
      logger.error(`cannot write pid file ${opts.pid}: ${(e as Error).message}`, { event: 'fatal' });
      return EXIT.FATAL;
    }
  }
  const removePid = (): void => {
    if (!opts.pid) return;
    try {
      unlinkSync(opts.pid);
    } catch {
      /* already gone */
    }
  };

  let stopping: Promise<void> | undefined;
  let reloading = Promise.resolve();
  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((r) => (resolveExit = r));

  const stop = (sig: string): void => {
    if (stopping) {
      logger.warn(`${sig} again while stopping: exiting now`, { event: 'stop-forced' });
      removePid();
      resolveExit(EXIT.FATAL);
      return;
    }
    logger.info(`${sig}: stopping`, { event: 'stop' });
    stopping = reloading
      .then(() => director.stop())
      .then(
        () => {
          logger.info('stopped', { event: 'stopped' });
          removePid();
          resolveExit(EXIT.OK);
        },
        (e: unknown) => {
          logger.error(`stop failed: ${(e as Error).message}`, { event: 'stop-failed', error: e });
          removePid();
          resolveExit(EXIT.FATAL);
        },
      );
  };
  const reload = (): void => {
    if (stopping) return;
    reloading = reloading.then(async () => {
      logger.info(`SIGHUP: reloading ${opts.useFile}`, { event: 'reload' });
      const t0 = performance.now();
      let r: ReturnType<ConfigLoader['load']>;
      try {
        r = loader.load();
      } catch (e) {
        // A bug in the loader must not end the daemon or stop later reloads.
        logger.error(`reload failed: ${(e as Error).message}`, { event: 'reload-failed', error: e });
        return;
      }
      const readMs = performance.now() - t0;
      logger.debug(`configuration read (${loader.lastMode}) in ${readMs.toFixed(1)} ms`, { event: 'config-read', mode: loader.lastMode, ms: readMs });
      for (const line of renderDiagnostics(r.diagnostics, { json: false, detail: opts.logDetail })) {
        logger.log(line.includes(': error: ') ? 'error' : 'warn', line, { event: 'config-diagnostic' });
      }
      if (!r.ok) {
        logger.error('new configuration has errors: kept running the previous one, nothing changed', { event: 'reload-rejected' });
        return;
      }
      try {
        const t1 = performance.now();
        await director.reload(r.config);
        current = r.config;
        const applyMs = performance.now() - t1;
        logger.info(`reloaded (read ${readMs.toFixed(0)} ms, applied ${applyMs.toFixed(0)} ms)`, { event: 'reloaded', readMs, applyMs });
      } catch (e) {
        logger.error(`reload failed: ${(e as Error).message}`, { event: 'reload-failed', error: e });
      }
    });
  };
  const dump = (kind: 'data' | 'stats'): void => {
    try {
      const status = director.status();
      // keepalived's file names, so tools that read /tmp/keepalived.data keep working.
      const base = join(dumpDir, `keepalived.${kind}`);
      writeFileSync(`${base}.json`, `${JSON.stringify(kind === 'data' ? { config: current, status } : status, null, 2)}\n`);
      writeFileSync(base, renderText(kind === 'data' ? { status, config: current } : status));
      logger.info(`${kind} written to ${base} and ${base}.json`, { event: kind === 'data' ? 'data-dump' : 'stats-dump' });
    } catch (e) {
      logger.error(`cannot write ${kind} dump: ${(e as Error).message}`, { event: 'dump-failed' });
    }
  };

  const handlers: [string, () => void][] = [
    ['SIGTERM', () => stop('SIGTERM')],
    ['SIGINT', () => stop('SIGINT')],
    ['SIGHUP', reload],
    ['SIGUSR1', () => dump('data')],
    ['SIGUSR2', () => dump('stats')],
  ];
  for (const [s, h] of handlers) signals.on(s, h);

  try {
    const startAt = performance.now();
    await director.start();
    // Where a start's time goes (the process's own start, the read, the director's start).
    const ms = {
      sinceExec: Math.round(performance.now()),
      boot: Math.round(readStart),
      read: Math.round(firstReadMs),
      create: Math.round(startAt - createStart),
      start: Math.round(performance.now() - startAt),
    };
    logger.info(`started from ${opts.useFile}`, { event: 'started', vrrp: which.vrrp, check: which.check });
    logger.debug(`startup: ${ms.sinceExec} ms since the process began (node and the CLI ${ms.boot} ms, configuration read ${ms.read} ms, director loaded ${ms.create} ms, started ${ms.start} ms)`, { event: 'startup-timing', ...ms });
  } catch (e) {
    logger.error(`start failed: ${(e as Error).message}`, { event: 'start-failed', error: e });
    try {
      await director.stop();
    } catch {
      /* best effort */
    }
    for (const [s, h] of handlers) signals.off(s, h);
    removePid();
    return EXIT.FATAL;
  }
  const code = await exited;
  for (const [s, h] of handlers) signals.off(s, h);
  return code;
}

/** A readable indented rendering of JSON-like data (the keepalived-style .data / .stats files). */
export function renderText(v: unknown, indent = ''): string {
  if (v === null || typeof v !== 'object') return `${indent}${String(v)}\n`;
  let out = '';
  const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v as object);
  for (const [k, val] of entries) {
    if (val !== null && typeof val === 'object') out += `${indent}${k}:\n${renderText(val, `${indent}  `)}`;
    else if (val !== undefined) out += `${indent}${k} = ${String(val)}\n`;
  }
  return out;
}
