// keepalived.conf -> a syntax tree: one node per logical line, `{ ... }` blocks as
// children. Pure: the text comes in, included files come through an injected ConfigFs.
import { DiagnosticSink, sortDiagnostics, type Diagnostic, type SourceLoc } from './diagnostics.js';
import { memoryFs, type ConfigFs } from './fs.js';
import { readConfig, type ReadLine, type ReadOptions, type Token } from './reader.js';

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
  const nodes: ConfigNode[] = [];
  const files = readTopLevel(text, file, opts, sink, (node) => nodes.push(node));
  return { ast: { file, files, nodes }, diagnostics: sortDiagnostics(sink.list) };
}

/**
 * Reads the configuration and hands each top-level node (with its whole block) to `onNode`
 * once it is complete, so that a caller may use it and let it go before the next one is
 * read. Diagnostics go to `sink` in the order parseConfigAst has always given them: the
 * reader's, then the tree's (the order matters: sortDiagnostics orders files by first
 * appearance). Returns every file read.
 */
export function readTopLevel(
  text: string,
  file: string,
  opts: ParseOptions,
  sink: DiagnosticSink,
  onNode: (node: ConfigNode) => void,
): string[] {
  const tree = new TreeBuilder(new DiagnosticSink(), onNode);
  const files = readConfig(text, file, { ...opts, fs: opts.fs ?? memoryFs({}) }, sink, (line) => tree.line(line));
  tree.end();
  for (const d of tree.sink.list) sink.list.push(d);
  return files;
}

/** One node per logical line; a line that is just `{` opens the block of the line before it. */
class TreeBuilder {
  private readonly stack: { node?: ConfigNode; children: ConfigNode[] }[] = [{ children: [] }];
  private prev: ConfigNode | undefined;
  /** The newest top-level node: complete once another one starts (or the input ends). */
  private top: ConfigNode | undefined;

  constructor(
    readonly sink: DiagnosticSink,
    private readonly onNode: (node: ConfigNode) => void,
  ) {}

  line(line: ReadLine): void {
    const first = line.tokens[0]!;
    if (line.tokens.length === 1 && !first.quoted && first.text === '{') {
      const loc: SourceLoc = { file: line.file, line: line.line, col: line.col };
      const prev = this.prev;
      if (prev && !prev.children) {
        prev.children = [];
        prev.open = loc;
        this.stack.push({ node: prev, children: prev.children });
      } else {
        this.sink.error('syntax', loc, `unexpected '{': a block must follow the keyword that opens it`);
        const dummy: ConfigNode = { ...loc, keyword: '{', args: [], text: '{', children: [], open: loc };
        this.stack.push({ node: dummy, children: dummy.children! });
      }
      this.prev = undefined;
      return;
    }
    if (line.tokens.length === 1 && !first.quoted && first.text === '}') {
      const loc: SourceLoc = { file: line.file, line: line.line, col: line.col };
      if (this.stack.length === 1) this.sink.error('syntax', loc, `unexpected '}': no block is open here`);
      else this.stack.pop()!.node!.close = loc;
      this.prev = undefined;
      return;
    }
    // Properties written out (not spread from a location object): one shape for every node.
    const node: ConfigNode = { file: line.file, line: line.line, col: line.col, keyword: first.text, args: line.tokens.slice(1), text: line.text };
    if (this.stack.length === 1) {
      if (this.top) this.onNode(this.top);
      this.top = node;
    } else {
      this.stack[this.stack.length - 1]!.children.push(node);
    }
    this.prev = node;
  }

  end(): void {
    while (this.stack.length > 1) {
      const open = this.stack.pop()!.node!;
      const what = [open.keyword, ...open.args.map((a) => a.text)].join(' ');
      this.sink.error(
        'syntax',
        open.open ?? open,
        `missing '}': the block of '${what}' opened here is not closed by the end of the configuration`,
        open.keyword,
      );
    }
    if (this.top) this.onNode(this.top);
    this.top = undefined;
  }
}
