// Notifications of state changes, in the order the changes happened: keepalived's
// notify / notify_master / notify_backup / notify_fault / notify_stop scripts
// (one at a time, so a slow script never lets a later state overtake an earlier
// one), and the notify_fifo line format `INSTANCE "VI_1" MASTER 100`.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, statSync, writeSync } from 'node:fs';
import { resolveProgram, splitArgv } from './argv.js';
import { runProgram } from './track.js';

export type NotifyState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP';

/** Command lines, or argv already split. */
export interface NotifyScripts {
  notify?: string | readonly string[];
  notifyMaster?: string | readonly string[];
  notifyBackup?: string | readonly string[];
  notifyFault?: string | readonly string[];
  notifyStop?: string | readonly string[];
}

export interface NotifyResult {
  script: string;
  ok: boolean;
  code: number | null;
  timedOut: boolean;
}

/** keepalived's notify_fifo line for an instance or a sync group. */
export function fifoLine(type: 'INSTANCE' | 'GROUP', name: string, state: NotifyState, priority?: number): string {
  return type === 'INSTANCE' ? `INSTANCE "${name}" ${state} ${priority ?? 0}\n` : `GROUP "${name}" ${state}\n`;
}

/** Writes lines to a FIFO (created if missing, opened read-write so writes never block on a missing reader) or a plain file. */
export class FifoWriter {
  private fd: number;
  constructor(readonly path: string) {
    if (!existsSync(path)) execFileSync('mkfifo', ['-m', '0600', path]);
    const fifo = statSync(path).isFIFO();
    this.fd = openSync(path, fifo ? constants.O_RDWR | constants.O_NONBLOCK : constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT);
  }
  write(line: string): void {
    try {
      writeSync(this.fd, line);
    } catch {
      /* a full pipe nobody reads: the line is lost, as with keepalived */
    }
  }
  close(): void {
    closeSync(this.fd);
  }
}

/** Runs notify scripts strictly one after another in event order. */
export class NotifyQueue {
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(
    private readonly timeoutMs = 60_000,
    private readonly onResult?: (r: NotifyResult) => void,
    /** Run the scripts in this network namespace (a path). */
    private readonly netns?: string,
  ) {}

  /** Queues the scripts for one state change: notify_<state> first, then notify with TYPE NAME STATE PRIORITY. */
  push(scripts: NotifyScripts, type: 'INSTANCE' | 'GROUP', name: string, state: NotifyState, priority: number): void {
    const specific = { MASTER: scripts.notifyMaster, BACKUP: scripts.notifyBackup, FAULT: scripts.notifyFault, STOP: scripts.notifyStop }[state];
    const runs: string[][] = [];
    if (specific) runs.push(splitArgv(specific));
    if (scripts.notify) runs.push([...splitArgv(scripts.notify), type, name, state, ...(type === 'INSTANCE' ? [String(priority)] : [])]);
    for (const argv of runs) this.enqueue(argv);
  }

  /** Resolves when every queued script has finished. */
  idle(): Promise<void> {
    return this.chain;
  }

  get queued(): number {
    return this.pending;
  }

  private enqueue(argv: string[]): void {
    this.pending++;
    this.chain = this.chain.then(async () => {
      const prog = argv.length ? resolveProgram(argv[0]) : undefined;
      const r = prog ? await runProgram([prog, ...argv.slice(1)], this.timeoutMs, this.netns) : { ok: false, code: null, timedOut: false };
      this.pending--;
      this.onResult?.({ script: argv.join(' '), ...r });
    });
  }
}
