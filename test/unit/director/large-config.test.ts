// keepalived.conf loading at scale: a generated config of thousands of virtual servers is
// read into the same model a small one gives (the timing is in test/bench/config.mjs, not
// here: these machines are too noisy to assert on time).
import { describe, expect, it } from 'vitest';
import { formatDiagnostic, loadConfig, memoryFs, parseConfig, parseConfigAst } from '@lvsd/director';

const ip = (a: number, n: number): string => `${a}.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
const vip = (i: number): string => ip(10, (100 << 16) + i);
const rip = (i: number, k: number, rs: number): string => ip(172, (16 << 16) + i * rs + k);

/** The benchmark's shape: VS virtual servers of RS real servers, weights 1..RS. */
function generate(vs: number, rs: number): string {
  const out = ['global_defs {\n  router_id bench\n}\n'];
  for (let i = 0; i < vs; i++) {
    out.push(`virtual_server ${vip(i)} 80 {\n  lb_algo wrr\n  lb_kind DR\n  protocol TCP\n`);
    for (let k = 0; k < rs; k++) out.push(`  real_server ${rip(i, k, rs)} 80 {\n    weight ${1 + k}\n  }\n`);
    out.push('}\n');
  }
  return out.join('');
}

describe('a generated config of 2,000 virtual servers x 10 real servers', () => {
  const VS = 2000;
  const RS = 10;
  const text = generate(VS, RS);
  const file = '/etc/keepalived/keepalived.conf';

  it('loads every virtual and real server, in order, without a diagnostic', () => {
    const r = loadConfig(file, { fs: memoryFs({ [file]: text }) });
    if (!r.ok) throw new Error(r.diagnostics.slice(0, 5).map(formatDiagnostic).join('\n'));
    expect(r.diagnostics).toEqual([]);
    const c = r.config;
    expect(c.global.routerId).toBe('bench');
    expect(c.files).toEqual([file]);
    expect(c.virtualServers).toHaveLength(VS);
    expect(c.virtualServers.reduce((n, vs) => n + vs.realServers.length, 0)).toBe(VS * RS);
    expect(c.virtualServers.map((vs) => vs.address)).toEqual(Array.from({ length: VS }, (_, i) => vip(i)));

    // Virtual server 1234 starts on line 4 + 1234 * (5 + 3 * RS); its real server 7 on line +4 + 3 * 7.
    const vs = c.virtualServers[1234]!;
    const vsLine = 4 + 1234 * (5 + 3 * RS);
    expect(vs).toMatchObject({ kind: 'address', family: 'inet', address: '10.100.4.210', port: 80, protocol: 'TCP', lbAlgo: 'wrr', lbKind: 'DR', quorum: 1 });
    expect(vs.loc).toEqual({ file, line: vsLine, col: 1 });
    expect(vs.realServers[7]).toEqual({
      address: '172.16.48.59', // 172.16.0.0 + 1234 * 10 + 7
      port: 80,
      weight: 8,
      lbKind: 'DR',
      uthreshold: 0,
      lthreshold: 0,
      inhibitOnFailure: false,
      alpha: false,
      checkers: [],
      loc: { file, line: vsLine + 4 + 3 * 7, col: 3 },
    });
  });

  it('gives a mistake deep in the file its exact place, and no model', () => {
    // A typo in the last real server's weight and a stray brace after the last block.
    const lines = text.split('\n');
    const weightLine = lines.length - 3; // 1-based number of the last `weight` line
    expect(lines[weightLine - 1]).toBe(`    weight ${RS}`);
    lines[weightLine - 1] = '    weight 1O';
    const r = parseConfig(`${lines.join('\n')}}\n`, { file });
    expect(r.ok).toBe(false);
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      `${file}:${weightLine}:12: error: weight: expected a weight between 0 and 2147483647, got '1O'`,
      `${file}:${lines.length}:1: error: unexpected '}': no block is open here`,
    ]);
  });

  it('the syntax tree has one node per block or line', () => {
    const { ast, diagnostics } = parseConfigAst(text, file);
    expect(diagnostics).toEqual([]);
    expect(ast.nodes).toHaveLength(1 + VS);
    const last = ast.nodes[VS]!;
    expect(last.keyword).toBe('virtual_server');
    expect(last.children).toHaveLength(3 + RS);
    expect(last.children![3 + RS - 1]!.children!.map((n) => [n.keyword, n.args.map((a) => a.text)])).toEqual([['weight', [String(RS)]]]);
  });
});

describe('keywords named like Object.prototype members', () => {
  it('are unknown keywords, as any other word', () => {
    const text = 'toString 1\nglobal_defs {\n constructor x\n}\nvirtual_server 10.0.0.1 80 {\n protocol TCP\n hasOwnProperty\n real_server 10.0.0.2 80 {\n  __proto__ 1\n }\n}\n';
    const r = parseConfig(text, { file: 'k.conf' });
    expect(r.ok).toBe(true);
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      `k.conf:1:1: warning: unknown keyword 'toString' in the top level - ignored`,
      `k.conf:3:2: warning: unknown keyword 'constructor' in global_defs - ignored`,
      `k.conf:7:2: warning: unknown keyword 'hasOwnProperty' in virtual_server 10.0.0.1 80 - ignored`,
      `k.conf:9:3: warning: unknown keyword '__proto__' in real_server 10.0.0.2 80 - ignored`,
      `k.conf:11:1: note: virtual_server 10.0.0.1 80: no lb_algo set - using wlc (as keepalived)`,
      `k.conf:11:1: note: virtual_server 10.0.0.1 80: no lb_kind set - using NAT (as keepalived)`,
    ]);
  });
});
