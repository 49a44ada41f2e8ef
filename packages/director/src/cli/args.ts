// lvsd's command line, keepalived's flags (node:util parseArgs).
import { parseArgs } from 'node:util';

export const DEFAULT_CONFIG_FILE = '/etc/keepalived/keepalived.conf';

export interface CliOptions {
  useFile: string;
  vrrp: boolean;
  check: boolean;
  configTest: boolean;
  dumpConf: boolean;
  dontFork: boolean;
  logConsole: boolean;
  logDetail: boolean;
  logJson: boolean;
  pid?: string;
  configId?: string;
  dontReleaseIpvs: boolean;
  dontReleaseVrrp: boolean;
  strict: boolean;
  /** Serve Prometheus metrics here (lvsd extension; keepalived has none). */
  metrics?: { host: string; port: number };
  version: boolean;
  help: boolean;
}

export class UsageError extends Error {}

const OPTIONS = {
  'use-file': { type: 'string', short: 'f' },
  vrrp: { type: 'boolean', short: 'P' },
  check: { type: 'boolean', short: 'C' },
  'config-test': { type: 'boolean', short: 't' },
  'dump-conf': { type: 'boolean', short: 'd' },
  'dont-fork': { type: 'boolean', short: 'n' },
  'log-console': { type: 'boolean', short: 'l' },
  'log-detail': { type: 'boolean', short: 'D' },
  'log-json': { type: 'boolean' },
  pid: { type: 'string', short: 'p' },
  'config-id': { type: 'string', short: 'i' },
  'dont-release-ipvs': { type: 'boolean', short: 'I' },
  'dont-release-vrrp': { type: 'boolean', short: 'V' },
  strict: { type: 'boolean' },
  metrics: { type: 'string' },
  version: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function parseCliArgs(argv: string[]): CliOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: false, strict: true }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const s = (k: string): string | undefined => values[k] as string | undefined;
  const b = (k: string): boolean => values[k] === true;
  const opts: CliOptions = {
    useFile: s('use-file') ?? DEFAULT_CONFIG_FILE,
    vrrp: b('vrrp'),
    check: b('check'),
    configTest: b('config-test'),
    dumpConf: b('dump-conf'),
    dontFork: b('dont-fork'),
    logConsole: b('log-console'),
    logDetail: b('log-detail'),
    logJson: b('log-json'),
    dontReleaseIpvs: b('dont-release-ipvs'),
    dontReleaseVrrp: b('dont-release-vrrp'),
    strict: b('strict'),
    version: b('version'),
    help: b('help'),
  };
  const pid = s('pid');
  if (pid !== undefined) opts.pid = pid;
  const id = s('config-id');
  if (id !== undefined) opts.configId = id;
  const m = s('metrics');
  if (m !== undefined) opts.metrics = parseListen(m);
  if (opts.useFile === '') throw new UsageError('option -f, --use-file needs a file name');
  return opts;
}

/** `PORT`, `HOST:PORT` or `[V6]:PORT`; the host defaults to loopback. */
export function parseListen(v: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]:|([^:]+):)?(\d+)$/.exec(v);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new UsageError(`option --metrics: expected PORT or HOST:PORT, got '${v}'`);
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port };
}

export const USAGE = `Usage: lvsd [OPTION...]
Runs an LVS director (VRRP, IPVS, health checks) from a keepalived configuration.

  -f, --use-file=FILE          Use the specified configuration file
                               (default ${DEFAULT_CONFIG_FILE})
  -P, --vrrp                   Only run the VRRP part
  -C, --check                  Only run the health checkers and IPVS
  -t, --config-test            Check the configuration and exit: 0 if it loads
                               (warnings allowed), 5 if it has errors
  -d, --dump-conf              With -t: print the configuration model (JSON)
  -n, --dont-fork              Accepted: lvsd always stays in the foreground
  -l, --log-console            Accepted: lvsd always logs to stderr
  -D, --log-detail             Detailed log messages (debug level; every diagnostic)
      --log-json               One JSON object per log line
  -p, --pid=FILE               Write the process id to FILE (removed on exit)
  -i, --config-id=ID           Keep configuration lines '@ID ...' and drop '@^ID ...'
                               (default: the host name up to its first dot)
  -I, --dont-release-ipvs      Leave the IPVS table in the kernel on stop
  -V, --dont-release-vrrp      Leave VIPs and virtual routes in place on stop
      --strict                 Warnings (unknown or unsupported keywords...) are errors
      --metrics=[HOST:]PORT    Serve Prometheus metrics on /metrics (host default 127.0.0.1)
  -v, --version                Print the version and exit
  -h, --help                   Print this help and exit

Signals: HUP reloads the configuration, TERM and INT stop gracefully,
USR1 writes a data dump and USR2 statistics to $TMPDIR (default /tmp).
`;
