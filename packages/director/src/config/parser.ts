// keepalived.conf -> a syntax tree: one node per logical line, `{ ... }` blocks as
// children. Pure: the text comes in, included files come through an injected ConfigFs.
import { DiagnosticSink, sortDiagnostics, type Diagnostic, type SourceLoc } from './diagnostics.js';
import { memoryFs, type ConfigFs } from './fs.js';
import { readConfigLines, type LogicalLine, type ReadOptions, type Token } from './reader.js';

export interface ConfigNode extends SourceLoc {
  /** The first word of the line. */
  keyword: string;
  /** The other words. */
  args: Token[];
  /** The whole processed line (for script command lines, which keepalived re-splits with quotes and escapes). */
  text: string;
  /** Present when the line opened a `{ }` block. */
  children?: ConfigNode[];
  /** Where the block's `{` and `}` are. */
  open?: SourceLoc;
  close?: SourceLoc;
}

export interface ConfigAst {
  /** The main file's name as given. */
  file: string;
  /** Every file read (the main file, then included ones in the order they were read). */
  files: string[];
  nodes: ConfigNode[];
}

export interface ParseOptions extends Omit<ReadOptions, 'fs'> {
  /** Where `include`d files are read from (default: none; an include then reports a missing file). */
  fs?: ConfigFs;
}

/** Parses keepalived.conf text into a tree. Never throws for bad input: see the diagnostics. */
export function parseConfigAst(
  text: string,
  file: string,
  opts: ParseOptions = {},
  sink: DiagnosticSink = new DiagnosticSink(),
): { ast: ConfigAst; diagnostics: Diagnostic[] } {
  const { lines, files } = readConfigLines(text, file, { ...opts, fs: opts.fs ?? memoryFs({}) }, sink);
  const nodes = buildTree(lines, sink);
  return { ast: { file, files, nodes }, diagnostics: sortDiagnostics(sink.list) };
}

function buildTree(lines: LogicalLine[], sink: DiagnosticSink): ConfigNode[] {
  const root: ConfigNode[] = [];
  const stack: { node?: ConfigNode; children: ConfigNode[] }[] = [{ children: root }];
  let prev: ConfigNode | undefined;
  for (const line of lines) {
    const loc: SourceLoc = { file: line.file, line: line.line, col: line.col };
    const first = line.tokens[0]!;
    if (line.tokens.length === 1 && !first.quoted && first.text === '{') {
      if (prev && !prev.children) {
        prev.children = [];
        prev.open = loc;
        stack.push({ node: prev, children: prev.children });
      } else {
        sink.error('syntax', loc, `unexpected '{': a block must follow the keyword that opens it`);
        const dummy: ConfigNode = { ...loc, keyword: '{', args: [], text: '{', children: [], open: loc };
        stack.push({ node: dummy, children: dummy.children! });
      }
      prev = undefined;
      continue;
    }
    if (line.tokens.length === 1 && !first.quoted && first.text === '}') {
      if (stack.length === 1) sink.error('syntax', loc, `unexpected '}': no block is open here`);
      else stack.pop()!.node!.close = loc;
      prev = undefined;
      continue;
    }
    const node: ConfigNode = { ...loc, keyword: first.text, args: line.tokens.slice(1), text: line.text };
    stack[stack.length - 1]!.children.push(node);
    prev = node;
  }
  while (stack.length > 1) {
    const open = stack.pop()!.node!;
    const what = [open.keyword, ...open.args.map((a) => a.text)].join(' ');
    sink.error(
      'syntax',
      open.open ?? open,
      `missing '}': the block of '${what}' opened here is not closed by the end of the configuration`,
      open.keyword,
    );
  }
  return root;
}
