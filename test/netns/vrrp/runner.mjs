#!/usr/bin/env node
// Runs one VrrpInstance as its own process, so tests and the benchmark can kill
// it (-9) or stop it (SIGTERM: priority 0) like a keepalived. Options come as
// JSON (argv[2]); every event is printed as one JSON line on stdout.
//   node runner.mjs '{"name":"VI_1",...}' [--block-ms 500 --block-every 2000]
// Needs the built package (npm run build).
import { VrrpInstance } from '@lvsd/vrrp';

const args = process.argv.slice(2);
const opts = JSON.parse(args[0]);
const flag = (name) => {
  const i = args.indexOf(name);
  return i > 0 ? Number(args[i + 1]) : undefined;
};
const out = (o) => process.stdout.write(`${JSON.stringify({ t: performance.now(), wall: Date.now(), ...o })}\n`);

const inst = new VrrpInstance(opts);
inst.on('stateChange', (e) => out({ event: 'stateChange', ...e }));
inst.on('warning', (w) => out({ event: 'warning', message: w }));
inst.on('error', (e) => out({ event: 'error', message: e.message }));
inst.on('priorityChange', (e) => out({ event: 'priorityChange', ...e }));
inst.on('notify', (r) => out({ event: 'notify', ...r }));

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await inst.stop();
  out({ event: 'stopped', stats: inst.stats() });
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('SIGUSR1', () => out({ event: 'stats', stats: inst.stats() }));

await inst.start();
out({ event: 'started', state: inst.state });

// Simulated event-loop stalls (GC pauses, a slow callback) for the benchmark.
const blockMs = flag('--block-ms');
if (blockMs) {
  const every = flag('--block-every') ?? 2000;
  setInterval(() => {
    const end = performance.now() + blockMs;
    while (performance.now() < end);
    out({ event: 'blocked', ms: blockMs });
  }, every);
}
