// Shared by the IPVS kernel tests: the package under test and what the lab kernel offers.
import { existsSync, readdirSync } from 'node:fs';
import { abi } from '@lvsd/ipvs';
export * from '@lvsd/ipvs';

const release = (() => {
  try {
    return readdirSync('/lib/modules')[0] ?? '';
  } catch {
    return '';
  }
})();

/** Schedulers whose module the lab kernel ships (twos appeared after 6.1). */
export const SCHEDULERS_IN_LAB: string[] = abi.SCHEDULERS.filter((s) =>
  existsSync(`/lib/modules/${release}/kernel/net/netfilter/ipvs/ip_vs_${s}.ko`),
);
