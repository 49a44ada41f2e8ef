// The addresses configured on this host (in the director's namespace), kept current
// from rtnetlink events. keepalived's `ha_suspend` suspends a virtual server's checks
// while its address is not local: on a backup director the VIP is elsewhere, and its
// checks would only duplicate the master's.
import { EventEmitter } from 'node:events';
import { ipToBytes } from '@lvsd/native';
import type { AddressInfo, Rtnl } from '@lvsd/vrrp';

/** One spelling per address (IPv6 has many). */
export const addressKey = (a: string): string => ipToBytes(a).toString('hex');

export class LocalAddresses extends EventEmitter<{ change: []; error: [Error] }> {
  private readonly keys = new Set<string>();

  private constructor(private readonly rtnl: Rtnl) {
    super();
  }

  static async open(netns?: string): Promise<LocalAddresses> {
    // Loaded only when a virtual server asks for ha_suspend.
    const { Rtnl } = await import('@lvsd/vrrp');
    const rtnl = Rtnl.open(netns);
    const self = new LocalAddresses(rtnl);
    try {
      rtnl.on('address', (a) => self.update(a, true));
      rtnl.on('addressRemoved', (a) => self.update(a, false));
      rtnl.on('resync', () => void self.reread().catch((e: Error) => self.emit('error', e)));
      rtnl.watchLinks(); // before the dump: an address added meanwhile is not missed
      await self.reread();
      return self;
    } catch (e) {
      rtnl.close();
      throw e;
    }
  }

  has(address: string): boolean {
    return this.keys.has(addressKey(address));
  }

  private update(a: AddressInfo, present: boolean): void {
    const k = addressKey(a.address);
    if (this.keys.has(k) === present) return;
    if (present) this.keys.add(k);
    else this.keys.delete(k);
    this.emit('change');
  }

  private async reread(): Promise<void> {
    const now = new Set((await this.rtnl.addresses()).map((a) => addressKey(a.address)));
    const changed = now.size !== this.keys.size || [...now].some((k) => !this.keys.has(k));
    this.keys.clear();
    for (const k of now) this.keys.add(k);
    if (changed) this.emit('change');
  }

  close(): void {
    this.rtnl.close();
  }
}
