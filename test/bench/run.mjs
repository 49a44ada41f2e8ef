#!/usr/bin/env node
// `npm run bench -- <name> [args...]` runs test/bench/<name>.mjs with the given args;
// `npm run bench` alone lists the benchmarks. A benchmark that needs the lab kernel boots
// it itself (import { runInLab } from '../lab/run.mjs'), so this runner stays on the host.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR = dirname(fileURLToPath(import.meta.url));

function benches() {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs' && !f.startsWith('_') && !f.startsWith('.'))
    .map((f) => f.slice(0, -4))
    .sort();
}

/** First comment line of a benchmark file, as its one-line description. */
function describe(name) {
  const text = readFileSync(join(DIR, `${name}.mjs`), 'utf8');
  const m = /^(?:#!.*\n)?\s*\/\/\s*(.+)$/m.exec(text);
  return m ? m[1].trim() : '';
}

const [name, ...args] = process.argv.slice(2);
const all = benches();
if (!name || name === '--help' || name === '-h' || name === '--list') {
  if (all.length === 0) console.log('no benchmarks yet (test/bench/<name>.mjs)');
  else {
    console.log('usage: npm run bench -- <name> [args...]\n\nbenchmarks:');
    const w = Math.max(...all.map((n) => n.length));
    for (const n of all) console.log(`  ${n.padEnd(w)}  ${describe(n)}`);
  }
  process.exit(0);
}
if (!all.includes(name)) {
  console.error(`bench: no benchmark "${name}" (have: ${all.join(', ') || 'none'})`);
  process.exit(2);
}
const child = spawn(process.execPath, [join(DIR, `${name}.mjs`), ...args], { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('close', (code, signal) => {
  process.exitCode = code ?? (signal ? 128 : 1);
});
