#!/usr/bin/env node
// `npm run demo`: boots the lab and runs the seed 001 scenario inside it
// (test/demo/seed001.mjs), printing its timeline.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit' }).status ?? 1;

if (run(process.execPath, ['test/lab/deps.mjs']) !== 0) process.exit(1);
if (!existsSync(`${root}packages/director/dist/cli.js`) || process.argv.includes('--build')) {
  if (run('npx', ['tsc', '-b']) !== 0) process.exit(1);
}
process.exit(run(process.execPath, ['test/lab/run.mjs', '--', process.execPath, 'test/demo/seed001.mjs', ...process.argv.slice(2).filter((a) => a !== '--build')]));
