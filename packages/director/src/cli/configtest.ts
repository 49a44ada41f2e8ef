// `lvsd -t`: load the configuration, print what is wrong (file:line:col), exit 0 or 5.
import { hostname } from 'node:os';
import { formatDiagnostic, type Diagnostic } from '../config/diagnostics.js';
import { loadConfig, type LoadOptions, type LoadResult } from '../config/load.js';
import type { CliOptions } from './args.js';

/** Exit codes, keepalived's where it has one. */
export const EXIT = {
  OK: 0,
  /** Runtime failure (keepalived: KEEPALIVED_EXIT_FATAL). */
  FATAL: 1,
  /** Bad command line (keepalived: KEEPALIVED_EXIT_CONFIG, "invalid argument"). */
  USAGE: 2,
  /** The configuration file cannot be read (keepalived -t: KEEPALIVED_CHK_EXIT_CONFIG). */
  NO_CONFIG: 4,
  /** The configuration has errors (keepalived -t: KEEPALIVED_CHK_EXIT_CONFIG_TEST). */
  CONFIG_ERRORS: 5,
} as const;

/** Default config id: the node name up to its first dot, as keepalived. */
export function defaultConfigId(): string {
  const h = hostname();
  return h.split('.')[0] || h;
}

export function loadForCli(opts: CliOptions): LoadResult {
  return loadConfig(opts.useFile, cliLoadOptions(opts));
}

export function cliLoadOptions(opts: CliOptions): LoadOptions {
  return { configId: opts.configId ?? defaultConfigId(), hostname: hostname(), strict: opts.strict, cwd: process.cwd() };
}

/** Same-kind diagnostics shown per file before the rest are summed up (all of them with -D). */
const SHOW_PER_KIND = 10;

/** Lines for a list of diagnostics: text (file:line:col: severity: message) or JSON. */
export function renderDiagnostics(diags: readonly Diagnostic[], opts: { json: boolean; detail: boolean }): string[] {
  const out: string[] = [];
  const counts = new Map<string, number>();
  const hidden = new Map<string, { n: number; first: Diagnostic; lines: number[] }>();
  for (const d of diags) {
    const key = `${d.file}\0${d.code}\0${d.severity}`;
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    if (!opts.detail && d.code === 'non-ascii-space' && n > SHOW_PER_KIND) {
      const h = hidden.get(key) ?? { n: 0, first: d, lines: [] };
      h.n++;
      h.lines.push(d.line);
      hidden.set(key, h);
      continue;
    }
    out.push(opts.json ? JSON.stringify(d) : formatDiagnostic(d));
  }
  for (const h of hidden.values()) {
    const msg = `${h.n} more line${h.n > 1 ? 's' : ''} of this file have non-ASCII spaces (lines ${summarizeLines(h.lines)}): they are read as spaces; use -D to list each`;
    const d: Diagnostic = { ...h.first, message: msg };
    out.push(opts.json ? JSON.stringify(d) : formatDiagnostic(d));
  }
  return out;
}

function summarizeLines(lines: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < lines.length; ) {
    let j = i;
    while (j + 1 < lines.length && lines[j + 1] === lines[j]! + 1) j++;
    parts.push(i === j ? String(lines[i]) : `${lines[i]}-${lines[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

export function summary(r: LoadResult, file: string): string {
  const errors = r.diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = r.diagnostics.filter((d) => d.severity === 'warning').length;
  const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
  if (!r.ok) return `lvsd: ${file}: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}: configuration NOT valid, nothing would be applied`;
  return `lvsd: ${file}: configuration OK${warnings ? ` (${plural(warnings, 'warning')})` : ''}`;
}

/** Runs the config test; returns the exit code. */
export function runConfigTest(
  opts: CliOptions,
  io: { out: (s: string) => void; err: (s: string) => void } = {
    out: (s) => void process.stdout.write(s),
    err: (s) => void process.stderr.write(s),
  },
): number {
  const r = loadForCli(opts);
  for (const line of renderDiagnostics(r.diagnostics, { json: opts.logJson, detail: opts.logDetail })) io.err(`${line}\n`);
  const unreadable = !r.ok && r.diagnostics.length === 1 && r.diagnostics[0]!.message.startsWith('cannot read configuration file');
  io.err(`${opts.logJson ? JSON.stringify({ level: r.ok ? 'info' : 'error', msg: summary(r, opts.useFile) }) : summary(r, opts.useFile)}\n`);
  if (r.ok && opts.dumpConf) io.out(`${JSON.stringify(r.config, null, 2)}\n`);
  if (r.ok) return EXIT.OK;
  return unreadable ? EXIT.NO_CONFIG : EXIT.CONFIG_ERRORS;
}
