// Loading a keepalived configuration: text or file in, either a model or errors out.
import { Builder, type BuildOptions } from './build.js';
import { ConfigError, DiagnosticSink, applyStrict, hasErrors, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import { memoryFs, nodeFs, type ConfigFs } from './fs.js';
import type { KeepalivedConfig } from './model.js';
import { readTopLevel, type ConfigNode, type ParseOptions } from './parser.js';

export interface LoadOptions extends BuildOptions, ParseOptions {
  /** Warnings become errors (the CLI's --strict). */
  strict?: boolean;
  /** Sees each top-level node of the main file as it is read (ConfigLoader notes where blocks are). */
  onTopLevel?: (node: ConfigNode) => void;
}

export type LoadResult =
  | { ok: true; config: KeepalivedConfig; diagnostics: Diagnostic[] }
  | { ok: false; diagnostics: Diagnostic[] };

/**
 * Parses configuration text. Pure: `include`d files come from `opts.fs` (none by default).
 * With any error the result has no model: nothing may be applied from it.
 */
export function parseConfig(text: string, opts: LoadOptions & { file?: string } = {}): LoadResult {
  const file = opts.file ?? 'keepalived.conf';
  const sink = new DiagnosticSink();
  // Each top-level block is built into the model as soon as it has been read, then dropped.
  // The builder's diagnostics follow the reader's, as when the whole tree came first.
  const buildSink = new DiagnosticSink();
  const builder = new Builder(buildSink, opts);
  const onTop = opts.onTopLevel;
  const files = readTopLevel(text, file, opts, sink, (node) => {
    if (onTop && node.file === file) onTop(node);
    builder.add(node);
  });
  const config = builder.end(files);
  for (const d of buildSink.list) sink.list.push(d);
  let diagnostics = sortDiagnostics(sink.list);
  if (opts.strict) diagnostics = applyStrict(diagnostics);
  if (hasErrors(diagnostics)) return { ok: false, diagnostics };
  return { ok: true, config, diagnostics };
}

/** Reads and parses a configuration file (default filesystem: the real one). */
export function loadConfig(path: string, opts: LoadOptions = {}): LoadResult {
  const fs: ConfigFs = opts.fs ?? nodeFs;
  let text: string;
  try {
    text = fs.readFile(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    return {
      ok: false,
      diagnostics: [{ file: path, line: 1, col: 1, severity: 'error', code: 'include', message: `cannot read configuration file: ${why}` }],
    };
  }
  return parseConfig(text, { ...opts, fs, file: path });
}

/** parseConfig, throwing a ConfigError (code LVSD_ERR_CONFIG, with the diagnostics) on errors. */
export function parseConfigOrThrow(text: string, opts: LoadOptions & { file?: string } = {}): KeepalivedConfig {
  const r = parseConfig(text, opts);
  if (!r.ok) throw new ConfigError(r.diagnostics);
  return r.config;
}

/** loadConfig, throwing a ConfigError (code LVSD_ERR_CONFIG, with the diagnostics) on errors. */
export function loadConfigOrThrow(path: string, opts: LoadOptions = {}): KeepalivedConfig {
  const r = loadConfig(path, opts);
  if (!r.ok) throw new ConfigError(r.diagnostics);
  return r.config;
}

export { memoryFs, nodeFs };
