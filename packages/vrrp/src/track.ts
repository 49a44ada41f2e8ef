// Trackers change an instance's priority or put it in FAULT: vrrp_script
// (track_script), track_interface and track_file, with keepalived's weight rules.
// Each tracker reports { fault, delta }; the instance sums them.
import { EventEmitter } from 'node:events';
import { readFile, watch } from 'node:fs/promises';
import { runProgram as runInGroup } from '@lvsd/native';
import { resolveProgram, splitArgv } from './argv.js';
import type { TrackFileOption, TrackInterfaceOption, TrackScriptOption } from './options.js';

export interface TrackerStatus {
  /** Puts the instance in FAULT (weight 0 and failing). */
  fault: boolean;
  /** Added to the base priority. */
  delta: number;
}

export interface TrackerEvents {
  change: [TrackerStatus];
  /** Something the operator should know (a script that cannot be found, a run that timed out). */
  warning: [string];
}

export interface Tracker extends EventEmitter<TrackerEvents> {
  readonly key: string;
  status(): TrackerStatus;
  /** Resolves once the first result is known. */
  start(): Promise<void>;
  stop(): void;
}

/** keepalived's rule: weight 0 means FAULT on failure; >0 adds on success; <0 adds on failure. */
function weigh(ok: boolean, weight: number, reverse = false): TrackerStatus {
  if (weight === 0) return { fault: !ok, delta: 0 };
  const on = reverse ? !ok : ok;
  if (weight > 0) return { fault: false, delta: on ? weight : 0 };
  return { fault: false, delta: on ? 0 : weight };
}

/**
 * Result of one run of a program: exit code 0 is success; a timeout kills the whole
 * process group. With `netns` (a path) it runs in that network namespace, as
 * keepalived runs its scripts in its `net_namespace`.
 */
export async function runProgram(argv: string[], timeoutMs: number, netns?: string): Promise<{ ok: boolean; code: number | null; timedOut: boolean }> {
  const r = await runInGroup(argv, { timeoutMs, netns });
  return { ok: !r.timedOut && r.code === 0, code: r.code, timedOut: r.timedOut };
}

export class ScriptTracker extends EventEmitter<TrackerEvents> implements Tracker {
  readonly key: string;
  readonly argv: string[];
  /** false when the program cannot be found: keepalived disables such a script. */
  readonly enabled: boolean;
  private ok: boolean | undefined;
  private streak = 0;
  /** Completed runs. */
  runs = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly weight: number;

  constructor(
    private readonly o: TrackScriptOption,
    private readonly netns?: string,
  ) {
    super();
    this.key = `track_script ${o.name}`;
    this.weight = o.weight ?? 0;
    const argv = splitArgv(o.script);
    const prog = argv.length ? resolveProgram(argv[0]) : undefined;
    this.enabled = prog !== undefined;
    this.argv = prog ? [prog, ...argv.slice(1)] : argv;
  }

  status(): TrackerStatus {
    if (!this.enabled || this.ok === undefined) return { fault: false, delta: 0 };
    return weigh(this.ok, this.weight, this.o.reverse);
  }

  async start(): Promise<void> {
    if (!this.enabled) {
      this.emit('warning', `track_script ${this.o.name}: cannot find ${JSON.stringify(this.argv[0] ?? '')} in PATH (no shell is used) - disabling, as keepalived does`);
      return;
    }
    await this.runOnce();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.runOnce().then(() => this.schedule()), (this.o.interval ?? 1) * 1000);
    this.timer.unref();
  }

  private async runOnce(): Promise<void> {
    const timeoutMs = (this.o.timeout ?? this.o.interval ?? 1) * 1000;
    const r = await runProgram(this.argv, timeoutMs, this.netns);
    if (this.stopped) return;
    this.runs++;
    if (r.timedOut) this.emit('warning', `track_script ${this.o.name}: timed out after ${timeoutMs} ms, process group killed`);
    this.record(r.ok);
  }

  /** rise/fall hysteresis; the first result counts at once (keepalived). */
  private record(ok: boolean): void {
    const before = this.status();
    if (this.ok === undefined) this.ok = ok;
    else if (ok !== this.ok) {
      this.streak++;
      if (this.streak >= (ok ? (this.o.rise ?? 1) : (this.o.fall ?? 1))) {
        this.ok = ok;
        this.streak = 0;
      }
    } else this.streak = 0;
    const after = this.status();
    if (before.fault !== after.fault || before.delta !== after.delta) this.emit('change', after);
  }
}

/** Link state of another interface, fed by the instance's rtnetlink link events. */
export class InterfaceTracker extends EventEmitter<TrackerEvents> implements Tracker {
  readonly key: string;
  private up = true;
  constructor(private readonly o: TrackInterfaceOption) {
    super();
    this.key = `track_interface ${o.name}`;
  }
  status(): TrackerStatus {
    return weigh(this.up, this.o.weight ?? 0);
  }
  /** Called with every link event / initial state. */
  set(up: boolean): void {
    if (up === this.up) return;
    this.up = up;
    this.emit('change', this.status());
  }
  async start(): Promise<void> {}
  stop(): void {}
}

/** keepalived track_file: the file holds a number; weight x number is added, or FAULT when weight is 0 and the number is not 0. */
export class FileTracker extends EventEmitter<TrackerEvents> implements Tracker {
  readonly key: string;
  private value = 0;
  private ac: AbortController | undefined;
  private poll: NodeJS.Timeout | undefined;
  constructor(private readonly o: TrackFileOption) {
    super();
    this.key = `track_file ${o.name ?? o.path}`;
  }
  status(): TrackerStatus {
    const w = this.o.weight ?? 0;
    if (w === 0) return { fault: this.value !== 0, delta: 0 };
    return { fault: false, delta: this.value * w };
  }
  async start(): Promise<void> {
    await this.read();
    this.ac = new AbortController();
    // fs.watch misses a file created later or replaced by rename; a slow poll covers both
    this.poll = setInterval(() => void this.read(), 1000);
    this.poll.unref();
    void (async () => {
      try {
        for await (const _ of watch(this.o.path, { signal: this.ac!.signal })) await this.read();
      } catch {
        /* no file yet, or stopped: the poll carries on */
      }
    })();
  }
  stop(): void {
    this.ac?.abort();
    clearInterval(this.poll);
  }
  private async read(): Promise<void> {
    let v = 0;
    try {
      const n = parseInt((await readFile(this.o.path, 'utf8')).trim(), 10);
      v = Number.isFinite(n) ? n : 0;
    } catch {
      v = 0; // a missing file reads as 0, as keepalived
    }
    if (v === this.value) return;
    this.value = v;
    this.emit('change', this.status());
  }
}
