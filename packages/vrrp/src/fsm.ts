// The VRRP state machine of RFC 5798 section 6 (RFC 3768 for v2), with the
// keepalived additions people rely on: FAULT, preempt_delay, nopreempt, a forced re-election when a lower priority
// master is heard, and sync-group holds. Pure: every input carries the time,
// every output is an action for the adapter to carry out. No timers, no I/O.
import { VRRP_PRIO_OWNER, VRRP_PRIO_STOP, type VrrpVersion } from './packet.js';

export type VrrpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP';

export type TransitionReason =
  | 'startup'
  | 'addressOwner' // priority 255 goes straight to MASTER
  | 'masterDown' // Master_Down_Timer expired
  | 'priorityZero' // the master resigned (priority 0) and our Skew_Time expired
  | 'higherPriority' // a better master was heard
  | 'fault'
  | 'faultCleared'
  | 'syncGroup'
  | 'shutdown'
  | 'reload'; // a reload replaced the instance, which resumes the state it was in

export type FsmAction =
  | { type: 'state'; from: VrrpState; to: VrrpState; reason: TransitionReason }
  /** Send an advertisement now and then every interval until told otherwise. */
  | { type: 'advertise'; priority: number; intervalCs: number }
  | { type: 'stopAdvertising' }
  /** Send one advertisement (priority 0 when resigning). */
  | { type: 'sendAdvert'; priority: number }
  | { type: 'addVips' }
  | { type: 'removeVips' }
  /** Gratuitous ARP / unsolicited NA for the VIPs: on becoming master, or to re-assert after a lower priority master was heard. */
  | { type: 'garp'; kind: 'master' | 'lowerPriority' }
  | { type: 'setTimer'; at: number }
  | { type: 'clearTimer' }
  /** Sync groups: our Master_Down_Timer expired but the group holds us in BACKUP. */
  | { type: 'wantMaster' };

export interface FsmConfig {
  version: VrrpVersion;
  /** Configured priority, 1..255. */
  priority: number;
  /** Advertisement_Interval in centiseconds (v2: a multiple of 100). */
  advertIntCs: number;
  /** false for `nopreempt`. */
  preempt: boolean;
  /** keepalived `preempt_delay`, ms: tolerate a lower priority master this long. */
  preemptDelayMs: number;
  /** Our primary address (bytes), for the equal-priority tie-break (settable later, once the interface is known). */
  primaryAddress: Buffer;
  /** keepalived `lower_prio_no_advert`: do not answer a lower priority advert with our own. */
  lowerPrioNoAdvert?: boolean;
  /** Member of a sync group: an expired timer asks the group (wantMaster) instead of taking over. */
  syncGroup?: boolean;
  /** Send one advert at our priority when a better master makes us yield (default true; see docs/vrrp.md). */
  yieldAdvert?: boolean;
}

/** The fields of an accepted advertisement the state machine looks at. */
export interface AdvertIn {
  priority: number;
  advertIntCs: number;
  src: Buffer;
}

/** Byte-wise comparison of two addresses of one family (RFC 5798 6.4.3 tie-break). */
export function compareAddresses(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

export class VrrpStateMachine {
  private s: VrrpState = 'INIT';
  private effective: number;
  private masterAdverIntCs: number;
  private deadline: number | undefined;
  private preemptUntil = 0;
  private readonly faults = new Set<string>();
  private wantsMaster = false;
  private pendingReason: TransitionReason = 'masterDown';
  /** The current master's address and priority as last heard (BACKUP). */
  masterAddress: Buffer | undefined;
  masterPriority: number | undefined;

  /** Our primary address for the tie-break; the adapter sets it once it knows the interface. */
  primaryAddress: Buffer;
  /** In a sync group (set before start). */
  syncGroup: boolean;

  constructor(private readonly cfg: FsmConfig) {
    this.primaryAddress = cfg.primaryAddress;
    this.syncGroup = cfg.syncGroup ?? false;
    this.effective = cfg.priority;
    this.masterAdverIntCs = cfg.advertIntCs;
  }

  get state(): VrrpState {
    return this.s;
  }
  get priority(): number {
    return this.effective;
  }
  /** When the Master_Down_Timer fires (BACKUP), else undefined. */
  get timerAt(): number | undefined {
    return this.deadline;
  }
  get masterAdvertIntCs(): number {
    return this.masterAdverIntCs;
  }
  get faulty(): boolean {
    return this.faults.size > 0;
  }
  get faultReasons(): string[] {
    return [...this.faults];
  }
  /** Sync groups: the timer expired and we wait for the group's go. */
  get wantMaster(): boolean {
    return this.wantsMaster;
  }

  /** Skew_Time in ms for a priority (RFC 5798 6.1; v2 counts whole seconds). */
  skewMs(priority = this.effective): number {
    const p = 256 - priority;
    return this.cfg.version === 2 ? (p * 1000) / 256 : (p * this.masterAdverIntCs * 10) / 256;
  }

  /** Master_Down_Interval in ms: 3 x Master_Adver_Interval + Skew_Time. */
  masterDownMs(): number {
    return 3 * this.masterAdverIntCs * 10 + this.skewMs();
  }

  /**
   * Leaves INIT. `resume` is the state a predecessor with the same identity was in
   * (a reload): a master stays master without waiting for Master_Down_Interval, as
   * keepalived keeps an instance's state across a reload; the peers never see a gap
   * longer than the time to open the sockets.
   */
  start(now: number, resume?: VrrpState): FsmAction[] {
    if (this.s !== 'INIT') return [];
    if (this.faulty) return this.go('FAULT', 'fault', [{ type: 'clearTimer' }]);
    if (this.cfg.priority === VRRP_PRIO_OWNER) return this.becomeMaster('addressOwner');
    if (resume === 'MASTER') return this.becomeMaster('reload');
    this.masterAdverIntCs = this.cfg.advertIntCs;
    if (resume === 'BACKUP') return this.go('BACKUP', 'reload', [this.arm(now + this.masterDownMs())]);
    // Like keepalived 2.2, `state MASTER` below 255 still starts in BACKUP and waits
    // the whole Master_Down_Interval: a restarted master must hear the current one.
    const wait = this.masterDownMs();
    return this.go('BACKUP', 'startup', [this.arm(now + wait)]);
  }

  /** An advertisement that passed every receive check. */
  receive(now: number, adv: AdvertIn): FsmAction[] {
    if (this.s === 'BACKUP') return this.backupReceive(now, adv);
    if (this.s === 'MASTER') return this.masterReceive(now, adv);
    return [];
  }

  private backupReceive(now: number, adv: AdvertIn): FsmAction[] {
    if (adv.priority === VRRP_PRIO_STOP) {
      this.masterPriority = 0;
      return [this.arm(now + this.skewMs())];
    }
    const delayRunning = this.cfg.preemptDelayMs > 0 && (this.preemptUntil === 0 || now < this.preemptUntil);
    if (!this.cfg.preempt || adv.priority >= this.effective || delayRunning) {
      if (this.cfg.version === 3) this.masterAdverIntCs = adv.advertIntCs;
      this.masterAddress = adv.src;
      this.masterPriority = adv.priority;
      if (this.cfg.preemptDelayMs > 0) {
        if (adv.priority >= this.effective) this.preemptUntil = 0;
        else if (this.preemptUntil === 0) this.preemptUntil = now + this.cfg.preemptDelayMs;
      }
      const out: FsmAction[] = [this.arm(now + this.masterDownMs())];
      this.wantsMaster = false;
      return out;
    }
    // Preempting: a lower priority master is discarded and our timer runs out.
    this.masterAddress = adv.src;
    this.masterPriority = adv.priority;
    return [];
  }

  private masterReceive(now: number, adv: AdvertIn): FsmAction[] {
    const advertise: FsmAction = { type: 'advertise', priority: this.effective, intervalCs: this.cfg.advertIntCs };
    if (adv.priority === VRRP_PRIO_STOP) return [advertise];
    const cmp = compareAddresses(adv.src, this.primaryAddress);
    if (adv.priority > this.effective || (adv.priority === this.effective && cmp > 0)) {
      if (this.cfg.version === 3) this.masterAdverIntCs = adv.advertIntCs;
      this.masterAddress = adv.src;
      this.masterPriority = adv.priority;
      // One last advert at our priority as we yield: after a split brain the winner may
      // not have heard us, and a lower priority advert is what makes a master (lvsd or
      // keepalived) re-announce the VIP with gratuitous ARPs. The RFC sends nothing here.
      const notice: FsmAction[] = this.cfg.yieldAdvert === false ? [] : [{ type: 'sendAdvert', priority: this.effective }];
      return this.leaveMaster('BACKUP', 'higherPriority', false, [this.arm(now + this.masterDownMs())], notice);
    }
    if (cmp === 0 && adv.priority === this.effective) return []; // our own address: nothing to decide
    // A lower priority router thinks it is master (a healed partition, a stalled
    // peer): keepalived answers at once and refreshes the ARP caches.
    const out: FsmAction[] = this.cfg.lowerPrioNoAdvert ? [] : [advertise];
    out.push({ type: 'garp', kind: 'lowerPriority' });
    return out;
  }

  /** The adapter's timer fired. Stale or early calls re-arm instead of acting. */
  timeout(now: number): FsmAction[] {
    if (this.s !== 'BACKUP' || this.deadline === undefined) return [];
    if (now < this.deadline) return [{ type: 'setTimer', at: this.deadline }];
    const reason: TransitionReason = this.masterPriority === 0 ? 'priorityZero' : 'masterDown';
    if (this.syncGroup) {
      this.deadline = undefined;
      this.wantsMaster = true;
      this.pendingReason = reason;
      return [{ type: 'clearTimer' }, { type: 'wantMaster' }];
    }
    return this.becomeMaster(reason);
  }

  /** Shutdown: a master resigns with a priority 0 advert (RFC 5798 6.4.3). */
  stop(): FsmAction[] {
    if (this.s === 'STOP') return [];
    if (this.s === 'MASTER') return this.leaveMaster('STOP', 'shutdown', true, []);
    return this.go('STOP', 'shutdown', [{ type: 'clearTimer' }]);
  }

  /** Raises or clears one named fault (interface down, a tracker at weight 0, the sync group). */
  setFault(now: number, key: string, faulty: boolean): FsmAction[] {
    const was = this.faulty;
    if (faulty) this.faults.add(key);
    else this.faults.delete(key);
    if (was === this.faulty || this.s === 'INIT' || this.s === 'STOP') return [];
    if (this.faulty) {
      this.wantsMaster = false;
      if (this.s === 'MASTER') return this.leaveMaster('FAULT', 'fault', true, [{ type: 'clearTimer' }]);
      return this.go('FAULT', 'fault', [{ type: 'clearTimer' }]);
    }
    this.masterAdverIntCs = this.cfg.advertIntCs;
    this.masterPriority = undefined;
    const wait = this.cfg.priority === VRRP_PRIO_OWNER ? this.masterAdverIntCs * 10 + this.skewMs() : this.masterDownMs();
    return this.go('BACKUP', 'faultCleared', [this.arm(now + wait)]);
  }

  /** The tracked priority changed (trackers' weights). A master re-advertises at once. */
  setPriority(priority: number): FsmAction[] {
    const p = this.cfg.priority === VRRP_PRIO_OWNER ? VRRP_PRIO_OWNER : Math.max(1, Math.min(254, Math.round(priority)));
    if (p === this.effective) return [];
    this.effective = p;
    if (this.s === 'MASTER') return [{ type: 'advertise', priority: p, intervalCs: this.cfg.advertIntCs }];
    return [];
  }

  /** Sync groups move their members together. */
  force(now: number, to: 'MASTER' | 'BACKUP'): FsmAction[] {
    if (to === 'MASTER') {
      if (this.s !== 'BACKUP') return [];
      return this.becomeMaster(this.wantsMaster ? this.pendingReason : 'syncGroup');
    }
    if (this.s === 'MASTER') return this.leaveMaster('BACKUP', 'syncGroup', true, [this.arm(now + this.masterDownMs())]);
    return [];
  }

  private arm(at: number): FsmAction {
    this.deadline = at;
    return { type: 'setTimer', at };
  }

  private becomeMaster(reason: TransitionReason): FsmAction[] {
    this.deadline = undefined;
    this.wantsMaster = false;
    this.masterAdverIntCs = this.cfg.advertIntCs;
    this.masterAddress = undefined;
    this.masterPriority = undefined;
    // The advert goes first so the old master drops the VIPs before our gARPs land.
    return this.go('MASTER', reason, [
      { type: 'clearTimer' },
      { type: 'advertise', priority: this.effective, intervalCs: this.cfg.advertIntCs },
      { type: 'addVips' },
      { type: 'garp', kind: 'master' },
    ]);
  }

  private leaveMaster(to: VrrpState, reason: TransitionReason, resign: boolean, extra: FsmAction[], notice: FsmAction[] = []): FsmAction[] {
    const out: FsmAction[] = [{ type: 'stopAdvertising' }, ...notice];
    if (resign) out.push({ type: 'sendAdvert', priority: VRRP_PRIO_STOP });
    out.push({ type: 'removeVips' }, ...extra);
    if (to === 'BACKUP') this.preemptUntil = 0;
    return this.go(to, reason, out);
  }

  private go(to: VrrpState, reason: TransitionReason, actions: FsmAction[]): FsmAction[] {
    const from = this.s;
    this.s = to;
    if (to !== 'BACKUP') this.deadline = undefined;
    actions.push({ type: 'state', from, to, reason });
    return actions;
  }
}
