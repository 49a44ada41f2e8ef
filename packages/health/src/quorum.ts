// Virtual-server quorum, as keepalived's check daemon decides it, as a pure
// function the Director calls after every health event: which destinations the
// IPVS service should have, and whether quorum was gained or lost.
export interface QuorumConfig {
  /** Minimum total weight of live servers (default 1). */
  quorum?: number;
  /** Flap dampener around the quorum (default 0). */
  hysteresis?: number;
  /** Put in the pool, alone, while the quorum is lost. */
  sorry_server?: { address: string; port?: number };
  /** The sorry server is kept in the pool at weight 0 instead of removed. */
  sorry_server_inhibit?: boolean;
  /** Failed servers stay in the pool at weight 0 (the VS default; a server may override). */
  inhibit_on_failure?: boolean;
}

export interface QuorumServer {
  id: string;
  alive: boolean;
  /** Effective weight (configured + dynamic). */
  weight: number;
  inhibit_on_failure?: boolean;
}

export interface Destination {
  /** Real server id, or "sorry_server". */
  id: string;
  weight: number;
}

export interface QuorumDecision {
  up: boolean;
  /** Set when this evaluation crossed the threshold: run quorum_up / quorum_down. */
  transition?: 'quorum_up' | 'quorum_down';
  weightSum: number;
  /** The threshold this evaluation compared against (quorum -/+ hysteresis). */
  threshold: number;
  sorryActive: boolean;
  /** What the IPVS service should contain now, in server order. */
  destinations: Destination[];
}

const sumAlive = (servers: readonly QuorumServer[]) =>
  servers.reduce((s, r) => s + (r.alive ? Math.max(0, Math.min(0x7fffffff, r.weight)) : 0), 0);

/** Quorum state at (re)start: up when the live weight reaches quorum + hysteresis. */
export function initialQuorumUp(config: QuorumConfig, servers: readonly QuorumServer[]): boolean {
  return sumAlive(servers) >= (config.quorum ?? 1) + (config.hysteresis ?? 0);
}

/**
 * One evaluation. `previousUp` is the last decision's `up` (or initialQuorumUp).
 * `init` marks the first evaluation after start, when keepalived installs the
 * sorry server if the quorum is already down.
 */
export function evaluateQuorum(
  config: QuorumConfig,
  previousUp: boolean,
  servers: readonly QuorumServer[],
  opts: { init?: boolean; previousSorryActive?: boolean } = {},
): QuorumDecision {
  const quorum = config.quorum ?? 1;
  const hysteresis = config.hysteresis ?? 0;
  const weightSum = sumAlive(servers);
  const threshold = quorum + (previousUp ? -1 : 1) * hysteresis;
  let up = previousUp;
  let transition: QuorumDecision['transition'];
  if (!previousUp && weightSum >= threshold) {
    up = true;
    transition = 'quorum_up';
  } else if (previousUp && (weightSum === 0 || weightSum < threshold)) {
    up = false;
    transition = 'quorum_down';
  } else if (opts.init && !previousUp && config.sorry_server && !opts.previousSorryActive) {
    transition = 'quorum_down';
  }
  const sorryActive = !up && config.sorry_server !== undefined;
  const destinations: Destination[] = [];
  for (const s of servers) {
    const inhibit = s.inhibit_on_failure ?? config.inhibit_on_failure ?? false;
    if (sorryActive) {
      // keepalived removes every server from the pool (inhibited ones stay at 0).
      if (inhibit) destinations.push({ id: s.id, weight: 0 });
    } else if (s.alive) destinations.push({ id: s.id, weight: Math.max(0, Math.min(0x7fffffff, s.weight)) });
    else if (inhibit) destinations.push({ id: s.id, weight: 0 });
  }
  if (sorryActive) destinations.push({ id: 'sorry_server', weight: 1 });
  else if (config.sorry_server && config.sorry_server_inhibit) destinations.push({ id: 'sorry_server', weight: 0 });
  return { up, transition, weightSum, threshold, sorryActive, destinations };
}
