// All checkers share one timer: a binary min-heap of deadlines (next check,
// attempt timeout) and a single clock timer armed for the earliest. Wake-ups
// are rounded up to a grid of `resolution` ms, like the ticks of a timer wheel:
// every entry due by the tick runs in that one wake-up, so 1,000 checks a
// second cost ~100 wake-ups, not 1,000 (an entry runs at most `resolution` ms
// late, never early). Cancelling removes the entry at once (each entry knows
// its slot): a cancelled attempt deadline is garbage the moment its check
// completes, instead of a heap entry that lives, and gets tenured, for the
// whole connect_timeout.
import type { Clock } from './clock.js';

export interface TimerEntry {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
  /** Slot in the heap; -1 once out of it. */
  index: number;
}

export class TimerQueue {
  private heap: TimerEntry[] = [];
  private seq = 0;
  private armedAt = Infinity;
  private handle: unknown;
  private running = false;
  /** Timer callbacks run so far (for tests and stats). */
  fired = 0;
  private cached = 0;
  private cacheValid = false;
  private readonly invalidate = () => {
    this.cacheValid = false;
  };

  constructor(
    private readonly clock: Clock,
    private readonly resolution = 10,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  /**
   * The clock, read at most once per event-loop turn: every check that
   * completes in one turn shares the reading. Where clock_gettime is a real
   * system call (user-mode Linux, some VMs) this saves several per check.
   */
  now(): number {
    if (this.cacheValid) return this.cached;
    this.cached = this.clock.now();
    this.cacheValid = true;
    setImmediate(this.invalidate);
    return this.cached;
  }

  /**
   * Queues `fn` after `delayMs`. `reuse`: an entry of this queue that is out of
   * the heap (fired or cancelled) to fill in instead of a new one, so a checker
   * that schedules every second does not make a new entry every time; ignored
   * if it is still queued.
   */
  schedule(delayMs: number, fn: () => void, reuse?: TimerEntry): TimerEntry {
    const at = this.now() + Math.max(0, delayMs);
    let e: TimerEntry;
    if (reuse && reuse.index < 0 && reuse.cancelled) {
      e = reuse;
      e.at = at;
      e.seq = this.seq++;
      e.fn = fn;
      e.cancelled = false;
    } else e = { at, seq: this.seq++, fn, cancelled: false, index: -1 };
    this.push(e);
    if (!this.running && this.tick(e.at) < this.armedAt) this.arm();
    return e;
  }

  cancel(e: TimerEntry | undefined): void {
    if (!e || e.cancelled) return;
    e.cancelled = true;
    if (e.index >= 0) this.removeAt(e.index);
    // The armed timer may now be early; it finds nothing due and re-arms.
  }

  clear(): void {
    for (const e of this.heap) {
      e.cancelled = true;
      e.index = -1;
    }
    this.heap = [];
    if (this.handle !== undefined) this.clock.clearTimer(this.handle);
    this.handle = undefined;
    this.armedAt = Infinity;
  }

  private tick(at: number): number {
    return this.resolution > 0 ? Math.ceil(at / this.resolution) * this.resolution : at;
  }

  private arm(): void {
    const top = this.heap[0];
    if (this.handle !== undefined) this.clock.clearTimer(this.handle);
    this.handle = undefined;
    this.armedAt = Infinity;
    if (!top) return;
    const wake = this.tick(top.at);
    this.armedAt = wake;
    this.handle = this.clock.setTimer(() => this.run(), Math.max(0, wake - this.now()));
  }

  private run(): void {
    this.handle = undefined;
    this.armedAt = Infinity;
    this.running = true;
    try {
      this.cacheValid = false;
      const now = this.now();
      // 0.5 ms of slack: timers have millisecond granularity.
      while (this.heap.length && this.heap[0].at <= now + 0.5) {
        const e = this.heap[0];
        this.removeAt(0);
        e.cancelled = true;
        this.fired++;
        e.fn();
      }
    } finally {
      this.running = false;
      this.arm();
    }
  }

  private push(e: TimerEntry): void {
    e.index = this.heap.length;
    this.heap.push(e);
    this.up(e.index);
  }

  private removeAt(i: number): void {
    const h = this.heap;
    const e = h[i];
    const last = h.pop()!;
    e.index = -1;
    if (i === h.length) return;
    h[i] = last;
    last.index = i;
    if (!this.up(i)) this.down(i);
  }

  /** Sifts up; true if the entry moved. */
  private up(i: number): boolean {
    const h = this.heap;
    const start = i;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i], h[p])) break;
      this.swap(i, p);
      i = p;
    }
    return i !== start;
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && less(h[l], h[m])) m = l;
      if (r < h.length && less(h[r], h[m])) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(a: number, b: number): void {
    const h = this.heap;
    const t = h[a];
    h[a] = h[b];
    h[b] = t;
    h[a].index = a;
    h[b].index = b;
  }
}

function less(a: TimerEntry, b: TimerEntry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
