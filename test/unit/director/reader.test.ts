// keepalived.conf lexing: comments, quotes, braces, include, @id, $definitions, NBSP.
import { describe, expect, it } from 'vitest';
import { formatDiagnostic, memoryFs, parseConfigAst, type ConfigNode, type ParseOptions } from '@lvsd/director';

function parse(text: string, opts: ParseOptions = {}, file = '/etc/keepalived/keepalived.conf') {
  const r = parseConfigAst(text, file, opts);
  return { nodes: r.ast.nodes, files: r.ast.files, diags: r.diagnostics.map(formatDiagnostic) };
}

/** keyword + args, children nested: a compact view of the tree. */
function shape(nodes: ConfigNode[]): unknown[] {
  return nodes.map((n) => {
    const head = [n.keyword, ...n.args.map((a) => a.text)].join(' ');
    return n.children ? { [head]: shape(n.children) } : head;
  });
}

describe('comments and words', () => {
  it('drops ! and # comments, whole-line and trailing', () => {
    const r = parse('! a comment\n# another\nglobal_defs { # trailing\n  router_id r1 ! trailing too\n}\n');
    expect(r.diags).toEqual([]);
    expect(shape(r.nodes)).toEqual([{ global_defs: ['router_id r1'] }]);
  });

  it('keeps comment characters inside quotes and after a backslash', () => {
    const r = parse('vrrp_script s {\n  script "/bin/test ! -f /x#y"\n  user a\\#b\n}\n');
    expect(r.diags).toEqual([]);
    const script = r.nodes[0]!.children![0]!;
    expect(script.args[0]!.text).toBe('/bin/test ! -f /x#y');
    expect(script.args[0]!.quoted).toBe(true);
    expect(r.nodes[0]!.children![1]!.args[0]!.text).toBe('a#b');
  });

  it('gives every word its file, line and column (tabs count as one column)', () => {
    const r = parse('vrrp_instance VI_1 {\n\tstate   MASTER\n}\n');
    const state = r.nodes[0]!.children![0]!;
    expect([state.line, state.col]).toEqual([2, 2]);
    expect([state.args[0]!.line, state.args[0]!.col]).toEqual([2, 10]);
    expect(r.nodes[0]!.open).toMatchObject({ line: 1, col: 20 });
    expect(r.nodes[0]!.close).toMatchObject({ line: 3, col: 1 });
  });

  it('a word stops at a quote, as keepalived splits it', () => {
    const r = parse('notify_master abc"def ghi"\n');
    expect(r.nodes[0]!.args.map((a) => a.text)).toEqual(['abc', 'def ghi']);
  });

  it('reports an unterminated quote at the opening quote', () => {
    const r = parse('vrrp_script s {\n  script "/bin/true\n}\n');
    expect(r.diags).toContain(`/etc/keepalived/keepalived.conf:2:10: error: unterminated quoted string: expected a closing '"'`);
  });

  it('strips CR of CRLF files', () => {
    const r = parse('global_defs {\r\n  router_id r1\r\n}\r\n');
    expect(r.diags).toEqual([]);
    expect(shape(r.nodes)).toEqual([{ global_defs: ['router_id r1'] }]);
  });
});

describe('braces', () => {
  it('takes { on the keyword line, on the next line, and glued to words', () => {
    const text = [
      'vrrp_script chk_dowm{',
      '  weight 1}',
      'vrrp_instance VI_1',
      '{',
      '  virtual_ipaddress { 10.0.0.1 10.0.0.2/24 }',
      '  track_script {chk}',
      '}',
    ].join('\n');
    const r = parse(text);
    expect(r.diags).toEqual([]);
    expect(shape(r.nodes)).toEqual([
      { 'vrrp_script chk_dowm': ['weight 1'] },
      { 'vrrp_instance VI_1': [{ virtual_ipaddress: ['10.0.0.1 10.0.0.2/24'] }, { track_script: ['chk'] }] },
    ]);
  });

  it('closes several blocks on one line', () => {
    const r = parse('a {\n b {\n c {\n d 1 }}}\n');
    expect(r.diags).toEqual([]);
    expect(shape(r.nodes)).toEqual([{ a: [{ b: [{ c: ['d 1'] }] }] }]);
  });

  it('does not split braces inside quotes', () => {
    const r = parse('x {\n script "echo {} }"\n}\n');
    expect(r.diags).toEqual([]);
    expect(r.nodes[0]!.children![0]!.args[0]!.text).toBe('echo {} }');
  });

  it('reports an extra } and a missing } with their places', () => {
    expect(parse('a {\n}\n}\n').diags).toEqual([`/etc/keepalived/keepalived.conf:3:1: error: unexpected '}': no block is open here`]);
    expect(parse('vrrp_instance VI_1 {\n state MASTER\n').diags).toEqual([
      `/etc/keepalived/keepalived.conf:1:20: error: missing '}': the block of 'vrrp_instance VI_1' opened here is not closed by the end of the configuration`,
    ]);
  });

  it('reports a { that follows no keyword', () => {
    expect(parse('a 1\n\n! c\nb 2\n}\n{\n}\n').diags).toContain(
      `/etc/keepalived/keepalived.conf:5:1: error: unexpected '}': no block is open here`,
    );
    expect(parse('a {\n}\n{\n}\n').diags).toEqual([
      `/etc/keepalived/keepalived.conf:3:1: error: unexpected '{': a block must follow the keyword that opens it`,
    ]);
  });
});

describe('include', () => {
  const fs = memoryFs({
    '/etc/keepalived/keepalived.conf': '',
    '/etc/keepalived/conf.d/10-vs.conf': 'virtual_server 10.0.0.1 80 {\n}\n',
    '/etc/keepalived/conf.d/20-vs.conf': 'virtual_server 10.0.0.2 80 {\n include ../rs/*.conf\n}\n',
    '/etc/keepalived/conf.d/.hidden.conf': 'hidden 1\n',
    '/etc/keepalived/conf.d/notes.txt': 'not 1\n',
    '/etc/keepalived/rs/a.conf': 'real_server 10.1.0.1 80\n',
    '/etc/keepalived/rs/b.conf': 'real_server 10.1.0.2 80\n',
    '/etc/keepalived/one.conf': 'global_defs {\n',
    '/etc/keepalived/two.conf': '}\n',
  });

  it('expands a glob relative to the including file, in sorted order, without dot files', () => {
    const r = parse('include conf.d/*.conf\n', { fs });
    expect(r.diags).toEqual([]);
    expect(shape(r.nodes)).toEqual([
      { 'virtual_server 10.0.0.1 80': [] },
      { 'virtual_server 10.0.0.2 80': ['real_server 10.1.0.1 80', 'real_server 10.1.0.2 80'] },
    ]);
    expect(r.files).toEqual([
      '/etc/keepalived/keepalived.conf',
      '/etc/keepalived/conf.d/10-vs.conf',
      '/etc/keepalived/conf.d/20-vs.conf',
      '/etc/keepalived/rs/a.conf',
      '/etc/keepalived/rs/b.conf',
    ]);
    // Locations point into the included files.
    const rs = (r.nodes[1]!.children![0] as ConfigNode);
    expect([rs.file, rs.line, rs.col]).toEqual(['/etc/keepalived/rs/a.conf', 1, 1]);
  });

  it('expands brace lists and lets a block span files', () => {
    const r = parse('include {one,two}.conf\n', { fs });
    expect(r.diags).toEqual([]);
    expect(shape(r.nodes)).toEqual([{ global_defs: [] }]);
  });

  it('warns about a missing file, notes a glob that matches nothing', () => {
    const r = parse('include missing.conf\ninclude none/*.conf\n', { fs });
    expect(r.diags).toEqual([
      `/etc/keepalived/keepalived.conf:1:9: warning: included file 'missing.conf' not found (looked for /etc/keepalived/missing.conf)`,
      `/etc/keepalived/keepalived.conf:2:9: note: no files match 'none/*.conf'`,
    ]);
  });

  it('stops an include loop', () => {
    const loop = memoryFs({ '/a.conf': 'include /a.conf\n' });
    const r = parse('include /a.conf\n', { fs: loop, maxIncludeDepth: 4 }, '/main.conf');
    expect(r.diags).toContain(`/a.conf:1:9: error: include nesting deeper than 4 files (does a file include itself?): not following '/a.conf'`);
  });
});

describe('@config-id lines', () => {
  const text = '@node1 router_id one\n@node2 router_id two\n@^node1 priority 50\nrouter_id all\n@node1\n';
  it('keeps @id lines for the matching id and drops @^id ones', () => {
    expect(shape(parse(text, { configId: 'node1' }).nodes)).toEqual(['router_id one', 'router_id all']);
    expect(shape(parse(text, { configId: 'node2' }).nodes)).toEqual(['router_id two', 'priority 50', 'router_id all']);
  });
  it('without an id, drops @id lines and keeps @^id ones', () => {
    expect(shape(parse(text).nodes)).toEqual(['priority 50', 'router_id all']);
  });
  it('keeps the columns of what follows the @id', () => {
    const n = parse('@node1 router_id one\n', { configId: 'node1' }).nodes[0]!;
    expect([n.col, n.args[0]!.col]).toEqual([8, 18]);
  });
});

describe('$definitions', () => {
  it('replaces $NAME and ${NAME}, at their place', () => {
    const r = parse('$VIP=10.0.0.1\n$PORT=80\nvirtual_server $VIP ${PORT} {\n real_server 10.1.1.1 ${PORT}0\n}\n');
    expect(r.diags).toEqual([]);
    expect(shape(r.nodes)).toEqual([{ 'virtual_server 10.0.0.1 80': ['real_server 10.1.1.1 800'] }]);
    expect(r.nodes[0]!.args[0]!.col).toBe(16);
  });

  it('only takes $NAME ending at a blank, comma, ) or the end of the line', () => {
    const r = parse('$A=x\nk $A.b ${A}.b\n');
    expect(shape(r.nodes)).toEqual(['k $A.b x.b']);
  });

  it('notes an undefined $NAME and keeps it literally, as keepalived does', () => {
    const r = parse('$A=1\nauth_pass $SECRET\n');
    expect(r.diags).toEqual([`/etc/keepalived/keepalived.conf:2:11: note: '$SECRET' is not defined: kept as literal text, as keepalived does`]);
    expect(shape(r.nodes)).toEqual(['auth_pass $SECRET']);
  });

  it('expands definitions inside definitions and redefines', () => {
    const r = parse('$A=1\n$B=$A 2\nk $B\n$A=9\nk $B\n');
    expect(shape(r.nodes)).toEqual(['k 1 2', 'k 9 2']);
  });

  it('expands a multiline definition into several lines', () => {
    const text = [
      '$RS=real_server $IP 80 { \\',
      '   weight 2 \\',
      '   TCP_CHECK { connect_timeout 3 } \\',
      '}',
      '$IP=10.0.0.5',
      'virtual_server 10.0.0.1 80 {',
      '  $RS',
      '}',
    ].join('\n');
    const r = parse(text);
    expect(r.diags).toEqual([]);
    expect(shape(r.nodes)).toEqual([
      { 'virtual_server 10.0.0.1 80': [{ 'real_server 10.0.0.5 80': ['weight 2', { TCP_CHECK: ['connect_timeout 3'] }] }] },
    ]);
    // Lines from the definition are placed where it is used.
    expect(r.nodes[0]!.children![0]!.line).toBe(7);
  });

  it('an empty line ends a multiline definition', () => {
    const r = parse('$M=a 1 \\\n b 2\n\nc 3\n$M\n');
    expect(shape(r.nodes)).toEqual(['c 3', 'a 1', 'b 2']);
  });

  it('has keepalived standard definitions', () => {
    // As in keepalived, the text is decommented again after expansion: an unquoted # starts a comment.
    const r = parse('k "${_HASH}${_BANG}" ${_RANDOM 5 5}\np $_PWD\nq $_HASH x\n', { random: () => 0.5 }, '/etc/k/keepalived.conf');
    expect(shape(r.nodes)).toEqual(['k #! 5', 'p /etc/k', 'q']);
  });

  it('does not take "$A = 1" as a definition (no spaces before =, as keepalived)', () => {
    expect(shape(parse('$A = 1\n').nodes)).toEqual(['$A = 1']);
  });

  it('works with @id on a definition', () => {
    const r = parse('@n1 $P=150\n@^n1 $P=100\npriority $P\n', { configId: 'n1' });
    expect(shape(r.nodes)).toEqual(['priority 150']);
  });

  it('rejects ~SEQ with a clear error', () => {
    expect(parse('~SEQ(i, 1, 3) k $i\n').diags).toEqual([
      `/etc/keepalived/keepalived.conf:1:1: error: ~SEQ (keepalived's generated lines) is not supported by lvsd yet: write the lines out`,
    ]);
  });
});

describe('non-ASCII whitespace', () => {
  it('names the character and where it is, and reads it as a space', () => {
    const r = parse('global_defs\u00a0{\n\u00a0\u00a0router_id\u00a0r1\n}\n');
    expect(shape(r.nodes)).toEqual([{ global_defs: ['router_id r1'] }]);
    expect(r.diags).toEqual([
      '/etc/keepalived/keepalived.conf:1:12: warning: U+00A0 NO-BREAK SPACE used as a space (once on this line, first at column 12): lvsd reads it as a space; keepalived does not: it reads "global_defs\\u00a0" as one word and ignores the line. Replace it with an ASCII space.',
      '/etc/keepalived/keepalived.conf:2:1: warning: U+00A0 NO-BREAK SPACE used as a space (3 times on this line, first at column 1): lvsd reads it as a space; keepalived does not: it reads "\\u00a0\\u00a0router_id\\u00a0r1" as one word and ignores the line. Replace it with an ASCII space.',
    ]);
  });

  it('also inside quoted strings (a script\'s words)', () => {
    const r = parse('script "killall\u00a0-0\u00a0httpd"\n');
    expect(r.nodes[0]!.args[0]!.text).toBe('killall -0 httpd');
    expect(r.diags).toHaveLength(1);
  });

  it('says nothing about one in a comment', () => {
    expect(parse('!\u00a0Configuration\u00a0File\nk 1 #\u00a0x\n').diags).toEqual([]);
  });

  it('names other odd spaces and the byte order mark', () => {
    const r = parse('\ufeffk\u2003v\u3000w\n');
    expect(shape(r.nodes)).toEqual(['k v w']);
    expect(r.diags.map((d) => d.replace(/ \(.*/, ''))).toEqual([
      '/etc/keepalived/keepalived.conf:1:1: warning: U+FEFF ZERO WIDTH NO-BREAK SPACE',
      '/etc/keepalived/keepalived.conf:1:3: warning: U+2003 EM SPACE used as a space',
      '/etc/keepalived/keepalived.conf:1:5: warning: U+3000 IDEOGRAPHIC SPACE used as a space',
    ]);
  });
});

describe('lines kept by the caller', () => {
  it('readConfigLines gives each line its own words (the reader reuses its line record)', async () => {
    const { readConfigLines } = await import('@lvsd/director');
    const { DiagnosticSink } = await import('../../../packages/director/src/config/diagnostics.js');
    const r = readConfigLines('a b c\nd\n"e f" g {\n}\n', 'x.conf', { fs: memoryFs({}) }, new DiagnosticSink());
    expect(r.lines.map((l) => l.tokens.map((t) => t.text))).toEqual([['a', 'b', 'c'], ['d'], ['e f', 'g'], ['{'], ['}']]);
    expect(new Set(r.lines.map((l) => l.tokens)).size).toBe(r.lines.length);
    expect(r.lines.map((l) => l.line)).toEqual([1, 2, 3, 3, 4]);
  });

  it('a long line then short ones: no word of the long line is left behind', () => {
    const r = parse(`global_defs {\n  notification_email ${Array.from({ length: 40 }, (_, i) => `a${i}@x`).join(' ')}\n  router_id r1\n}\n`);
    const [email, rid] = r.nodes[0]!.children!;
    expect(email!.args).toHaveLength(40);
    expect(rid!.args.map((a) => a.text)).toEqual(['r1']);
  });
});
