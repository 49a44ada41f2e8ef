// Reloading a big configuration without reading all of it again. keepalived re-reads
// the whole file on SIGHUP; for 5,000 virtual servers that is most of a reload. When
// the change between two versions of a file lies inside `virtual_server` blocks, only
// those blocks are read and built again, and the other virtual servers are kept as the
// same objects (which the Director then recognises as unchanged without comparing).
// Whenever that is not certainly equivalent to reading the whole file (includes, $
// definitions, @ conditionals, non-ASCII text, groups, FILE_CHECK, a duplicate, any
// error), the whole file is read as before.
import { isAscii } from 'node:buffer';
import { Builder, virtualServerKey } from './build.js';
import { DiagnosticSink, applyStrict, hasErrors, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import { nodeFs, type ConfigFs, type OpenFile } from './fs.js';
import { loadConfig, parseConfig, type LoadOptions, type LoadResult } from './load.js';
import type { KeepalivedConfig, VirtualServer } from './model.js';
import { readTopLevel, type ConfigNode } from './parser.js';

/** A top-level node's place in the file: bytes [start, end), lines [line, endLine]. */
interface Span {
  keyword: string;
  start: number;
  end: number;
  line: number;
  endLine: number;
}

interface State {
  /** The file as last read, in memory of the loader's own with room to grow after it (see patch()). */
  buf: Buffer;
  result: Extract<LoadResult, { ok: true }>;
  spans: Span[];
  /** How many virtual servers each key names (a duplicate needs the whole read to be reported). */
  keys: Map<string, number>;
}

/**
 * The new file as a change of the old one: the first `p` and last `q` bytes are the
 * same, `mid` is what lies between in the new file, `length` its whole length.
 */
interface Edit {
  p: number;
  q: number;
  mid: Buffer;
  length: number;
  /** The whole new file, when it was read whole (an injected ConfigFs without `open`). */
  whole?: Buffer;
}

export type LoadMode = 'full' | 'incremental' | 'unchanged';

const CHUNK = 64 * 1024;
/** Room left after the file's bytes, so that a file growing a little is patched in place. */
const HEADROOM = 64 * 1024;

/** Loads one configuration file again and again (the CLI's SIGHUP), incrementally when it can. */
export class ConfigLoader {
  private state: State | undefined;
  private chunk: Buffer | undefined;
  /** How the last load() read the file. */
  lastMode: LoadMode = 'full';

  constructor(
    readonly path: string,
    private readonly opts: LoadOptions = {},
  ) {}

  load(): LoadResult {
    const fs: ConfigFs = this.opts.fs ?? nodeFs;
    const prev = this.state;
    let edit: Edit | undefined;
    let whole: Buffer | undefined;
    try {
      // A reload compares the file with the last one a chunk at a time through one small
      // buffer: 2.9 MB read into fresh memory cost ~175 ms of page faults in the lab,
      // more than the rest of a one-block reload.
      if (prev) {
        // An injected ConfigFs without `open`: the whole file, compared the same way.
        const f = fs.open ? fs.open(this.path) : bufferFile((whole = readWhole(fs, this.path)));
        edit = this.readEdit(f, prev.buf);
        if (edit && whole) edit.whole = whole;
      }
    } catch {
      edit = undefined; // the whole read below says why
    }
    const r = prev && edit && this.incremental(prev, edit);
    if (r) return r;
    try {
      whole ??= readWhole(fs, this.path);
    } catch {
      this.state = undefined;
      this.lastMode = 'full';
      return loadConfig(this.path, this.opts); // says why it cannot be read
    }
    return this.full(isAscii(whole) ? whole.toString('latin1') : whole.toString('utf8'), whole);
  }

  /** The file against `old`, read in chunks; undefined if it changed while being read. Closes `f`. */
  private readEdit(f: OpenFile, old: Buffer): Edit | undefined {
    try {
      const n = f.size;
      const chunk = (this.chunk ??= Buffer.allocUnsafeSlow(CHUNK));
      const lim = Math.min(n, old.length);
      let p = 0;
      while (p < lim) {
        const len = Math.min(CHUNK, lim - p);
        if (readAt(f, chunk, len, p) !== len) return undefined;
        if (chunk.compare(old, p, p + len, 0, len) === 0) {
          p += len;
          continue;
        }
        p += difference(chunk, old, p, len, false);
        break;
      }
      let q = 0;
      while (q < lim - p) {
        const len = Math.min(CHUNK, lim - p - q);
        if (readAt(f, chunk, len, n - q - len) !== len) return undefined;
        if (chunk.compare(old, old.length - q - len, old.length - q, 0, len) === 0) {
          q += len;
          continue;
        }
        q += len - 1 - difference(chunk, old, old.length - q - len, len, true);
        break;
      }
      const mid = Buffer.allocUnsafe(n - p - q);
      if (readAt(f, mid, mid.length, p) !== mid.length) return undefined;
      if (readAt(f, chunk, 1, n) !== 0) return undefined; // it grew meanwhile
      if (f.modified?.()) return undefined; // rewritten meanwhile
      return { p, q, mid, length: n };
    } finally {
      f.close();
    }
  }

  private full(text: string, buf: Buffer): LoadResult {
    this.lastMode = 'full';
    this.state = undefined;
    const spans: Span[] = [];
    const fs = this.opts.fs ?? nodeFs;
    const r = parseConfig(text, { ...this.opts, fs, file: this.path, onTopLevel: (n) => spans.push(spanOf(n)) });
    // Each virtual_server block must be one model entry (the builder drops one without
    // real servers, with a warning): the incremental path maps blocks to entries by count.
    if (r.ok && eligibleFile(buf, text, r.config) && spans.filter((s) => s.keyword === 'virtual_server').length === r.config.virtualServers.length) {
      locate(buf, spans);
      this.state = { buf, result: r, spans, keys: countKeys(r.config.virtualServers) };
    }
    return r;
  }

  private incremental(prev: State, e: Edit): LoadResult | undefined {
    const old = prev.buf;
    if (e.p === old.length && e.length === old.length) {
      this.lastMode = 'unchanged';
      return prev.result;
    }
    if (!isAscii(e.mid)) return undefined; // the rest is the old file's, which was ASCII
    const byteDelta = e.length - old.length;
    // The old top-level nodes the change touches, widened to whole lines.
    let from = lineStart(old, e.p);
    let to = lineEnd(old, old.length - e.q);
    // The new file may join the changed line to the tail's first line (a newline
    // deleted, a `#` typed at its start): then that line belongs to the change too.
    const beforeTail = e.mid.length ? e.mid[e.mid.length - 1] : e.p > 0 ? old[e.p - 1] : 10;
    if (beforeTail !== 10 && to === old.length - e.q && to < old.length) to = lineEnd(old, to + 1);
    const spans = prev.spans;
    // Spans are in file order: the first one ending after `from`, by bisection.
    let i0 = 0;
    for (let hi = spans.length; i0 < hi; ) {
      const m = (i0 + hi) >>> 1;
      if (spans[m]!.end > from) hi = m;
      else i0 = m + 1;
    }
    let i1 = i0;
    while (i1 < spans.length && spans[i1]!.start < to) i1++;
    if (i1 > i0) {
      from = Math.min(from, spans[i0]!.start);
      to = Math.max(to, spans[i1 - 1]!.end);
    }
    for (let i = i0; i < i1; i++) if (spans[i]!.keyword !== 'virtual_server') return undefined;
    const firstLine = lineNumberAt(old, from, prev.spans, i0);
    const oldLines = countLines(old, from, to);
    // The new file's bytes where the old ones were [from, to): the unchanged edges around the new middle.
    const region = Buffer.concat([old.subarray(from, e.p), e.mid, old.subarray(old.length - e.q, to)]);
    const text = region.toString('latin1');
    if (/^[ \t]*(include\b|@|\$)/m.test(text)) return undefined;

    // Read and build just that part, with the rest of the file's settings.
    const sink = new DiagnosticSink();
    const buildSink = new DiagnosticSink();
    const builder = new Builder(buildSink, this.opts);
    const fresh: Span[] = [];
    let foreign = false;
    readTopLevel(text, this.path, { ...this.opts, firstLine }, sink, (n) => {
      if (n.keyword !== 'virtual_server') foreign = true;
      else builder.add(n);
      fresh.push(spanOf(n));
    });
    if (foreign) return undefined;
    const part = builder.end([this.path]);
    for (const d of buildSink.list) sink.list.push(d);
    if (hasErrors(sink.list)) return undefined; // the whole read reports them in full
    const added = part.virtualServers;
    if (added.length !== fresh.length) return undefined;
    if (added.some((vs) => vs.kind === 'group' || vs.realServers.some((rs) => rs.checkers.some((c) => c.type === 'FILE_CHECK')))) return undefined;

    let vsBefore = 0;
    for (let i = 0; i < i0; i++) if (spans[i]!.keyword === 'virtual_server') vsBefore++;
    const removed = i1 - i0;
    // Key counts change only for the blocks read again: a small delta, applied to the
    // kept map once nothing can fail any more.
    const delta = new Map<string, number>();
    const count = (k: string) => (prev.keys.get(k) ?? 0) + (delta.get(k) ?? 0);
    const cfg = prev.result.config;
    for (let i = vsBefore; i < vsBefore + removed; i++) {
      const k = virtualServerKey(cfg.virtualServers[i]!);
      delta.set(k, (delta.get(k) ?? 0) - 1);
    }
    for (const vs of added) {
      const k = virtualServerKey(vs);
      if (count(k) + 1 > 1) return undefined;
      delta.set(k, (delta.get(k) ?? 0) + 1);
    }

    const config: KeepalivedConfig = {
      ...cfg,
      virtualServers: [...cfg.virtualServers.slice(0, vsBefore), ...added, ...cfg.virtualServers.slice(vsBefore + removed)],
    };
    const newLines = countLines(region, 0, region.length);
    const lineDelta = newLines - oldLines;
    const lastOldLine = firstLine + oldLines - 1;
    let diagnostics: Diagnostic[] = [];
    for (const d of prev.result.diagnostics) {
      if (d.file !== this.path || d.line < firstLine) diagnostics.push(d);
      else if (d.line > lastOldLine) diagnostics.push({ ...d, line: d.line + lineDelta });
    }
    diagnostics.push(...sink.list);
    diagnostics = sortDiagnostics(diagnostics);
    if (this.opts.strict) diagnostics = applyStrict(diagnostics);
    if (hasErrors(diagnostics)) return undefined;

    locate(region, fresh, 0, firstLine);
    for (const s of fresh) {
      s.start += from;
      s.end += from;
    }
    // The old state is replaced now: its bytes, spans and key counts are updated in place.
    const buf = e.whole ?? patch(old, e);
    for (let i = i1; i < spans.length; i++) {
      const s = spans[i]!;
      s.start += byteDelta;
      s.end += byteDelta;
      s.line += lineDelta;
      s.endLine += lineDelta;
    }
    spans.splice(i0, i1 - i0, ...fresh);
    const keys = prev.keys;
    for (const [k, d] of delta) {
      const n = (keys.get(k) ?? 0) + d;
      if (n > 0) keys.set(k, n);
      else keys.delete(k);
    }
    const result = { ok: true as const, config, diagnostics };
    this.state = { buf, result, spans, keys };
    this.lastMode = 'incremental';
    return result;
  }
}

/** The whole file as bytes in memory of its own, with room to grow after them (see patch()). */
function readWhole(fs: ConfigFs, path: string): Buffer {
  if (fs.readBytes === nodeFs.readBytes) return nodeFs.readBytes!(path, HEADROOM);
  // Anything else may hand back a slice of Buffer's shared pool, which patch() must never write into.
  const b = fs.readBytes ? fs.readBytes(path) : Buffer.from(fs.readFile(path), 'utf8');
  const out = Buffer.allocUnsafeSlow(b.length + HEADROOM);
  b.copy(out);
  return out.subarray(0, b.length);
}

/** A file already in memory, read like one on disk. */
function bufferFile(whole: Buffer): OpenFile {
  return {
    size: whole.length,
    read: (into, offset, length, position) => whole.copy(into, offset, position, Math.min(whole.length, position + length)),
    close: () => {},
  };
}

/**
 * Index of the first (or, with `last`, the last) byte where `a[0, len)` and
 * `b[at, at + len)` differ (they do), by bisection with native compares.
 */
function difference(a: Buffer, b: Buffer, at: number, len: number, last: boolean): number {
  let lo = 0;
  let hi = len; // the difference sought lies in [lo, hi)
  while (hi - lo > 1) {
    const m = (lo + hi) >>> 1;
    const [from, to] = last ? [m, hi] : [lo, m];
    if ((a.compare(b, at + from, at + to, from, to) !== 0) === last) lo = m;
    else hi = m;
  }
  return lo;
}

function readAt(f: OpenFile, into: Buffer, length: number, position: number): number {
  let n = 0;
  while (n < length) {
    const r = f.read(into, n, length - n, position + n);
    if (r === 0) break;
    n += r;
  }
  return n;
}

/** `old` with the edit applied, in its own memory when the new file fits there (the spare room after it). */
function patch(old: Buffer, e: Edit): Buffer {
  const room = old.buffer.byteLength - old.byteOffset;
  const tail = old.subarray(old.length - e.q);
  if (room >= e.length && old.buffer instanceof ArrayBuffer) {
    const all = Buffer.from(old.buffer, old.byteOffset, room);
    all.copyWithin(e.p + e.mid.length, old.length - e.q, old.length); // in place (Buffer.copy of an overlap goes through a temporary copy)
    e.mid.copy(all, e.p);
    return all.subarray(0, e.length);
  }
  const out = Buffer.allocUnsafeSlow(e.length + HEADROOM);
  old.copy(out, 0, 0, e.p);
  e.mid.copy(out, e.p);
  tail.copy(out, e.p + e.mid.length);
  return out.subarray(0, e.length);
}

function spanOf(n: ConfigNode): Span {
  return { keyword: n.keyword, start: -1, end: -1, line: n.line, endLine: n.close?.line ?? n.line };
}

/** Byte offsets of each span's first line and of the end of its last line (after the newline). */
function locate(buf: Buffer, spans: Span[], base = 0, baseLine = 1): void {
  let pos = base;
  let line = baseLine;
  for (const s of spans) {
    while (line < s.line) {
      pos = buf.indexOf(10, pos) + 1;
      line++;
    }
    s.start = pos;
    let end = pos;
    let l = line;
    while (l <= s.endLine) {
      const nl = buf.indexOf(10, end);
      end = nl < 0 ? buf.length : nl + 1;
      l++;
    }
    s.end = end;
  }
}

/** The line number at byte `at` (a line start), counted from the nearest known span. */
function lineNumberAt(buf: Buffer, at: number, spans: Span[], i0: number): number {
  const before = spans[i0 - 1];
  let line = before ? before.endLine + 1 : 1;
  let pos = before ? before.end : 0;
  while (pos < at) {
    const nl = buf.indexOf(10, pos);
    if (nl < 0 || nl >= at) break;
    pos = nl + 1;
    line++;
  }
  return line;
}

function countLines(buf: Buffer, from: number, to: number): number {
  let n = 0;
  for (let pos = buf.indexOf(10, from); pos >= 0 && pos < to; pos = buf.indexOf(10, pos + 1)) n++;
  return n;
}

const lineStart = (buf: Buffer, at: number): number => (at <= 0 ? 0 : buf.lastIndexOf(10, at - 1) + 1);
function lineEnd(buf: Buffer, at: number): number {
  if (at > 0 && buf[at - 1] === 10) return at;
  const nl = buf.indexOf(10, at);
  return nl < 0 ? buf.length : nl + 1;
}

/** A file the incremental path may handle: one file, plain ASCII, no definitions or conditionals. */
function eligibleFile(buf: Buffer, text: string, config: KeepalivedConfig): boolean {
  return config.files.length === 1 && isAscii(buf) && !/^[ \t]*(include\b|@|\$)/m.test(text);
}


function countKeys(list: readonly VirtualServer[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const vs of list) m.set(virtualServerKey(vs), (m.get(virtualServerKey(vs)) ?? 0) + 1);
  return m;
}
