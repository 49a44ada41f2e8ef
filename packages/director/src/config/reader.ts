// keepalived.conf's line reader, as keepalived's lib/parser.c read_line() does it:
// comments (`!`, `#`, also trailing, `\!` and `\#` escape them), `include` with globs
// (relative to the including file), `@id` / `@^id` conditional lines, `$NAME=value`
// definitions (multiline with a trailing `\`), `$NAME` / `${NAME}` use, and braces split
// off as lines of their own so that `{` may sit on the keyword's line, on the next line,
// or glued to a word. Every character keeps the file, line and column it came from.
//
// One deliberate difference: keepalived takes non-ASCII whitespace (U+00A0 NO-BREAK SPACE
// from web pages and word processors) as part of a word, so such a line silently matches
// no keyword and is dropped. lvsd reads it as a space and says so, naming the character
// and where it is (a warning; an error under --strict).
import * as posix from 'node:path/posix';
import type { DiagnosticSink, SourceLoc } from './diagnostics.js';
import type { ConfigFs } from './fs.js';
import { glob } from './glob.js';

/** One word of a configuration line. */
export interface Token extends SourceLoc {
  text: string;
  /** Written in double quotes (`"a b"` is one word). */
  quoted: boolean;
}

/** One logical line after comments, conditionals, definitions and brace splitting. */
export interface LogicalLine extends SourceLoc {
  /** The processed text (comments removed, definitions expanded). */
  text: string;
  /** Column of each character of `text` in the source line. */
  cols: number[];
  tokens: Token[];
}

/**
 * Source column of each character of a processed text. Nearly every line is a verbatim run
 * of its source line (only blanks and a comment cut off its ends), so that case is a single
 * number, the column of the first character; a per-character array is built only when an
 * escape or a `$NAME` expansion moves characters. (An array per line was most of the time
 * and memory a big configuration took to read.)
 */
type Cols = number | number[];

/**
 * A logical line as the reader hands it on: `cols` stays compact. The object and its
 * `tokens` array are reused for the next line (175,000 lines made 175,000 of each, and
 * a pushed-to array is born with room for 16): copy what you keep.
 */
export type ReadLine = Omit<LogicalLine, 'cols'> & { cols: Cols };

/** What tokenize returns for a line without words (the reused array is not emptied). */
const NO_TOKENS: Token[] = [];

/** The column of text[i] (i within the text). */
function colAt(cols: Cols, i: number): number {
  return typeof cols === 'number' ? cols + i : cols[i]!;
}

/** The columns of text.slice(start, end). */
function sliceCols(cols: Cols, start: number, end?: number): Cols {
  return typeof cols === 'number' ? cols + start : cols.slice(start, end);
}

function expandCols(cols: Cols, length: number): number[] {
  return typeof cols === 'number' ? Array.from({ length }, (_, i) => cols + i) : cols;
}

export interface ReadOptions {
  fs: ConfigFs;
  /** keepalived's `-i`: `@id` lines are kept when id matches, `@^id` lines when it does not. */
  configId?: string;
  /** Value of `$_INSTANCE`. */
  instance?: string;
  /** Directory that relative paths (the main file's, `$_PWD`) are resolved against. */
  cwd?: string;
  /** Random source for `$_RANDOM` (default Math.random). */
  random?: () => number;
  /** Deepest include nesting accepted (default 32). */
  maxIncludeDepth?: number;
  /** Line number of the text's first line (default 1): a part of a file read on its own. */
  firstLine?: number;
}

/** keepalived's WHITE_SPACE_STR: ' ', \t, \n, \v, \f, \r (tested per character, hence no string search). */
const isWs = (c: string | undefined): boolean =>
  c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
const isBlank = (c: string | undefined): boolean => c === ' ' || c === '\t';
const isAlpha = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z]$/.test(c);
const isAlnumU = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z0-9_]$/.test(c);

/** Unicode characters that look like a space but are not one to keepalived. */
export const NON_ASCII_SPACES: ReadonlyMap<number, string> = new Map([
  [0x0085, 'NEXT LINE (NEL)'],
  [0x00a0, 'NO-BREAK SPACE'],
  [0x1680, 'OGHAM SPACE MARK'],
  [0x180e, 'MONGOLIAN VOWEL SEPARATOR'],
  [0x2000, 'EN QUAD'],
  [0x2001, 'EM QUAD'],
  [0x2002, 'EN SPACE'],
  [0x2003, 'EM SPACE'],
  [0x2004, 'THREE-PER-EM SPACE'],
  [0x2005, 'FOUR-PER-EM SPACE'],
  [0x2006, 'SIX-PER-EM SPACE'],
  [0x2007, 'FIGURE SPACE'],
  [0x2008, 'PUNCTUATION SPACE'],
  [0x2009, 'THIN SPACE'],
  [0x200a, 'HAIR SPACE'],
  [0x200b, 'ZERO WIDTH SPACE'],
  [0x2028, 'LINE SEPARATOR'],
  [0x2029, 'PARAGRAPH SEPARATOR'],
  [0x202f, 'NARROW NO-BREAK SPACE'],
  [0x205f, 'MEDIUM MATHEMATICAL SPACE'],
  [0x3000, 'IDEOGRAPHIC SPACE'],
  [0xfeff, 'ZERO WIDTH NO-BREAK SPACE (byte order mark)'],
]);

export function describeChar(code: number): string {
  const name = NON_ASCII_SPACES.get(code);
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}${name ? ` ${name}` : ''}`;
}

interface Item {
  text: string;
  cols: Cols;
  file: string;
  line: number;
  /** From a file (decommented) rather than from a residue or a definition. */
  physical: boolean;
}

interface Definition {
  name: string;
  value: string;
  multiline: boolean;
  /** Standard definitions computed on use ($_PWD, $_RANDOM...). */
  fn?: (params: number[], at: Item) => string;
  maxParams: number;
  /** Where it was defined, for messages. */
  at?: SourceLoc;
}

/** A file being read: its lines are cut out one at a time (no array of all of them). */
interface Frame {
  file: string;
  text: string;
  /** Offset of the next line in `text`, and its number. */
  pos: number;
  lineNo: number;
}

interface PendingFiles {
  files: { path: string; text: string }[];
  next: number;
  depth: number;
}

/**
 * Reads a keepalived configuration into logical lines. `text` is the content of `file`;
 * `include`d files are read through `opts.fs`. Problems are added to `sink`.
 */
export function readConfigLines(
  text: string,
  file: string,
  opts: ReadOptions,
  sink: DiagnosticSink,
): { lines: LogicalLine[]; files: string[] } {
  const lines: LogicalLine[] = [];
  const files = readConfig(text, file, opts, sink, (l) =>
    lines.push({ file: l.file, line: l.line, col: l.col, text: l.text, cols: expandCols(l.cols, l.text.length), tokens: l.tokens.slice() }),
  );
  return { lines, files };
}

/**
 * readConfigLines without keeping the lines: each one goes to `onLine` as soon as it is
 * read, so a big configuration is never held as lines and as a tree at once.
 * Returns every file read, in order.
 */
export function readConfig(text: string, file: string, opts: ReadOptions, sink: DiagnosticSink, onLine: (line: ReadLine) => void): string[] {
  const r = new Reader(opts, sink, onLine);
  r.run(text, file);
  return r.files;
}

class Reader {
  /** Every file read, in order. */
  readonly files: string[] = [];
  /** The same, for a constant-time "already listed?" (a config may include many files). */
  private readonly fileSet = new Set<string>();
  /**
   * Items to process before the next physical line, the next one last, kept as a stack
   * with its own top (`nPending`): an array popped back to empty gives its storage back
   * and the next push allocates it again, once per line with a brace.
   */
  private readonly pending: Item[] = [];
  private nPending = 0;
  private readonly stack: Frame[] = [];
  /** Files still to read for each open `include` glob, innermost last. */
  private readonly globs: PendingFiles[] = [];
  private readonly defs = new Map<string, Definition>();
  private collecting: Definition | undefined;
  /** The line handed to onLine, reused (see ReadLine). */
  private readonly out: ReadLine = { file: '', line: 0, col: 0, text: '', cols: 0, tokens: [] };
  private readonly maxDepth: number;
  private readonly cwd: string;

  constructor(
    private readonly opts: ReadOptions,
    private readonly sink: DiagnosticSink,
    private readonly onLine: (line: ReadLine) => void,
  ) {
    this.maxDepth = opts.maxIncludeDepth ?? 32;
    this.cwd = opts.cwd ?? '/';
    const random = opts.random ?? Math.random;
    this.addStd('_PWD', (_p, at) => posix.dirname(posix.resolve(this.cwd, at.file)), 0);
    this.addStd('_INSTANCE', () => opts.instance ?? '', 0);
    this.addStd(
      '_RANDOM',
      (p) => {
        const min = p.length >= 2 ? p[0]! : 0;
        const max = p.length >= 2 ? p[1]! : p.length === 1 ? p[0]! : 32767;
        return String(min + Math.floor(random() * (max - min + 1)));
      },
      2,
    );
    this.addStd('_HASH', () => '#', 0);
    this.addStd('_BANG', () => '!', 0);
  }

  private addStd(name: string, fn: Definition['fn'], maxParams: number): void {
    this.defs.set(name, { name, value: '', multiline: false, fn, maxParams });
  }

  run(text: string, file: string): void {
    this.stack.push({ file, text, pos: 0, lineNo: (this.opts.firstLine ?? 1) - 1 });
    this.files.push(file);
    this.fileSet.add(file);
    for (;;) {
      const item = this.nPending > 0 ? this.pending[--this.nPending] : this.readPhysical();
      if (!item) break;
      this.process(item);
    }
    if (this.collecting) this.endCollecting();
  }

  // ---- physical lines ---------------------------------------------------------------

  private readPhysical(): Item | undefined {
    for (;;) {
      const frame = this.stack[this.stack.length - 1];
      if (!frame) {
        if (!this.openNextGlobFile()) return undefined;
        continue;
      }
      // Lines are split on \n; a final \n does not start another (empty) line.
      if (frame.pos >= frame.text.length) {
        this.stack.pop();
        // Move on to the next file of the innermost open include glob, if any.
        this.openNextGlobFile();
        continue;
      }
      const nl = frame.text.indexOf('\n', frame.pos);
      const lineEnd = nl < 0 ? frame.text.length : nl;
      let raw = frame.text.slice(frame.pos, lineEnd);
      frame.pos = lineEnd + 1;
      const lineNo = ++frame.lineNo;
      while (raw.endsWith('\r')) raw = raw.slice(0, -1);
      if (raw.length === 0) {
        // An empty line ends a multiline definition (keepalived does the same).
        if (this.collecting) this.endCollecting();
        continue;
      }
      const spaced = hasNonAscii(raw) ? replaceOddSpaces(raw) : undefined;
      // An unterminated quote is reported once, by the tokenizer, at the opening quote.
      const dec = decomment(spaced ? spaced.text : raw, 1);
      if (dec.text.length === 0) continue;
      if (spaced) this.reportOddSpaces(spaced.found, dec.commentCol, frame.file, lineNo, raw);
      return { text: dec.text, cols: dec.cols, file: frame.file, line: lineNo, physical: true };
    }
  }

  /** One diagnostic per character kind per line, for those not inside a comment. */
  private reportOddSpaces(found: Map<number, number>, commentCol: number | undefined, file: string, line: number, raw: string): void {
    if (found.size === 0) return;
    const byCode = new Map<number, number[]>();
    for (const [col, code] of found) {
      if (commentCol !== undefined && col > commentCol) continue;
      const list = byCode.get(code) ?? [];
      list.push(col);
      byCode.set(code, list);
    }
    for (const [code, cols] of byCode) {
      const what = describeChar(code);
      const count = cols.length === 1 ? 'once' : `${cols.length} times`;
      const word = showOddSpaces(firstWordWith(raw, cols[0]!));
      this.sink.warn(
        'non-ascii-space',
        { file, line, col: cols[0]! },
        `${what} used as a space (${count} on this line, first at column ${cols[0]}): lvsd reads it as a space; ` +
          `keepalived does not: it reads "${word}" as one word and ignores the line. Replace it with an ASCII space.`,
      );
    }
  }

  // ---- includes ----------------------------------------------------------------------

  private openNextGlobFile(): boolean {
    for (;;) {
      const g = this.globs[this.globs.length - 1];
      if (!g) return false;
      if (this.stack.length > g.depth) return true; // a file of this glob is still open
      if (g.next >= g.files.length) {
        this.globs.pop();
        continue;
      }
      const f = g.files[g.next++]!;
      this.stack.push({ file: f.path, text: f.text, pos: 0, lineNo: 0 });
      if (!this.fileSet.has(f.path)) {
        this.fileSet.add(f.path);
        this.files.push(f.path);
      }
      return true;
    }
  }

  private include(item: Item, kind: string, pattern: string, patternCol: number): void {
    const at = { file: item.file, line: item.line, col: patternCol };
    const strictKind = kind !== '';
    const complain = (msg: string): void => {
      if (strictKind) this.sink.error('include', at, msg, `include${kind}`);
      else this.sink.warn('include', at, msg, 'include');
    };
    if (pattern.length === 0) {
      this.sink.error('missing-argument', at, `include${kind}: expected a file name or glob pattern`, `include${kind}`);
      return;
    }
    if (this.stack.length >= this.maxDepth) {
      this.sink.error(
        'include',
        at,
        `include nesting deeper than ${this.maxDepth} files (does a file include itself?): not following '${pattern}'`,
        'include',
      );
      return;
    }
    const dir = posix.dirname(item.file);
    const res = glob(this.opts.fs, pattern, dir);
    const files: { path: string; text: string }[] = [];
    for (const p of res.paths) {
      const kindOf = this.opts.fs.stat(p);
      if (kindOf === 'dir') {
        complain(`included path '${p}' is a directory - skipping`);
        continue;
      }
      try {
        files.push({ path: p, text: this.opts.fs.readFile(p) });
      } catch (e) {
        const code = (e as { code?: string }).code;
        complain(`cannot read included file '${p}'${code ? ` (${code})` : ''} - skipping`);
      }
    }
    if (res.paths.length === 0) {
      if (res.magic) {
        if (kind === 'w' || kind === 'a') this.sink.error('include', at, `no files match '${pattern}'`, `include${kind}`);
        else this.sink.note('include', at, `no files match '${pattern}'`, 'include');
      } else {
        complain(`included file '${pattern}' not found (looked for ${posix.isAbsolute(pattern) ? pattern : posix.join(dir, pattern)})`);
      }
    }
    if (files.length === 0) return;
    this.globs.push({ files, next: 0, depth: this.stack.length });
    this.openNextGlobFile();
  }

  // ---- one line ----------------------------------------------------------------------

  private process(item: Item): void {
    let { text, cols } = item;

    if (this.collecting) {
      this.collectLine(item);
      return;
    }

    for (let guard = 0; ; guard++) {
      let recheck = false;
      if (text[0] === '@') {
        const rev = text[1] === '^';
        const ofs = rev ? 2 : 1;
        let end = ofs;
        while (end < text.length && !isBlank(text[end])) end++;
        if (end >= text.length) return; // nothing after the id: keepalived drops the line
        const id = text.slice(ofs, end);
        const matches = this.opts.configId !== undefined && id === this.opts.configId;
        if (matches === rev) return;
        let start = end;
        while (isBlank(text[start])) start++;
        text = text.slice(start);
        cols = sliceCols(cols, start);
      }

      if (text[0] === '$') {
        const def = this.checkDefinition(text, cols, item);
        if (def) return;
      }

      if (text[0] === '~' && (text.startsWith('~SEQ') || text.startsWith('~LST'))) {
        this.sink.error(
          'unsupported',
          at(item, text, cols, 0),
          `${text.slice(0, 4)} (keepalived's generated lines) is not supported by lvsd yet: write the lines out`,
          text.slice(0, 4),
        );
        return;
      }
      if (text[0] === '~') break;

      if (text.includes('$')) {
        const r = this.substitute(text, cols, item);
        if (r.endless) return;
        if (!r.replaced) break;
        const dec = decomment(r.text, r.cols);
        text = dec.text;
        cols = dec.cols;
        if (text.length === 0) return;
        if (text[0] === '@' || text.includes('$')) recheck = true;
      }
      if (!recheck) break;
      if (guard > 100) {
        this.sink.error('definition', at(item, text, cols, 0), 'definitions expand into each other endlessly - line dropped');
        return;
      }
    }

    const inc = text.startsWith('include') ? INCLUDE.exec(text) : null;
    if (inc) {
      let p = inc[0].length;
      while (isBlank(text[p])) p++;
      this.include(item, inc[1]!, text.slice(p), p < text.length ? colAt(cols, p) : colAt(cols, text.length - 1) + 1);
      return;
    }

    // Split off the first brace outside double quotes; the rest is read as the next line.
    const bracePos = findBrace(text);
    if (bracePos >= 0) {
      let cut: number;
      let keepEnd: number;
      if (bracePos === 0) {
        cut = 1;
        while (isBlank(text[cut])) cut++;
        keepEnd = 1;
      } else {
        cut = bracePos;
        keepEnd = bracePos;
      }
      if (cut < text.length) {
        let rEnd = text.length;
        while (rEnd > cut && isBlank(text[rEnd - 1])) rEnd--;
        this.pending[this.nPending++] = {
          text: text.slice(cut, rEnd),
          cols: sliceCols(cols, cut, rEnd),
          file: item.file,
          line: item.line,
          physical: false,
        };
      }
      text = text.slice(0, keepEnd);
      cols = sliceCols(cols, 0, keepEnd);
    }
    let end = text.length;
    while (end > 0 && isBlank(text[end - 1])) end--;
    if (end < text.length) {
      text = text.slice(0, end);
      cols = sliceCols(cols, 0, end);
    }
    if (text.length === 0) return;

    const tokens = this.tokenize(text, cols, item);
    if (tokens.length === 0) return;
    const out = this.out;
    out.file = item.file;
    out.line = item.line;
    out.col = colAt(cols, 0);
    out.text = text;
    out.cols = cols;
    this.onLine(out);
  }

  // ---- definitions -------------------------------------------------------------------

  /** `$NAME=value` (no space before `=`, as keepalived requires). Returns true when it was one. */
  private checkDefinition(text: string, cols: Cols, item: Item): boolean {
    if (!(isAlpha(text[1]) || text[1] === '_')) return false;
    let p = 2;
    while (p < text.length && text[p] !== '=') {
      if (!isAlnumU(text[p])) return false;
      p++;
    }
    if (text[p] !== '=') return false;
    const name = text.slice(1, p);
    p++;
    while (isBlank(text[p])) p++;
    let value = text.slice(p);
    let multiline = false;
    if (value.endsWith('\\')) {
      multiline = true;
      value = value.slice(0, -1).replace(/[ \t]+$/, '');
      value = value.length > 0 ? `${value}\n` : '';
    }
    const def: Definition = { name, value, multiline, maxParams: 0, at: at(item, text, cols, 0) };
    this.defs.set(name, def);
    if (multiline) this.collecting = def;
    return true;
  }

  private collectLine(item: Item): void {
    const def = this.collecting!;
    let text = item.text;
    if (text.endsWith('\\')) {
      text = text.slice(0, -1).replace(/[ \t]+$/, '');
      if (text.length > 0) def.value += `${text}\n`;
    } else {
      if (text.length > 0) def.value += text;
      this.endCollecting();
    }
  }

  private endCollecting(): void {
    const def = this.collecting!;
    this.collecting = undefined;
    if (def.value.length === 0) def.multiline = false;
    if (def.value.endsWith('\n')) def.value = def.value.slice(0, -1);
  }

  /** Expands `$NAME` and `${NAME}` as keepalived's replace_param() does. */
  private substitute(text: string, compactCols: Cols, item: Item): { text: string; cols: number[]; replaced: boolean; endless?: boolean } {
    // Expansion moves characters: per-character columns from here on (lines with `$` are few).
    let cols = expandCols(compactCols, text.length);
    let replaced = false;
    let pos = 0;
    let guard = 0;
    const unknown = new Set<string>();
    while ((pos = text.indexOf('$', pos)) >= 0 && pos + 1 < text.length) {
      const ref = matchReference(text, pos + 1);
      const def = ref ? this.defs.get(ref.name) : undefined;
      const usable =
        ref && def && (ref.atEnd || !def.multiline) && (ref.params.length === 0 || def.maxParams > 0);
      if (!ref || !def || !usable) {
        if (ref && !def && !unknown.has(ref.name)) {
          unknown.add(ref.name);
          this.sink.note(
            'definition',
            at(item, text, cols, pos),
            `'$${ref.braces ? `{${ref.name}}` : ref.name}' is not defined: kept as literal text, as keepalived does`,
          );
        }
        pos++;
        continue;
      }
      let value = def.fn ? def.fn(ref.params, item) : def.value;
      const refCol = cols[pos]!;
      if (def.multiline) {
        const nl = value.indexOf('\n');
        if (nl >= 0) {
          const rest = value.slice(nl + 1).split('\n');
          value = value.slice(0, nl);
          // The other lines of the definition come next, before anything else is read.
          for (let k = rest.length - 1; k >= 0; k--) {
            const l = rest[k]!;
            this.pending[this.nPending++] = { text: l, cols: Array.from({ length: l.length }, () => refCol), file: item.file, line: item.line, physical: false };
          }
        }
      }
      text = text.slice(0, pos) + value + text.slice(pos + 1 + ref.length);
      cols = [...cols.slice(0, pos), ...Array.from({ length: value.length }, () => refCol), ...cols.slice(pos + 1 + ref.length)];
      replaced = true;
      if (value.replace(/^[ \t]+/, '').startsWith('~')) break;
      // A definition that contains itself grows the line without end: stop at the first
      // sign of it and drop the line, rather than expanding until memory runs out.
      if (++guard > 1000 || text.length > 65536) {
        this.sink.error('definition', at(item, text, cols, pos), `definition '$${ref.name}' expands into itself - line dropped`);
        return { text, cols, replaced, endless: true };
      }
    }
    return { text, cols, replaced };
  }

  // ---- words -------------------------------------------------------------------------

  /** keepalived's alloc_strvec(): words split on white space, `"..."` is one word without its quotes. */
  private tokenize(text: string, cols: Cols, item: Item): Token[] {
    // Written by index and cut to length at the end: emptying the array first would give
    // its storage back and the next word would allocate it again.
    const tokens = this.out.tokens;
    let n = 0;
    let i = 0;
    while (i < text.length) {
      while (i < text.length && isWs(text[i])) i++;
      if (i >= text.length) break;
      if (text[i] === '"') {
        const close = text.indexOf('"', i + 1);
        if (close < 0) {
          this.sink.error('syntax', at(item, text, cols, i), `unterminated quoted string: expected a closing '"'`);
          break;
        }
        tokens[n++] = { text: text.slice(i + 1, close), quoted: true, file: item.file, line: item.line, col: colAt(cols, i) };
        i = close + 1;
      } else {
        let j = i;
        while (j < text.length && !isWs(text[j]) && text[j] !== '"') j++;
        tokens[n++] = { text: text.slice(i, j), quoted: false, file: item.file, line: item.line, col: colAt(cols, i) };
        i = j;
      }
    }
    // Cut only when shorter: a length of 0 would give the storage back (see above).
    if (n > 0 && tokens.length !== n) tokens.length = n;
    return n > 0 ? tokens : NO_TOKENS;
  }
}

/** Index of the first `{` or `}` outside double quotes, or -1. */
function findBrace(text: string): number {
  if (!text.includes('"')) {
    // Nearly every line: two native searches rather than a loop over its characters.
    const open = text.indexOf('{');
    const close = text.indexOf('}');
    return open < 0 ? close : close < 0 ? open : Math.min(open, close);
  }
  let inQuote = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') inQuote = !inQuote;
    else if (!inQuote && (c === '{' || c === '}')) return i;
    if (c === '"' && inQuote && text.indexOf('"', i + 1) < 0) break; // unterminated: no braces after
  }
  return -1;
}

const hasNonAscii = (s: string): boolean => NON_ASCII.test(s);
const NON_ASCII = /[^\x00-\x7f]/;
const DECOMMENT_SPECIAL = /["\\!#]/;
const INCLUDE = /^include([rmwba]?)[ \t\f\n\r\v]/;

/** Non-ASCII whitespace becomes a space; where each one was is remembered for the report. */
function replaceOddSpaces(raw: string): { text: string; found: Map<number, number> } {
  const found = new Map<number, number>(); // col -> code point
  let text = '';
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code > 0x7f && NON_ASCII_SPACES.has(code)) {
      found.set(i + 1, code);
      text += ' ';
    } else {
      text += raw[i];
    }
  }
  return { text, found };
}

/** Where text[index] is; past the end: the last character, and column 1 for an empty text. */
function at(item: { file: string; line: number }, text: string, cols: Cols, index: number): SourceLoc {
  const col = text.length === 0 ? 1 : colAt(cols, Math.min(index, text.length - 1));
  return { file: item.file, line: item.line, col };
}

/** Non-ASCII spaces written as \u00a0 so a message shows where they are. */
function showOddSpaces(s: string): string {
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    out += NON_ASCII_SPACES.has(code) ? `\\u${code.toString(16).padStart(4, '0')}` : ch;
  }
  return out;
}

function firstWordWith(raw: string, col: number): string {
  let s = col - 1;
  let e = col - 1;
  const stop = (c: string | undefined): boolean => c === undefined || c === ' ' || c === '\t' || c === '{' || c === '}';
  while (s > 0 && !stop(raw[s - 1])) s--;
  while (e < raw.length && !stop(raw[e])) e++;
  return raw.slice(s, e);
}

interface Reference {
  name: string;
  braces: boolean;
  /** Characters after the `$`. */
  length: number;
  params: number[];
  /** The reference ends the line (a multiline definition may only be used so). */
  atEnd: boolean;
}

/** keepalived's find_definition() syntax: `$NAME` ends at a blank, `,`, `)` or the line's end. */
function matchReference(text: string, i: number): Reference | undefined {
  const braces = text[i] === '{';
  const s = braces ? i + 1 : i;
  if (!(isAlpha(text[s]) || text[s] === '_')) return undefined;
  let p = s + 1;
  while (isAlnumU(text[p])) p++;
  const name = text.slice(s, p);
  if (braces) {
    let params: number[] = [];
    const m = /^((?: +\d+)*)\}/.exec(text.slice(p));
    if (!m) return undefined;
    if (m[1]) params = m[1].trim().split(/ +/).map(Number);
    const length = p + m[0].length - i;
    return { name, braces, length, params, atEnd: i + length === text.length };
  }
  const c = text[p];
  if (!(c === undefined || c === ' ' || c === '\t' || c === ',' || c === ')')) return undefined;
  return { name, braces, length: p - i, params: [], atEnd: p === text.length };
}

/**
 * keepalived's decomment(): drops leading blanks, the comment from the first `!` or `#`
 * outside double quotes, and trailing blanks; `\!` and `\#` outside quotes stand for the
 * character itself. Keeps the column map in step.
 */
export function decomment(
  text: string,
  cols: Cols,
): { text: string; cols: Cols; unterminatedQuoteCol?: number; commentCol?: number } {
  let start = 0;
  while (isBlank(text[start])) start++;
  // Without a backslash the result is one run of the input: a slice, not a copy per character.
  let quote = false;
  let quoteAt = -1;
  let stop = text.length;
  // Characters before the first quote, backslash or comment sign need no look (most lines have none).
  const special = text.search(DECOMMENT_SPECIAL);
  for (let i = special < 0 ? text.length : special; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      quote = !quote;
      if (quote) quoteAt = i;
    } else if (c === '\\') {
      return decommentEscaped(text, expandCols(cols, text.length), start);
    } else if (!quote && (c === '!' || c === '#')) {
      stop = i;
      break;
    }
  }
  let end = stop;
  while (end > start && isBlank(text[end - 1])) end--;
  const out: { text: string; cols: Cols; unterminatedQuoteCol?: number; commentCol?: number } = {
    text: text.slice(start, end),
    cols: sliceCols(cols, start, end),
  };
  if (quote) out.unterminatedQuoteCol = colAt(cols, quoteAt);
  if (stop < text.length) out.commentCol = colAt(cols, stop);
  return out;
}

/** decomment() of a line with a backslash (escapes and a trailing `\` move characters). */
function decommentEscaped(
  text: string,
  cols: number[],
  start: number,
): { text: string; cols: number[]; unterminatedQuoteCol?: number; commentCol?: number } {
  let out = '';
  const outCols: number[] = [];
  let quote = false;
  let quoteCol: number | undefined;
  let cont = false;
  let commentCol: number | undefined;
  for (let i = start; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      quote = !quote;
      if (quote) quoteCol = cols[i];
    } else if (c === '\\') {
      if (i + 1 < text.length) {
        const n = text[i + 1]!;
        if (!quote && (n === '#' || n === '!')) {
          out += n;
          outCols.push(cols[i + 1]!);
          i++;
          continue;
        }
        out += c + n;
        outCols.push(cols[i]!, cols[i + 1]!);
        i++;
        continue;
      }
      cont = true; // a trailing backslash (multiline definitions)
      break;
    } else if (!quote && (c === '!' || c === '#')) {
      commentCol = cols[i];
      break;
    }
    out += c;
    outCols.push(cols[i]!);
  }
  let end = out.length;
  while (end > 0 && isBlank(out[end - 1])) end--;
  let res = out.slice(0, end);
  const resCols = outCols.slice(0, end);
  if (cont) {
    res += '\\';
    resCols.push(cols[text.length - 1]!);
  }
  const out2: { text: string; cols: number[]; unterminatedQuoteCol?: number; commentCol?: number } = { text: res, cols: resCols };
  if (quote) out2.unterminatedQuoteCol = quoteCol;
  if (commentCol !== undefined) out2.commentCol = commentCol;
  return out2;
}

/**
 * keepalived's alloc_strvec_quoted_escaped(), used for script command lines: words split
 * on white space, single or double quotes group, backslash escapes (\n, \t, \x41, \101, \cX...).
 * Returns undefined (and the reason) on an unterminated quote.
 */
export function splitQuotedEscaped(src: string): { words: string[]; error?: string } {
  const words: string[] = [];
  let i = 0;
  while (i < src.length) {
    while (i < src.length && isWs(src[i])) i++;
    if (i >= src.length) break;
    let word = '';
    let quote: string | undefined;
    for (;;) {
      if (i >= src.length) {
        if (quote) return { words, error: `missing terminating ${quote}` };
        break;
      }
      const c = src[i]!;
      if (c === '\\') {
        i++;
        if (i >= src.length) return { words, error: 'missing escaped character at end' };
        const e = src[i]!;
        if (e === 'x' && /[0-9a-fA-F]/.test(src[i + 1] ?? '')) {
          i++;
          let v = 0;
          while (/[0-9a-fA-F]/.test(src[i] ?? '')) v = ((v << 4) | parseInt(src[i++]!, 16)) & 0xff;
          word += String.fromCharCode(v);
        } else if (e === 'c' && i + 1 < src.length) {
          word += String.fromCharCode(src.charCodeAt(i + 1) & 0x1f);
          i += 2;
        } else if (e >= '0' && e <= '7') {
          let v = 0;
          for (let k = 0; k < 3 && src[i]! >= '0' && src[i]! <= '7'; k++) v = (v << 3) + (src.charCodeAt(i++) - 48);
          word += String.fromCharCode(v & 0xff);
        } else {
          const map: Record<string, string> = { a: '\x07', b: '\b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
          word += map[e] ?? e;
          i++;
        }
        continue;
      }
      if (quote) {
        if (c === quote) quote = undefined;
        else word += c;
        i++;
        continue;
      }
      if (c === '"' || c === "'") {
        quote = c;
        i++;
        continue;
      }
      if (isWs(c)) break;
      word += c;
      i++;
    }
    words.push(word);
  }
  return { words };
}
