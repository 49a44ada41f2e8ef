// The lvsd logger: one line per event on stderr, as text or as JSON (--log-json).
// Text:  2024-05-01T10:00:00.000Z info  VI_1 entering MASTER state instance=VI_1
// JSON:  {"time":"2024-05-01T10:00:00.000Z","level":"info","msg":"VI_1 entering MASTER state","instance":"VI_1"}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface LogEvent {
  level: LogLevel;
  msg: string;
  [field: string]: unknown;
}

export interface Logger {
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line. */
  child(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  /** One JSON object per line (default: text). */
  json?: boolean;
  /** Also write debug lines (keepalived's -D, --log-detail). */
  detail?: boolean;
  /** Where lines go (default process.stderr). */
  write?: (line: string) => void;
  /** Clock, for tests. */
  now?: () => Date;
}

const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export function createLogger(opts: LoggerOptions = {}, base: Record<string, unknown> = {}): Logger {
  const write = opts.write ?? ((line: string) => void process.stderr.write(line));
  const now = opts.now ?? (() => new Date());
  const max = opts.detail ? ORDER.debug : ORDER.info;
  const log = (level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void => {
    if (ORDER[level] > max) return;
    const all = { ...base, ...fields };
    if (opts.json) {
      write(`${safeJson({ time: now().toISOString(), level, msg, ...all })}\n`);
      return;
    }
    const extra = Object.entries(all)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${formatValue(v)}`)
      .join(' ');
    write(`${now().toISOString()} ${level.padEnd(5)} ${msg.replace(/\n/g, '\\n')}${extra ? ` ${extra}` : ''}\n`);
  };
  return {
    log,
    error: (m, f) => log('error', m, f),
    warn: (m, f) => log('warn', m, f),
    info: (m, f) => log('info', m, f),
    debug: (m, f) => log('debug', m, f),
    child: (fields) => createLogger(opts, { ...base, ...fields }),
  };
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (v instanceof Error) return JSON.stringify(v.message);
  return safeJson(v);
}

function safeJson(v: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(v, (_k, val: unknown) => {
    if (typeof val === 'bigint') return val.toString();
    if (val instanceof Error) return { name: val.name, message: val.message, ...(val as object) };
    if (val && typeof val === 'object') {
      if (seen.has(val)) return '[circular]';
      seen.add(val);
    }
    return val;
  });
}

/** Normalises whatever a Director 'log' event carries into level + message + fields. */
export function logEvent(logger: Logger, e: unknown): void {
  if (!e || typeof e !== 'object') {
    logger.info(String(e));
    return;
  }
  const { level, msg, message, ...rest } = e as Record<string, unknown>;
  const lvl: LogLevel = level === 'error' || level === 'warn' || level === 'debug' ? level : level === 'warning' ? 'warn' : 'info';
  logger.log(lvl, String(msg ?? message ?? ''), rest);
}
