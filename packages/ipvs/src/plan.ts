// The reconcile planner: pure. Given what the kernel has (current), what the caller
// wants (desired) and which services the caller owns, it returns the smallest list of
// operations, in an order that never leaves an owned service without the real
// servers it should keep:
//   1. add and edit services (a service must exist before its destinations; a new
//      service's destinations travel in its add-service op, right after it),
//   2. add destinations, then edit destinations (new capacity first),
//   3. delete destinations that are no longer wanted,
//   4. delete owned services that are no longer wanted (their destinations go with
//      them in the kernel, so no per-destination deletes are sent).
// Anything that already matches is left alone; services outside `owned` are never touched.
import { invalid } from './errors.js';
import { normalizeTable, sameDestination, sameService, normalizeKey, destIndex, PackedEntry, PACKED_OP, type NormalizedEntry, type NormalizedTable } from './normalize.js';
import { serviceKeyString, type Destination, type DesiredService, type IpvsOp, type ServiceKey, type Service, type TableSnapshot } from './types.js';

/** The kernel table (or the last applied state) as the planner reads it. */
/** A set of owned service keys, or anything that answers the question. */
export interface OwnedKeys {
  has(key: string): boolean;
}

export function tableFromSnapshot(snapshot: TableSnapshot, owned?: OwnedKeys): NormalizedTable {
  const out: NormalizedTable = new Map();
  for (const { service, destinations } of snapshot.services) {
    const key = serviceKeyString(service);
    if (owned && !owned.has(key)) continue;
    out.set(key, { service, dests: destinations });
  }
  return out;
}

/** Key strings of services given as keys, specs or key strings. */
export function ownedKeys(keys: Iterable<ServiceKey | DesiredService | Service | string>): Set<string> {
  const out = new Set<string>();
  for (const k of keys) out.add(typeof k === 'string' ? k : serviceKeyString(normalizeKey(k)));
  return out;
}


function packedDestinations(this: { [PACKED_OP]?: PackedEntry }): Destination[] {
  // Built on the first read, then a plain property (a reader looping over it must not
  // rebuild it), and from then on what applyBatch sends, should the reader change it.
  const value = this[PACKED_OP]!.dests;
  this[PACKED_OP] = undefined;
  Object.defineProperty(this, 'destinations', { value, enumerable: true, writable: true, configurable: true });
  return value;
}
const DESTINATIONS: PropertyDescriptor = { get: packedDestinations, enumerable: true, configurable: true };
const HIDDEN = { value: undefined as unknown, enumerable: false, writable: true, configurable: false };

/**
 * An add-service op over packed real servers: `destinations` is an ordinary enumerable
 * property for readers (built when read), while applyBatch encodes from the packed words.
 */
function packedAddOp(entry: PackedEntry): IpvsOp {
  const op = { kind: 'add-service', service: entry.service } as IpvsOp;
  HIDDEN.value = entry;
  Object.defineProperty(op, PACKED_OP, HIDDEN);
  Object.defineProperty(op, 'destinations', DESTINATIONS);
  return op;
}

/** The pure core on canonical tables. Every desired service must be owned. */
export function planTables(
  current: NormalizedTable,
  desired: NormalizedTable,
  owned: OwnedKeys,
  /** Services known to be in the kernel exactly as desired (IpvsTable's bookkeeping); not compared again. */
  unchanged?: (key: string, entry: NormalizedEntry) => boolean,
): IpvsOp[] {
  const svcOps: IpvsOp[] = [];
  const addDests: IpvsOp[] = [];
  const editDests: IpvsOp[] = [];
  const delDests: IpvsOp[] = [];
  const delSvcs: IpvsOp[] = [];
  let same = 0;
  // forEach, not for-of: a cold for-of over a Map allocates an entry and a result per step.
  desired.forEach((want, key) => {
    if (!owned.has(key)) throw invalid(`desired service ${key} is not in the owned set`, { service: want.service });
    if (unchanged && unchanged(key, want)) {
      same++;
      return;
    }
    const have = current.get(key);
    if (!have) {
      // One op carries the new service and its real servers (sent as one message each, service first).
      if (want instanceof PackedEntry) svcOps.push(packedAddOp(want));
      else svcOps.push(want.dests.length ? { kind: 'add-service', service: want.service, destinations: want.dests } : { kind: 'add-service', service: want.service });
      return;
    }
    if (!sameService(have.service, want.service)) svcOps.push({ kind: 'edit-service', service: want.service, previous: have.service });
    const haveIdx = destIndex(have.dests);
    const wantIdx = destIndex(want.dests);
    for (const [dk, d] of wantIdx) {
      const cur = haveIdx.get(dk);
      if (!cur) addDests.push({ kind: 'add-destination', service: want.service, destination: d });
      else if (!sameDestination(cur, d)) editDests.push({ kind: 'edit-destination', service: want.service, destination: d, previous: cur });
    }
    for (const [dk, cur] of haveIdx) {
      if (!wantIdx.has(dk)) delDests.push({ kind: 'delete-destination', service: want.service, destination: cur });
    }
  });
  // When every desired service is unchanged and the sizes agree, current holds exactly the desired keys.
  if (!(same === desired.size && current.size === desired.size)) {
    current.forEach((have, key) => {
      if (owned.has(key) && !desired.has(key)) delSvcs.push({ kind: 'delete-service', service: have.service });
    });
  }
  const out = svcOps;
  for (const list of [addDests, editDests, delDests, delSvcs]) for (let i = 0; i < list.length; i++) out.push(list[i]);
  return out;
}

/**
 * plan(current, desired, owned): the operations that turn `current` into `desired`
 * for the owned services. `current` is a dump (IpvsClient.dumpTable) or a table;
 * `desired` plain data (validated here: invalid input throws LVSD_ERR_IPVS_INVALID);
 * `owned` the service keys the caller manages (desired services are always owned).
 */
export function plan(
  current: TableSnapshot | NormalizedTable,
  desired: Iterable<DesiredService> | NormalizedTable,
  owned: Iterable<ServiceKey | DesiredService | Service | string> = [],
): IpvsOp[] {
  const want = desired instanceof Map ? desired : normalizeTable(desired);
  const own = ownedKeys(owned);
  for (const k of want.keys()) own.add(k);
  const cur = current instanceof Map ? current : tableFromSnapshot(current);
  return planTables(cur, want, own);
}
