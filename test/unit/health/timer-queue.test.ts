import { describe, expect, it } from 'vitest';
import { FakeClock } from '@lvsd/health';
import { TimerQueue } from '../../../packages/health/src/timer-queue.js';

describe('TimerQueue', () => {
  it('runs entries in time order (ties in insertion order), with cancellation, on one clock timer', async () => {
    const clock = new FakeClock();
    const q = new TimerQueue(clock, 0);
    const ran: number[] = [];
    const rnd = (() => {
      let a = 9;
      return () => ((a = (a * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    })();
    const entries = Array.from({ length: 2000 }, (_, i) => ({ i, at: Math.floor(rnd() * 1000), e: q.schedule(0, () => {}) }));
    for (const x of entries) q.cancel(x.e);
    expect(q.size).toBe(0);
    const live = entries.map((x) => ({ ...x, e: q.schedule(x.at, () => ran.push(x.i)) }));
    const cancelled = new Set<number>();
    for (const x of live) if (rnd() < 0.3) (q.cancel(x.e), cancelled.add(x.i));
    expect(q.size).toBe(2000 - cancelled.size);
    expect(clock.pending).toBe(1);
    await clock.advance(1000);
    const expected = live.filter((x) => !cancelled.has(x.i)).sort((a, b) => a.at - b.at || a.i - b.i).map((x) => x.i);
    expect(ran).toEqual(expected);
    expect(q.size).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('rounds wake-ups up to the tick, never early', async () => {
    const clock = new FakeClock();
    const q = new TimerQueue(clock, 10);
    const at: number[] = [];
    for (const d of [1, 3, 9, 10, 11, 25]) q.schedule(d, () => at.push(clock.now()));
    await clock.advance(100);
    expect(at).toEqual([10, 10, 10, 10, 20, 30]);
  });

  it('reuses an entry that is out of the heap (fired or cancelled), never one still queued', async () => {
    const clock = new FakeClock();
    const q = new TimerQueue(clock, 0);
    const ran: string[] = [];
    const a = q.schedule(5, () => ran.push('a'));
    // Still queued: a new entry, and both run.
    const b = q.schedule(5, () => ran.push('b'), a);
    expect(b).not.toBe(a);
    expect(q.size).toBe(2);
    await clock.advance(5);
    expect(ran).toEqual(['a', 'b']);
    // Fired: the same object, queued again with its new time and callback.
    const a2 = q.schedule(10, () => ran.push('a2'), a);
    expect(a2).toBe(a);
    q.cancel(b);
    const c = q.schedule(3, () => ran.push('c'));
    q.cancel(c);
    const c2 = q.schedule(4, () => ran.push('c2'), c);
    expect(c2).toBe(c);
    expect(q.size).toBe(2);
    await clock.advance(20);
    expect(ran).toEqual(['a', 'b', 'c2', 'a2']);
    expect(q.size).toBe(0);
  });
});
