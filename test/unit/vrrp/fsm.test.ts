// RFC 5798 section 6 (and RFC 3768 for v2) transition by transition, with the
// time passed in by hand: no real timers anywhere.
import { describe, expect, it } from 'vitest';
import { ipToBytes } from '@lvsd/native';
import { VrrpStateMachine, type FsmAction, type FsmConfig } from '@lvsd/vrrp';

const ME = ipToBytes('10.0.0.2');
const LOW = ipToBytes('10.0.0.1');
const HIGH = ipToBytes('10.0.0.3');

function fsm(over: Partial<FsmConfig> = {}) {
  return new VrrpStateMachine({ version: 2, priority: 100, advertIntCs: 100, preempt: true, preemptDelayMs: 0, primaryAddress: ME, ...over });
}
const types = (a: FsmAction[]) => a.map((x) => x.type);
const stateOf = (a: FsmAction[]) => a.find((x) => x.type === 'state');
const timerOf = (a: FsmAction[]) => (a.find((x) => x.type === 'setTimer') as { at: number } | undefined)?.at;

describe('Initialize', () => {
  it('a backup arms Master_Down_Interval = 3 x Advertisement_Interval + Skew_Time (v2: (256-prio)/256 s)', () => {
    const m = fsm();
    const a = m.start(1000);
    expect(stateOf(a)).toEqual({ type: 'state', from: 'INIT', to: 'BACKUP', reason: 'startup' });
    expect(timerOf(a)).toBe(1000 + 3000 + (156 * 1000) / 256);
  });
  it('the address owner (255) becomes master at once: advert first, then VIPs, then gARP', () => {
    const m = fsm({ priority: 255 });
    const a = m.start(0);
    expect(types(a)).toEqual(['clearTimer', 'advertise', 'addVips', 'garp', 'state']);
    expect(a[1]).toEqual({ type: 'advertise', priority: 255, intervalCs: 100 });
    expect(stateOf(a)).toMatchObject({ to: 'MASTER', reason: 'addressOwner' });
  });
  it('v3 counts in centiseconds: advert_int 0.02 gives 60 ms + (256-prio) x 20 ms / 256', () => {
    const m = fsm({ version: 3, advertIntCs: 2 });
    expect(timerOf(m.start(0))).toBeCloseTo(60 + (156 * 20) / 256, 9);
  });
  it('a fault before start starts in FAULT', () => {
    const m = fsm();
    m.setFault(0, 'eth0', true);
    expect(stateOf(m.start(0))).toMatchObject({ to: 'FAULT' });
  });
});

describe('Initialize after a reload (resume)', () => {
  it('a resumed master is master at once, advertising at its (new) priority', () => {
    const m = fsm({ priority: 90 });
    const a = m.start(0, 'MASTER');
    expect(types(a)).toEqual(['clearTimer', 'advertise', 'addVips', 'garp', 'state']);
    expect(a[1]).toEqual({ type: 'advertise', priority: 90, intervalCs: 100 });
    expect(stateOf(a)).toEqual({ type: 'state', from: 'INIT', to: 'MASTER', reason: 'reload' });
    // ... and yields to a better master as any master does.
    expect(stateOf(m.receive(10, { priority: 100, advertIntCs: 100, src: HIGH }))).toMatchObject({ to: 'BACKUP', reason: 'higherPriority' });
  });
  it('a resumed backup arms Master_Down_Interval, as at startup', () => {
    const a = fsm().start(1000, 'BACKUP');
    expect(stateOf(a)).toMatchObject({ to: 'BACKUP', reason: 'reload' });
    expect(timerOf(a)).toBe(1000 + 3000 + (156 * 1000) / 256);
  });
  it('a fault wins over a resumed state', () => {
    const m = fsm();
    m.setFault(0, 'eth0', true);
    expect(stateOf(m.start(0, 'MASTER'))).toMatchObject({ to: 'FAULT' });
  });
});

describe('Backup', () => {
  it('Master_Down_Timer expiry: advertise, add VIPs, gARP, MASTER', () => {
    const m = fsm();
    const at = timerOf(m.start(0))!;
    expect(m.timeout(at - 1)).toEqual([{ type: 'setTimer', at }]); // early: re-arm, no change
    const a = m.timeout(at);
    expect(types(a)).toEqual(['clearTimer', 'advertise', 'addVips', 'garp', 'state']);
    expect(stateOf(a)).toMatchObject({ from: 'BACKUP', to: 'MASTER', reason: 'masterDown' });
  });
  it('an advert of higher or equal priority resets Master_Down_Timer', () => {
    const m = fsm();
    m.start(0);
    expect(timerOf(m.receive(500, { priority: 150, advertIntCs: 100, src: HIGH }))).toBe(500 + m.masterDownMs());
    expect(timerOf(m.receive(900, { priority: 100, advertIntCs: 100, src: LOW }))).toBe(900 + m.masterDownMs());
    expect(m.masterPriority).toBe(100);
  });
  it('preempt: a lower priority advert is discarded and the timer runs out', () => {
    const m = fsm();
    const at = timerOf(m.start(0))!;
    expect(m.receive(1000, { priority: 50, advertIntCs: 100, src: HIGH })).toEqual([]);
    expect(m.timerAt).toBe(at);
    expect(stateOf(m.timeout(at))).toMatchObject({ to: 'MASTER' });
  });
  it('nopreempt: a lower priority master is accepted', () => {
    const m = fsm({ preempt: false });
    m.start(0);
    expect(timerOf(m.receive(1000, { priority: 50, advertIntCs: 100, src: HIGH }))).toBe(1000 + m.masterDownMs());
  });
  it('preempt_delay: a lower priority master is tolerated for the delay, then preempted', () => {
    const m = fsm({ preemptDelayMs: 5000 });
    m.start(0);
    for (let t = 1000; t < 6000; t += 1000) expect(timerOf(m.receive(t, { priority: 50, advertIntCs: 100, src: HIGH }))).toBe(t + m.masterDownMs());
    const at = m.timerAt!;
    expect(m.receive(6000, { priority: 50, advertIntCs: 100, src: HIGH })).toEqual([]);
    expect(stateOf(m.timeout(at))).toMatchObject({ to: 'MASTER', reason: 'masterDown' });
  });
  it('a higher priority advert stops a running preempt delay', () => {
    const m = fsm({ preemptDelayMs: 5000 });
    m.start(0);
    m.receive(1000, { priority: 50, advertIntCs: 100, src: HIGH });
    m.receive(2000, { priority: 150, advertIntCs: 100, src: HIGH });
    // a fresh delay starts at the next lower priority advert
    expect(timerOf(m.receive(7000, { priority: 50, advertIntCs: 100, src: HIGH }))).toBe(7000 + m.masterDownMs());
  });
  it('priority 0 from the master: take over after Skew_Time', () => {
    const m = fsm();
    m.start(0);
    m.receive(100, { priority: 150, advertIntCs: 100, src: HIGH });
    const at = timerOf(m.receive(200, { priority: 0, advertIntCs: 100, src: HIGH }))!;
    expect(at).toBe(200 + (156 * 1000) / 256);
    expect(stateOf(m.timeout(at))).toMatchObject({ to: 'MASTER', reason: 'priorityZero' });
  });
  it('v3 learns Master_Adver_Interval from the master; v2 keeps its own', () => {
    const m3 = fsm({ version: 3, advertIntCs: 100 });
    m3.start(0);
    m3.receive(10, { priority: 200, advertIntCs: 10, src: HIGH });
    expect(m3.masterAdvertIntCs).toBe(10);
    expect(m3.masterDownMs()).toBeCloseTo(300 + (156 * 100) / 256, 9);
    const m2 = fsm();
    m2.start(0);
    m2.receive(10, { priority: 200, advertIntCs: 200, src: HIGH });
    expect(m2.masterAdvertIntCs).toBe(100);
  });
  it('shutdown cancels the timer', () => {
    const m = fsm();
    m.start(0);
    expect(m.stop()).toEqual([{ type: 'clearTimer' }, { type: 'state', from: 'BACKUP', to: 'STOP', reason: 'shutdown' }]);
    expect(m.timerAt).toBeUndefined();
  });
});

describe('Master', () => {
  const master = (over: Partial<FsmConfig> = {}) => {
    const m = fsm(over);
    m.timeout(timerOf(m.start(0))!);
    expect(m.state).toBe('MASTER');
    return m;
  };
  it('a higher priority advert: stop advertising, one last advert at our priority, remove VIPs, BACKUP with Master_Down_Timer', () => {
    const m = master();
    const a = m.receive(5000, { priority: 150, advertIntCs: 100, src: LOW });
    expect(types(a)).toEqual(['stopAdvertising', 'sendAdvert', 'removeVips', 'setTimer', 'state']);
    expect(a[1]).toEqual({ type: 'sendAdvert', priority: 100 });
    expect(types(master({ yieldAdvert: false }).receive(5000, { priority: 150, advertIntCs: 100, src: LOW }))).toEqual(['stopAdvertising', 'removeVips', 'setTimer', 'state']);
    expect(timerOf(a)).toBe(5000 + m.masterDownMs());
    expect(stateOf(a)).toMatchObject({ to: 'BACKUP', reason: 'higherPriority' });
  });
  it('equal priority: the higher primary address wins (RFC 5798 6.4.3)', () => {
    expect(master().receive(5000, { priority: 100, advertIntCs: 100, src: HIGH }).some((a) => a.type === 'state')).toBe(true);
    const m = master();
    const a = m.receive(5000, { priority: 100, advertIntCs: 100, src: LOW });
    expect(types(a)).toEqual(['advertise', 'garp']);
    expect(m.state).toBe('MASTER');
  });
  it('a lower priority master is answered at once with an advert and gARPs (keepalived)', () => {
    const a = master().receive(5000, { priority: 50, advertIntCs: 100, src: HIGH });
    expect(a).toEqual([
      { type: 'advertise', priority: 100, intervalCs: 100 },
      { type: 'garp', kind: 'lowerPriority' },
    ]);
    expect(types(master({ lowerPrioNoAdvert: true }).receive(5000, { priority: 50, advertIntCs: 100, src: HIGH }))).toEqual(['garp']);
  });
  it('priority 0 from another router: send an advert and restart the interval', () => {
    expect(master().receive(5000, { priority: 0, advertIntCs: 100, src: HIGH })).toEqual([{ type: 'advertise', priority: 100, intervalCs: 100 }]);
  });
  it('shutdown: priority 0 advert, VIPs removed, STOP', () => {
    expect(types(master().stop())).toEqual(['stopAdvertising', 'sendAdvert', 'removeVips', 'state']);
    expect(master().stop()[1]).toEqual({ type: 'sendAdvert', priority: 0 });
  });
  it('tracked priority: a master re-advertises at once; clamped to 1..254; the owner keeps 255', () => {
    const m = master();
    expect(m.setPriority(90)).toEqual([{ type: 'advertise', priority: 90, intervalCs: 100 }]);
    expect(m.setPriority(300)).toEqual([{ type: 'advertise', priority: 254, intervalCs: 100 }]);
    expect(m.setPriority(-5)).toEqual([{ type: 'advertise', priority: 1, intervalCs: 100 }]);
    const o = fsm({ priority: 255 });
    o.start(0);
    expect(o.setPriority(200)).toEqual([]);
  });
});

describe('FAULT (keepalived)', () => {
  it('a master resigns with priority 0 on a fault, and comes back as BACKUP when every fault clears', () => {
    const m = fsm();
    m.timeout(timerOf(m.start(0))!);
    const a = m.setFault(5000, 'link:eth0', true);
    expect(types(a)).toEqual(['stopAdvertising', 'sendAdvert', 'removeVips', 'clearTimer', 'state']);
    expect(stateOf(a)).toMatchObject({ from: 'MASTER', to: 'FAULT', reason: 'fault' });
    expect(m.setFault(5100, 'script:chk', true)).toEqual([]);
    expect(m.setFault(5200, 'link:eth0', false)).toEqual([]);
    expect(m.receive(5300, { priority: 150, advertIntCs: 100, src: HIGH })).toEqual([]); // FAULT ignores adverts
    const b = m.setFault(6000, 'script:chk', false);
    expect(stateOf(b)).toMatchObject({ from: 'FAULT', to: 'BACKUP', reason: 'faultCleared' });
    expect(timerOf(b)).toBe(6000 + m.masterDownMs());
  });
});

describe('sync group hold', () => {
  it('an expired timer asks the group; force(MASTER) takes over with the original reason', () => {
    const m = fsm({ syncGroup: true });
    const at = timerOf(m.start(0))!;
    expect(m.timeout(at)).toEqual([{ type: 'clearTimer' }, { type: 'wantMaster' }]);
    expect(m.state).toBe('BACKUP');
    expect(m.wantMaster).toBe(true);
    expect(stateOf(m.force(at + 1, 'MASTER'))).toMatchObject({ to: 'MASTER', reason: 'masterDown' });
    expect(stateOf(m.force(at + 2, 'BACKUP'))).toMatchObject({ to: 'BACKUP', reason: 'syncGroup' });
  });
  it('an advert heard while held withdraws the wish', () => {
    const m = fsm({ syncGroup: true });
    m.timeout(timerOf(m.start(0))!);
    m.receive(5000, { priority: 150, advertIntCs: 100, src: HIGH });
    expect(m.wantMaster).toBe(false);
  });
});
