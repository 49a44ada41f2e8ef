#!/usr/bin/env node
// The `lvsd` command. A committed file so that `npm ci` can link it before the
// TypeScript build has produced dist/ (npm skips bin links whose target is missing).
import { runCli } from '../dist/cli.js';

runCli(process.argv.slice(2));
