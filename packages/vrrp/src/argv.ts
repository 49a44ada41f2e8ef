// Command lines as keepalived 2 runs them: split into argv (quotes and
// backslashes honoured, no shell), the program looked up in PATH when it has no
// slash. A program that cannot be found disables the script, as keepalived does
// ("Cannot find script [[ in path - disabling"): shell syntax such as
// `[[ -f x ]] && exit 1` is not run through a shell.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export function splitArgv(cmd: string): string[] {
  const out: string[] = [];
  let cur = '';
  let have = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < cmd.length) cur += cmd[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      have = true;
    } else if (c === '\\' && i + 1 < cmd.length) {
      cur += cmd[++i];
      have = true;
    } else if (/\s/.test(c)) {
      if (have) out.push(cur);
      cur = '';
      have = false;
    } else {
      cur += c;
      have = true;
    }
  }
  if (have) out.push(cur);
  return out;
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
