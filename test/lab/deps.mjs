#!/usr/bin/env node
// Makes sure the Debian packages the lab and the real-peer tests need are installed:
// user-mode Linux (the lab kernel and its modules), kmod (modprobe inside the guest),
// ipvsadm and keepalived (reference peers), iproute2 (ip, bridge, netns), nftables, and
// tcpdump (wire captures when debugging VRRP). When something is missing and we are root
// on Debian, installs it with apt-get, saying what; otherwise fails naming the packages.
//
//   node test/lab/deps.mjs [--dry-run] [--check]
//   import { ensureDeps } from './test/lab/deps.mjs'
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Debian package -> a file it installs that we rely on (checked where dpkg is absent). */
export const LAB_PACKAGES = {
  'user-mode-linux': '/usr/bin/linux.uml',
  kmod: '/usr/bin/kmod',
  ipvsadm: '/usr/sbin/ipvsadm',
  keepalived: '/usr/sbin/keepalived',
  iproute2: '/usr/sbin/ip',
  nftables: '/usr/sbin/nft',
  tcpdump: '/usr/bin/tcpdump',
};

function installed(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${db:Status-Status}', pkg], { encoding: 'utf8' });
  if (r.error) return existsSync(LAB_PACKAGES[pkg]); // no dpkg: judge by the file
  return r.status === 0 && r.stdout.trim() === 'installed';
}

/** Packages from LAB_PACKAGES that are not installed. LVSD_DEPS_PRETEND_MISSING=a,b adds some (to test this script). */
export function missingPackages() {
  const pretend = (process.env.LVSD_DEPS_PRETEND_MISSING ?? '').split(',').filter(Boolean);
  return Object.keys(LAB_PACKAGES).filter((p) => pretend.includes(p) || !installed(p));
}

/**
 * @param {{dryRun?: boolean, checkOnly?: boolean, log?: (s: string) => void}} [o]
 * @returns {{ok: boolean, missing: string[], installed: string[], error?: string}}
 */
export function ensureDeps(o = {}) {
  const log = o.log ?? ((s) => process.stderr.write(`deps: ${s}\n`));
  const missing = missingPackages();
  if (missing.length === 0) return { ok: true, missing, installed: [] };
  const isRoot = process.getuid?.() === 0;
  const debian = existsSync('/etc/debian_version') && spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  const cmds = [
    ['apt-get', 'update'],
    ['apt-get', 'install', '-y', '--no-install-recommends', ...missing],
  ];
  if (o.checkOnly || !isRoot || !debian) {
    const why = o.checkOnly ? '' : !debian ? ' (not a Debian system with apt-get)' : ' (not root, cannot install)';
    const error = `missing Debian packages: ${missing.join(' ')}${why}; install them with: sudo apt-get install ${missing.join(' ')}`;
    return { ok: false, missing, installed: [], error };
  }
  log(`installing ${missing.join(' ')} with apt-get${o.dryRun ? ' (dry run: not running it)' : ''}`);
  for (const argv of cmds) {
    log(`$ ${argv.join(' ')}`);
    if (o.dryRun) continue;
    const r = spawnSync(argv[0], argv.slice(1), {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (r.status !== 0) return { ok: false, missing, installed: [], error: `\`${argv.join(' ')}\` failed (exit ${r.status ?? r.signal})` };
  }
  if (o.dryRun) return { ok: true, missing, installed: [] };
  const still = missingPackages();
  if (still.length) return { ok: false, missing: still, installed: [], error: `still missing after apt-get install: ${still.join(' ')}` };
  return { ok: true, missing: [], installed: missing };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const r = ensureDeps({ dryRun: args.includes('--dry-run'), checkOnly: args.includes('--check') });
  if (!r.ok) {
    console.error(`deps: ERROR: ${r.error}`);
    process.exitCode = 1;
  } else if (r.installed.length) console.error(`deps: installed ${r.installed.join(' ')}`);
  else if (r.missing.length === 0) console.error(`deps: ok (${Object.keys(LAB_PACKAGES).join(' ')})`);
}
