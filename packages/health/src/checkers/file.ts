// FILE_CHECK (track_file): the number in a file, read whenever the file
// changes. With weight 0 a non-zero value fails the server (a zero one with
// `reverse`); otherwise value x weight (negated with `reverse`) is added to the
// server's weight, and a result at or below -2^31 fails it.
import { readFile } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { WatchRunner } from '../runner.js';
import type { CheckResult, FileCheckOptions } from '../types.js';
import { failure } from './net.js';

const WEIGHT_FAULT = -0x80000000;

/** strtol(s, NULL, 0): decimal, 0x hex or 0 octal prefix; leading junk-free. */
export function parseTrackValue(text: string): number | undefined {
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(text);
  if (!m) return text.trim() === '' ? 0 : undefined;
  const digits = m[2];
  const v = /^0[xX]/.test(digits) ? parseInt(digits.slice(2), 16) : digits.length > 1 && digits[0] === '0' ? parseInt(digits, 8) : parseInt(digits, 10);
  const n = m[1] === '-' ? -v : v;
  if (n < -0x80000000 || n > 0x80000000) return undefined;
  return n;
}

export function fileResult(o: FileCheckOptions, value: number, configuredWeight: number): CheckResult {
  const name = o.track_file ?? o.file;
  const weight = o.weight ?? 1;
  if (weight === 0) {
    const failed = (value !== 0) !== !!o.reverse;
    return failed ? failure('file', `file ${name} value ${value}`) : { ok: true, weight: configuredWeight, detail: `file ${name} value ${value}` };
  }
  const status = value * weight * (o.reverse ? -1 : 1);
  if (status <= WEIGHT_FAULT) return failure('file', `file ${name} value ${value}`);
  return { ok: true, weight: configuredWeight + status, detail: `file ${name} value ${value}` };
}

export function fileCheck(): WatchRunner {
  return {
    watch({ checker, configuredWeight }, report) {
      const o = checker.options as FileCheckOptions;
      let last: number | undefined;
      let stopped = false;
      let reading = false;
      let again = false;
      const read = async () => {
        if (reading) {
          again = true;
          return;
        }
        reading = true;
        try {
          do {
            again = false;
            let value: number | undefined;
            try {
              value = parseTrackValue((await readFile(o.file, 'latin1')).slice(0, 127));
            } catch {
              value = 0; // keepalived: a missing file reads as 0
            }
            if (stopped) return;
            if (value !== undefined && value !== last) {
              last = value;
              report(fileResult(o, value, configuredWeight));
            }
          } while (again && !stopped);
        } finally {
          reading = false;
        }
      };
      // Watch the directory, not the file: editors and `mv` replace the inode.
      let w: FSWatcher | undefined;
      const name = basename(o.file);
      try {
        w = watch(dirname(o.file), { persistent: false }, (_ev, f) => {
          if (!f || f === name) void read();
        });
        w.on('error', () => {});
      } catch {
        // No such directory: report the 0 a missing file reads as.
      }
      void read();
      return () => {
        stopped = true;
        w?.close();
      };
    },
  };
}
