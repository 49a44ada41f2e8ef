// Accept_Mode false (keepalived `no_accept`): a master that is not the address
// owner must not accept packets addressed to the VIPs (RFC 5798 6.1), except the
// neighbour discovery that keeps them reachable. Done with one nftables table per
// instance, loaded and removed with the `nft` tool in the instance's namespace.
import { execFile } from 'node:child_process';
import { LvsdError } from '@lvsd/native';

export function noAcceptRuleset(table: string, vips: string[]): string {
  const v4 = vips.filter((v) => !v.includes(':'));
  const v6 = vips.filter((v) => v.includes(':'));
  const lines = [`table inet ${table} {`, '  chain input {', '    type filter hook input priority -10; policy accept;'];
  if (v4.length) lines.push(`    ip daddr { ${v4.join(', ')} } counter drop`);
  if (v6.length) {
    lines.push(`    ip6 daddr { ${v6.join(', ')} } icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept`);
    lines.push(`    ip6 daddr { ${v6.join(', ')} } counter drop`);
  }
  lines.push('  }', '}', '');
  return lines.join('\n');
}

/** nftables table name for an instance (letters, digits and _ only). */
export function noAcceptTable(instance: string, vrid: number): string {
  return `lvsd_vrrp_${vrid}_${instance.replace(/[^A-Za-z0-9_]/g, '_')}`.slice(0, 60);
}

function nft(netns: string | undefined, args: string[], input?: string): Promise<void> {
  const [cmd, argv] = netns ? ['nsenter', [`--net=${netns}`, 'nft', ...args]] : ['nft', args];
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, argv, (err, _out, stderr) => {
      if (err) reject(new LvsdError('LVSD_ERR_VRRP_FIREWALL', `nft ${args.join(' ')}: ${stderr.trim() || err.message}`, { cause: err }));
      else resolve();
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

export class NoAcceptFilter {
  constructor(
    private readonly table: string,
    private readonly vips: string[],
    private readonly netns?: string,
  ) {}

  /** Loads (or replaces) the table. */
  async install(): Promise<void> {
    await this.remove();
    await nft(this.netns, ['-f', '-'], noAcceptRuleset(this.table, this.vips));
  }

  async remove(): Promise<void> {
    await nft(this.netns, ['delete', 'table', 'inet', this.table]).catch(() => undefined); // not there: fine
  }
}
