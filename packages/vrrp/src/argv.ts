// Command lines as keepalived 2 runs them: split into argv (quotes and
// backslashes honoured, no shell; given as argv already, taken as is), the program looked up in PATH when it has no
// slash. A program that cannot be found disables the script, as keepalived does
// ("Cannot find script [[ in path - disabling"): shell syntax such as
// `[[ -f x ]] && exit 1` is not run through a shell.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { splitCommandLine } from '@lvsd/native';

/** A command line as argv; an argv array is taken as it is (the config reader split it already). */
export function splitArgv(cmd: string | readonly string[]): string[] {
  if (typeof cmd !== 'string') return [...cmd];
  try {
    return splitCommandLine(cmd);
  } catch {
    return []; // an unterminated quote: nothing runnable, the script is disabled as not found
  }
}

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The program's path, or undefined when it cannot be found or executed. */
export function resolveProgram(prog: string, path = process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'): string | undefined {
  if (prog.includes('/')) return executable(prog) ? prog : undefined;
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, prog);
    if (executable(p)) return p;
  }
  return undefined;
}
