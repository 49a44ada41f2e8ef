// Runs one attempt of a built-in checker against a real server, with the
// attempt's deadline as the scheduler would set it.
import { defaultRunners, resolveCheckerOptions, type CheckResult, type CheckerOptions, type PollRunner } from '@lvsd/health';

const runners = defaultRunners();

export async function runOnce(c: CheckerOptions, rs: { address: string; port?: number; weight?: number }, timeoutMs = 1000): Promise<CheckResult & { ms: number }> {
  const checker = resolveCheckerOptions(undefined, rs, c);
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort('timeout'), timeoutMs);
  const t0 = performance.now();
  try {
    const r = await (runners[checker.type] as PollRunner).run({
      target: { id: 't', address: rs.address, port: rs.port, checkers: [c] },
      checker,
      configuredWeight: rs.weight ?? 1,
      signal: ac.signal,
    });
    return { ...r, ms: performance.now() - t0 };
  } finally {
    clearTimeout(t);
  }
}

export function closeRunners(): void {
  for (const r of Object.values(runners)) r.close?.();
}
