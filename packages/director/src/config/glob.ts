// glob(3) as keepalived calls it for `include` (GLOB_BRACE, sorted results, wildcards do
// not match a leading dot), over an injected filesystem.
import * as posix from 'node:path/posix';
import type { ConfigFs } from './fs.js';

/** True when the pattern has glob magic (`* ? [` or a brace list). */
export function hasMagic(pattern: string): boolean {
  return /(^|[^\\])[*?[]/.test(pattern) || expandBraces(pattern).length > 1;
}

/** `{a,b}c` -> [`ac`, `bc`], nested and repeated lists included; `\{` is literal. */
export function expandBraces(pattern: string): string[] {
  let depth = 0;
  let open = -1;
  const commas: number[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '{') {
      if (depth === 0) {
        open = i;
        commas.length = 0;
      }
      depth++;
    } else if (c === '}' && depth > 0) {
      depth--;
      if (depth === 0) {
        if (commas.length === 0) {
          // `{x}` is not a list in glibc either: keep the braces literally and go on.
          const rest = expandBraces(pattern.slice(i + 1));
          return rest.map((r) => pattern.slice(0, i + 1) + r);
        }
        const pre = pattern.slice(0, open);
        const post = pattern.slice(i + 1);
        const bounds = [open, ...commas, i];
        const out: string[] = [];
        for (let k = 0; k + 1 < bounds.length; k++) {
          const alt = pattern.slice(bounds[k]! + 1, bounds[k + 1]);
          for (const e of expandBraces(pre + alt + post)) out.push(e);
        }
        return out;
      }
    } else if (c === ',' && depth === 1) {
      commas.push(i);
    }
  }
  return [pattern];
}

/** fnmatch(3) of one path segment, without FNM_PERIOD surprises: `*` and `?` skip a leading dot. */
export function segmentToRegExp(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '\\' && i + 1 < seg.length) {
      re += escapeRe(seg[++i]!);
    } else if (c === '*') {
      re += '[^/]*';
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '[') {
      const end = findClassEnd(seg, i);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let body = seg.slice(i + 1, end);
      let neg = false;
      if (body.startsWith('!') || body.startsWith('^')) {
        neg = true;
        body = body.slice(1);
      }
      re += `[${neg ? '^' : ''}${body.replace(/\\/g, '\\\\').replace(/\]/g, '\\]')}]`;
      i = end;
    } else {
      re += escapeRe(c);
    }
  }
  const dotOk = seg.startsWith('.') || seg.startsWith('\\.');
  return new RegExp(`^${dotOk ? '' : '(?!\\.)'}${re}$`);
}

function findClassEnd(seg: string, start: number): number {
  let j = start + 1;
  if (seg[j] === '!' || seg[j] === '^') j++;
  if (seg[j] === ']') j++;
  for (; j < seg.length; j++) if (seg[j] === ']') return j;
  return -1;
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function unescapeGlob(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

export interface GlobResult {
  /** Matching paths, in glob(3) order. */
  paths: string[];
  /** Whether the pattern had wildcards (a literal path that is missing is a different problem). */
  magic: boolean;
}

/** Expands `pattern` (absolute, or relative to `cwd`) on `fs`. */
export function glob(fs: ConfigFs, pattern: string, cwd: string): GlobResult {
  const alternatives = expandBraces(pattern);
  const magic = alternatives.length > 1 || alternatives.some((a) => /(^|[^\\])[*?[]/.test(a));
  // A Set keeps the first occurrence of each path in order without a scan per path
  // (a conf.d/*.conf glob may match thousands of files).
  const paths = new Set<string>();
  for (const alt of alternatives) {
    const abs = posix.isAbsolute(alt) ? alt : posix.join(cwd, alt);
    const found = expandOne(fs, abs);
    found.sort();
    for (const p of found) paths.add(p);
  }
  return { paths: [...paths], magic };
}

function expandOne(fs: ConfigFs, abs: string): string[] {
  const segs = abs.split('/').filter((s) => s.length > 0);
  let current = ['/'];
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    const next: string[] = [];
    if (!/(^|[^\\])[*?[]/.test(seg)) {
      for (const dir of current) next.push(posix.join(dir, unescapeGlob(seg)));
    } else {
      const re = segmentToRegExp(seg);
      for (const dir of current) {
        const names = fs.readdir(dir);
        if (!names) continue;
        for (const n of names) if (re.test(n)) next.push(posix.join(dir, n));
      }
    }
    current = next;
    if (current.length === 0) return [];
  }
  return current.filter((p) => fs.stat(p) !== undefined);
}
