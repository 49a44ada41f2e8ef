// Reading typed values out of configuration words, with messages that say what was
// expected, where. Mirrors keepalived's read_unsigned / read_timer / check_true_false.
import { isIPv4, isIPv6 } from 'node:net';
import type { DiagnosticSink, SourceLoc } from './diagnostics.js';
import type { ConfigNode } from './parser.js';
import { splitQuotedEscaped, type Token } from './reader.js';
import type { Family, ScriptSpec } from './model.js';

export function locOf(x: SourceLoc): SourceLoc {
  return { file: x.file, line: x.line, col: x.col };
}

/** Where the word after the last one is (for "missing argument" messages). */
export function afterLast(node: ConfigNode): SourceLoc {
  const last = node.args[node.args.length - 1];
  if (last) return { file: last.file, line: last.line, col: last.col + last.text.length + (last.quoted ? 2 : 0) + 1 };
  return { file: node.file, line: node.line, col: node.col + node.keyword.length + 1 };
}

export function familyOf(addr: string): Family | undefined {
  if (isIPv4(addr)) return 'inet';
  if (isIPv6(addr)) return 'inet6';
  return undefined;
}

export class Values {
  constructor(readonly sink: DiagnosticSink) {}

  /** The word at `index`, or an error naming what was expected. */
  word(node: ConfigNode, index: number, what: string): Token | undefined {
    const t = node.args[index];
    if (!t) {
      this.sink.error('missing-argument', afterLast(node), `${node.keyword}: expected ${what}`, node.keyword);
      return undefined;
    }
    return t;
  }

  str(node: ConfigNode, what: string, index = 0): string | undefined {
    return this.word(node, index, what)?.text;
  }

  /** Extra words after the ones a keyword takes: a warning (keepalived ignores them). */
  maxArgs(node: ConfigNode, max: number): void {
    const extra = node.args[max];
    if (extra) {
      this.sink.warn(
        'invalid-value',
        extra,
        `${node.keyword}: unexpected '${extra.text}' (takes ${max === 0 ? 'no value' : `${max} value${max > 1 ? 's' : ''}`}) - ignored`,
        node.keyword,
      );
    }
  }

  /** An integer in [min, max]. */
  int(node: ConfigNode, index: number, min: number, max: number, what = 'an integer'): number | undefined {
    // The message is only built when the word is missing (this runs for most lines of a config).
    const t = node.args[index] ?? this.word(node, index, `${what} between ${min} and ${max}`);
    return t ? this.intOf(node, t, min, max, what) : undefined;
  }

  intOf(node: ConfigNode, t: Token, min: number, max: number, what = 'an integer'): number | undefined {
    const ok = min < 0 ? /^[-+]?\d+$/.test(t.text) : /^\+?\d+$/.test(t.text);
    const v = ok ? Number(t.text) : NaN;
    if (!ok || v < min || v > max) {
      this.sink.error('invalid-value', t, `${node.keyword}: expected ${what} between ${min} and ${max}, got '${t.text}'`, node.keyword);
      return undefined;
    }
    return v;
  }

  /** A time in seconds with up to 6 decimals (keepalived's read_timer), in [min, max]. */
  seconds(node: ConfigNode, index: number, min = 0, max = 4294967, what = 'a time in seconds'): number | undefined {
    const t = this.word(node, index, what);
    if (!t) return undefined;
    const ok = /^\d+(\.\d{1,6})?$/.test(t.text) || /^\.\d{1,6}$/.test(t.text);
    const v = ok ? Number(t.text) : NaN;
    if (!ok || v < min || v > max) {
      this.sink.error(
        'invalid-value',
        t,
        `${node.keyword}: expected ${what} (${min === 0 ? '0' : min} to ${max}, up to 6 decimals), got '${t.text}'`,
        node.keyword,
      );
      return undefined;
    }
    return v;
  }

  /** keepalived's check_true_false: no word = true; on/true/yes, off/false/no. */
  bool(node: ConfigNode, index = 0): boolean | undefined {
    const t = node.args[index];
    if (!t) return true;
    if (['true', 'on', 'yes'].includes(t.text)) return true;
    if (['false', 'off', 'no'].includes(t.text)) return false;
    this.sink.error('invalid-value', t, `${node.keyword}: expected true/false, on/off or yes/no, got '${t.text}'`, node.keyword);
    return undefined;
  }

  oneOf<T extends string>(node: ConfigNode, index: number, allowed: readonly T[], what: string, caseInsensitive = false): T | undefined {
    const t = node.args[index] ?? this.word(node, index, `${what} (${allowed.join(', ')})`);
    if (!t) return undefined;
    const found = allowed.find((a) => (caseInsensitive ? a.toLowerCase() === t.text.toLowerCase() : a === t.text));
    if (!found) {
      this.sink.error('invalid-value', t, `${node.keyword}: expected ${what} (${allowed.join(', ')}), got '${t.text}'`, node.keyword);
      return undefined;
    }
    return found;
  }

  /** An IPv4 or IPv6 address. */
  ip(node: ConfigNode, t: Token | undefined, what = 'an IP address'): { address: string; family: Family } | undefined {
    if (!t) return undefined;
    const family = familyOf(t.text);
    if (!family) {
      this.sink.error('invalid-value', t, `${node.keyword}: expected ${what}, got '${t.text}'`, node.keyword);
      return undefined;
    }
    return { address: t.text, family };
  }

  /** A port 1-65535; `0` (or a run of zeros) means none, as keepalived takes it. */
  port(node: ConfigNode, t: Token | undefined, what = 'a port'): number | undefined {
    if (!t) return 0;
    if (!/^\d+$/.test(t.text) || Number(t.text) > 65535) {
      this.sink.error('invalid-value', t, `${node.keyword}: expected ${what} (1-65535), got '${t.text}'`, node.keyword);
      return undefined;
    }
    return Number(t.text);
  }

  /**
   * A script command line, re-split as keepalived's notify_script_init() does: the line with
   * quotes and escapes, the command (word 1) split again into argv, words 2 and 3 = user, group.
   */
  script(node: ConfigNode, cmdIndex = 1, userIndex = 2): ScriptSpec | undefined {
    const line = splitQuotedEscaped(node.text);
    if (line.error) {
      this.sink.error('syntax', node, `${node.keyword}: ${line.error}`, node.keyword);
      return undefined;
    }
    const cmd = line.words[cmdIndex];
    if (cmd === undefined || cmd.trim() === '') {
      this.sink.error('missing-argument', afterLast(node), `${node.keyword}: expected a command line`, node.keyword);
      return undefined;
    }
    const argv = splitQuotedEscaped(cmd);
    if (argv.error || argv.words.length === 0) {
      this.sink.error('syntax', node.args[0] ?? node, `${node.keyword}: cannot split '${cmd}' into words: ${argv.error ?? 'empty'}`, node.keyword);
      return undefined;
    }
    const spec: ScriptSpec = { argv: argv.words, text: cmd };
    const user = line.words[userIndex];
    const group = line.words[userIndex + 1];
    if (user !== undefined) spec.user = user;
    if (group !== undefined) spec.group = group;
    this.shellCheck(node, spec);
    return spec;
  }

  /** keepalived 2 (and lvsd) run scripts without a shell: shell syntax in argv cannot work. */
  private shellCheck(node: ConfigNode, spec: ScriptSpec): void {
    const ops = new Set(['&&', '||', ';', '|', '>', '>>', '<', '2>&1', '&']);
    const bad = spec.argv[0] === '[[' ? '[[' : spec.argv.find((a) => ops.has(a));
    if (bad === undefined) return;
    this.sink.warn(
      'compat',
      node.args[0] ?? node,
      `${node.keyword}: '${spec.text}' uses shell syntax ('${bad}'), but scripts run without a shell ` +
        `(keepalived 2 does the same), so it cannot work as written: use "/bin/sh -c '${spec.text.replace(/'/g, "'\\''")}'"`,
      node.keyword,
    );
  }
}
