// keepalived.conf support: parser, typed model, loader.
export * from './model.js';
export {
  ConfigError,
  formatDiagnostic,
  hasErrors,
  applyStrict,
  sortDiagnostics,
  type Diagnostic,
  type DiagnosticCode,
  type Severity,
  type SourceLoc,
} from './diagnostics.js';
export { memoryFs, nodeFs, type ConfigFs, type FileKind } from './fs.js';
export { parseConfigAst, type ConfigAst, type ConfigNode, type ParseOptions } from './parser.js';
export { readConfigLines, splitQuotedEscaped, describeChar, NON_ASCII_SPACES, type Token, type LogicalLine, type ReadOptions } from './reader.js';
export { expandBraces, glob } from './glob.js';
export { keywordTables, defaultGlobal, NOT_YET, type BuildOptions, type KeywordStatus } from './build.js';
export { parseConfig, loadConfig, parseConfigOrThrow, loadConfigOrThrow, type LoadOptions, type LoadResult } from './load.js';
export { ConfigLoader, type LoadMode } from './incremental.js';
