// Diagnostics of the keepalived.conf loader: every message names a file, a line and a
// column. A config with an error yields no model (nothing is applied from it).
// The error class alone: reading a configuration (lvsd -t) needs no sockets, so the addon is not loaded.
import { LvsdError } from '@lvsd/native/errors';

export type Severity = 'error' | 'warning' | 'note';

/** Where something is in the configuration sources (1-based line and column). */
export interface SourceLoc {
  file: string;
  line: number;
  col: number;
}

export interface Diagnostic extends SourceLoc {
  severity: Severity;
  /** Stable identifier of the kind of problem, e.g. "unknown-keyword", "nbsp". */
  code: DiagnosticCode;
  message: string;
  /** The keyword the message is about, when there is one. */
  keyword?: string;
}

export type DiagnosticCode =
  | 'syntax' // braces, quotes
  | 'non-ascii-space' // U+00A0 and friends
  | 'include' // include could not be read / matched nothing
  | 'definition' // $NAME problems
  | 'unknown-keyword'
  | 'unsupported' // a keepalived keyword lvsd does not implement (yet)
  | 'ignored' // accepted and deliberately ignored (e.g. e-mail alerts)
  | 'deprecated'
  | 'missing-argument'
  | 'invalid-value'
  | 'duplicate'
  | 'reference' // track_script naming an undefined vrrp_script...
  | 'semantic' // a keepalived rule (e.g. hysteresis >= quorum) was applied
  | 'compat'; // keepalived would behave differently on this input

/** `file:line:col: severity: message` — the format compilers use, so editors can jump to it. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.severity}: ${d.message}`;
}

export function hasErrors(diags: readonly Diagnostic[]): boolean {
  return diags.some((d) => d.severity === 'error');
}

/** Turns warnings into errors (the CLI's --strict). Notes stay notes. */
export function applyStrict(diags: Diagnostic[]): Diagnostic[] {
  return diags.map((d) => (d.severity === 'warning' ? { ...d, severity: 'error' as const } : d));
}

/** Stable order: by file (first appearance), then line, then column. */
export function sortDiagnostics(diags: Diagnostic[]): Diagnostic[] {
  const fileOrder = new Map<string, number>();
  for (const d of diags) if (!fileOrder.has(d.file)) fileOrder.set(d.file, fileOrder.size);
  return diags
    .map((d, i) => ({ d, i }))
    .sort(
      (a, b) =>
        fileOrder.get(a.d.file)! - fileOrder.get(b.d.file)! || a.d.line - b.d.line || a.d.col - b.d.col || a.i - b.i,
    )
    .map((x) => x.d);
}

/** Thrown by `loadConfigOrThrow` / `parseConfigOrThrow` when a configuration has errors. */
export class ConfigError extends LvsdError {
  readonly diagnostics: Diagnostic[];

  constructor(diagnostics: Diagnostic[], opts: { cause?: unknown } = {}) {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    const first = errors[0];
    const head = first ? formatDiagnostic(first) : 'invalid configuration';
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length > 2 ? 's' : ''})` : '';
    super('LVSD_ERR_CONFIG', `${head}${more}`, { cause: opts.cause, object: { errors: errors.length } });
    this.diagnostics = diagnostics;
  }
}

/** Collects diagnostics while a config is read and built. */
export class DiagnosticSink {
  readonly list: Diagnostic[] = [];

  add(severity: Severity, code: DiagnosticCode, at: SourceLoc, message: string, keyword?: string): void {
    const d: Diagnostic = { file: at.file, line: at.line, col: at.col, severity, code, message };
    if (keyword !== undefined) d.keyword = keyword;
    this.list.push(d);
  }
  error(code: DiagnosticCode, at: SourceLoc, message: string, keyword?: string): void {
    this.add('error', code, at, message, keyword);
  }
  warn(code: DiagnosticCode, at: SourceLoc, message: string, keyword?: string): void {
    this.add('warning', code, at, message, keyword);
  }
  note(code: DiagnosticCode, at: SourceLoc, message: string, keyword?: string): void {
    this.add('note', code, at, message, keyword);
  }
}
