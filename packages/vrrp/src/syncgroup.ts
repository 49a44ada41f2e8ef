// vrrp_sync_group: instances that move together. The group goes MASTER only when
// every member would (its Master_Down_Timer ran out, or it already is master),
// goes BACKUP as soon as one member hears a better master, and is in FAULT while
// any member has a fault of its own.
import { EventEmitter } from 'node:events';
import { LvsdError } from '@lvsd/native';
import type { VrrpInstance } from './instance.js';
import { FifoWriter, fifoLine, type NotifyScripts, type NotifyState } from './notify.js';

export interface VrrpSyncGroupOptions extends NotifyScripts {
  name: string;
  notifyFifo?: string;
}

export interface SyncGroupStateEvent {
  group: string;
  from: NotifyState | 'INIT';
  to: NotifyState;
}

export interface VrrpSyncGroupEvents {
  stateChange: [SyncGroupStateEvent];
}

export class VrrpSyncGroup extends EventEmitter<VrrpSyncGroupEvents> {
  private groupState: NotifyState | 'INIT' = 'INIT';
  private readonly faultKey: string;
  private fifo: FifoWriter | undefined;

  constructor(
    readonly options: VrrpSyncGroupOptions,
    readonly members: VrrpInstance[],
  ) {
    super();
    if (members.length < 1) throw new LvsdError('LVSD_ERR_VRRP_CONFIG', `vrrp_sync_group ${options.name}: no members`);
    this.faultKey = `sync group ${options.name}`;
    for (const m of members) {
      m.joinSyncGroup();
      m.on('wantMaster', () => this.maybeMaster());
      m.on('stateChange', (e) => this.onMember(m, e.from, e.to, e.reason));
      m.on('faultsChanged', () => this.onFaults());
    }
  }

  get state(): NotifyState | 'INIT' {
    return this.groupState;
  }

  /** Starts every member (and stops them all if one fails to start). */
  async start(opts: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.options.notifyFifo) this.fifo = new FifoWriter(this.options.notifyFifo);
    try {
      await Promise.all(this.members.map((m) => m.start(opts)));
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.stop()));
    this.fifo?.close();
    this.fifo = undefined;
  }

  private maybeMaster(): void {
    if (this.members.some((m) => m.faults.length > 0)) return;
    if (this.members.every((m) => m.state === 'MASTER' || m.wantMaster)) for (const m of this.members) m.force('MASTER');
  }

  private onMember(m: VrrpInstance, from: string, to: string, reason: string): void {
    if (reason !== 'syncGroup') {
      if (to === 'MASTER') for (const o of this.members) if (o !== m) o.force('MASTER');
      if (to === 'BACKUP' && from === 'MASTER') for (const o of this.members) if (o !== m) o.force('BACKUP');
      if (to === 'FAULT' && m.faults.length > 0) for (const o of this.members) if (o !== m) o.setFault(this.faultKey, true);
      if (from === 'FAULT' && m.faults.length === 0 && this.members.every((x) => x.faults.length === 0)) {
        for (const o of this.members) if (o !== m) o.setFault(this.faultKey, false);
      }
    }
    this.update();
  }

  /** When no member has a fault of its own any more, the group releases all of them. */
  private onFaults(): void {
    if (this.members.every((x) => x.faults.length === 0)) for (const o of this.members) o.setFault(this.faultKey, false);
  }

  private update(): void {
    const states = this.members.map((m) => m.state);
    let next: NotifyState | undefined;
    if (states.every((s) => s === 'STOP')) next = 'STOP';
    else if (states.some((s) => s === 'FAULT')) next = 'FAULT';
    else if (states.every((s) => s === 'MASTER')) next = 'MASTER';
    else if (states.every((s) => s === 'BACKUP' || s === 'MASTER')) next = states.includes('BACKUP') && !states.includes('MASTER') ? 'BACKUP' : undefined;
    if (!next || next === this.groupState) return;
    const from = this.groupState;
    this.groupState = next;
    this.emit('stateChange', { group: this.options.name, from, to: next });
    this.fifo?.write(fifoLine('GROUP', this.options.name, next));
    this.members[0].notifyGroup(this.options.name, next, this.options);
  }
}
