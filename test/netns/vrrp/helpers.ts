// Shared by the VRRP netns tests: build once, skip cleanly without root, and a
// few assertions over a lab from lab.mjs.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
// @ts-expect-error plain ESM helper shared with the benchmark
import * as labMod from './lab.mjs';

export const lab: any = labMod;
const root = fileURLToPath(new URL('../../..', import.meta.url));

/** runner.mjs imports the built package. */
export function buildVrrp(): void {
  execFileSync(process.execPath, [`${root}/node_modules/typescript/bin/tsc`, '-b', 'packages/vrrp'], { cwd: root, stdio: 'inherit' });
}

export function canNetns(): boolean {
  try {
    return process.getuid?.() === 0 && execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }) !== undefined;
  } catch {
    return false;
  }
}

/** Members holding `vip` right now. */
export function owners(l: any, vip: string, members = ['a', 'b']): string[] {
  return members.filter((m) => lab.hasAddress(l, m, vip));
}

/** Samples for `ms`: exactly one holder of the VIP at every sample. Returns the holder. */
export async function steadyOwner(l: any, vip: string, ms: number, members = ['a', 'b']): Promise<string> {
  const seen = new Set<string>();
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const o = owners(l, vip, members);
    if (o.length !== 1) throw new Error(`expected one master for ${vip}, found [${o.join(', ')}]`);
    seen.add(o[0]);
    await lab.sleep(50);
  }
  if (seen.size !== 1) throw new Error(`the VIP moved during a steady period: ${[...seen].join(' -> ')}`);
  return [...seen][0];
}
