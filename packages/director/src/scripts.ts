// Runs a notify / quorum script as argv (no shell, as keepalived 2 does), with a
// timeout that kills its whole process group.
import { spawn } from 'node:child_process';

export function runScript(argv: readonly string[], timeoutMs = 30_000): Promise<{ ok: boolean; reason?: string }> {
  return new Promise((resolve) => {
    if (!argv.length) return resolve({ ok: false, reason: 'empty command' });
    const child = spawn(argv[0], argv.slice(1), { stdio: 'ignore', detached: true });
    const timer = setTimeout(() => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: e.message });
    });
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      resolve(code === 0 ? { ok: true } : { ok: false, reason: sig ? `killed by ${sig}` : `exit ${code}` });
    });
  });
}
