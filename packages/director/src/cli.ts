#!/usr/bin/env node
// lvsd: keepalived's command line over lvsd's Director. See docs/cli.md.
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UsageError, USAGE, parseCliArgs, type CliOptions } from './cli/args.js';
import { EXIT, runConfigTest } from './cli/configtest.js';
import { createLogger } from './cli/log.js';
import { runDaemon, type RunDeps } from './cli/run.js';

export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** The whole CLI as a function (for tests): returns the exit code. */
export async function main(argv: string[], deps: RunDeps = {}): Promise<number> {
  let opts: CliOptions;
  try {
    opts = parseCliArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`lvsd: ${e.message}\n${USAGE}`);
      return EXIT.USAGE;
    }
    throw e;
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return EXIT.OK;
  }
  if (opts.version) {
    process.stdout.write(`lvsd ${version()} (reads keepalived 2.2 configurations)\n`);
    return EXIT.OK;
  }
  if (opts.configTest) return runConfigTest(opts);
  const logger = createLogger({ json: opts.logJson, detail: opts.logDetail });
  return runDaemon(opts, logger, deps);
}

/** Runs the CLI and exits the process with its code (the bin entry point). */
export function runCli(argv: string[]): void {
  main(argv).then(
    (code) => {
      process.exitCode = code;
      // A finished run has nothing left to do: do not wait for stray handles.
      setImmediate(() => process.exit(code));
    },
    (e: unknown) => {
      process.stderr.write(`lvsd: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exit(EXIT.FATAL);
    },
  );
}

// `node dist/cli.js ...` runs it too.
const isMain = (() => {
  try {
    return !!process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
})();
if (isMain) runCli(process.argv.slice(2));
