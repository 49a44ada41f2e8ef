// All checkers share one timer: a binary min-heap of deadlines (next check,
// attempt timeout) and a single clock timer armed for the earliest. Wake-ups
// are rounded up to a grid of `resolution` ms, like the ticks of a timer wheel:
// every entry due by the tick runs in that one wake-up, so 1,000 checks a
// second cost ~100 wake-ups, not 1,000 (an entry runs at most `resolution` ms
// late, never early). Entries are cancelled lazily (flag) so cancelling is
// O(1); dead entries are dropped when they reach the top.
import type { Clock } from './clock.js';

export interface TimerEntry {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
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

  get size(): number {
    return this.heap.length;
  }

  schedule(delayMs: number, fn: () => void): TimerEntry {
    const e: TimerEntry = { at: this.now() + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false };
    this.push(e);
    if (!this.running && this.tick(e.at) < this.armedAt) this.arm();
    return e;
  }

  cancel(e: TimerEntry | undefined): void {
    if (e) e.cancelled = true;
  }

  clear(): void {
    for (const e of this.heap) e.cancelled = true;
    this.heap = [];
    if (this.handle !== undefined) this.clock.clearTimer(this.handle);
    this.handle = undefined;
    this.armedAt = Infinity;
  }

  private tick(at: number): number {
    return this.resolution > 0 ? Math.ceil(at / this.resolution) * this.resolution : at;
  }

  private arm(): void {
    while (this.heap.length && this.heap[0].cancelled) this.pop();
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
      // 0.5 ms of slack: timers have millisecond granularity, and entries due
      // within the same tick are better run in one batch than one wake-up each.
      while (this.heap.length && this.heap[0].at <= now + 0.5) {
        const e = this.pop()!;
        if (e.cancelled) continue;
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
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): TimerEntry | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l], h[m])) m = l;
        if (r < h.length && less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

function less(a: TimerEntry, b: TimerEntry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
