// ConfigLoader: a reload that reads only the changed virtual_server blocks must give
// exactly what reading the whole file gives (the model, every diagnostic and its line),
// and fall back to the whole read whenever that is not certain.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigLoader, nodeFs, parseConfig, type ConfigFs, type LoadResult } from '@lvsd/director';

const vs = (i: number, weight = 1, extra = '') => `virtual_server 10.1.${i >> 8}.${i & 255} 80 {
  lb_algo wrr
  lb_kind DR
  protocol TCP
  real_server 172.16.${i >> 8}.${i & 255} 80 {
    weight ${weight}
  }
  real_server 172.17.${i >> 8}.${i & 255} 8080 {
    weight 2
    TCP_CHECK {
      connect_timeout 3
    }
  }${extra}
}
`;

function base(n: number): string[] {
  const blocks = [
    '! generated\nglobal_defs {\n  router_id lb1\n}\n',
    'vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  priority 100\n  virtual_ipaddress {\n    10.1.0.254\n  }\n}\n',
  ];
  for (let i = 0; i < n; i++) blocks.push(vs(i));
  return blocks;
}

/** Drops every `loc` (and `files`) so that two models can be compared for meaning. */
function strip(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(strip);
  if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).filter(([k]) => k !== 'loc').map(([k, v]) => [k, strip(v)]));
  return x;
}

/** The file in memory (readFile only), or on disk through nodeFs (readBytes into reused memory). */
function setup(text: string, onDisk = false) {
  let cur = text;
  const path = onDisk ? join(mkdtempSync(join(tmpdir(), 'lvsd-loader-')), 'keepalived.conf') : '/etc/keepalived/keepalived.conf';
  const reads = { whole: 0, open: 0 };
  const fs: ConfigFs = onDisk
    ? {
        ...nodeFs,
        readBytes: (p, headroom) => {
          reads.whole++;
          return nodeFs.readBytes!(p, headroom);
        },
        open: (p) => {
          reads.open++;
          return nodeFs.open!(p);
        },
      }
    : { readFile: () => cur, readdir: () => undefined, stat: () => 'file' };
  if (onDisk) writeFileSync(path, text);
  const loader = new ConfigLoader(path, { fs, hostname: 'lb1' });
  const full = (): LoadResult => parseConfig(cur, { file: path, fs, hostname: 'lb1' });
  return {
    loader,
    reads,
    set: (t: string) => {
      cur = t;
      if (onDisk) writeFileSync(path, t);
    },
    check(mode?: string) {
      const a = loader.load();
      const b = full();
      expect(a.ok).toBe(b.ok);
      expect(a.diagnostics).toEqual(b.diagnostics);
      if (a.ok && b.ok) expect(strip(a.config)).toEqual(strip(b.config));
      if (mode) expect(loader.lastMode).toBe(mode);
      return a;
    },
  };
}

describe('ConfigLoader', () => {
  it('a weight changed in one block: only that block is read again, the rest are the same objects', () => {
    const blocks = base(50);
    const s = setup(blocks.join(''));
    const first = s.check('full');
    blocks[2 + 20] = vs(20, 7);
    s.set(blocks.join(''));
    const second = s.check('incremental');
    if (!first.ok || !second.ok) throw new Error('unexpected');
    expect(second.config.virtualServers[20]!.realServers[0]!.weight).toBe(7);
    expect(second.config.virtualServers[19]).toBe(first.config.virtualServers[19]);
    expect(second.config.virtualServers[21]).toBe(first.config.virtualServers[21]);
    expect(second.config.vrrpInstances).toBe(first.config.vrrpInstances);
    s.check('unchanged');
  });

  // On disk the file is several 64 KiB chunks long, so the chunked compare crosses chunk edges.
  it.each([['in memory', false, 40, 200], ['on disk, compared in chunks', true, 450, 60]])('random edits inside, between, before and after virtual_server blocks give what a full read gives (%s)', { timeout: 60_000 }, (_, onDisk, size, steps) => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const blocks = base(size as number);
    const s = setup(blocks.join(''), onDisk as boolean);
    s.check('full');
    let incremental = 0;
    for (let step = 0; step < (steps as number); step++) {
      const i = 2 + rnd(blocks.length - 2);
      const k = rnd(10);
      if (k < 3) blocks[i] = vs(1000 + step, 1 + rnd(9)); // a real change of one block
      else if (k < 4) blocks.splice(i, 0, vs(2000 + step)); // a new block (more lines: later lines move)
      else if (k < 5 && blocks.length > 5) blocks.splice(i, 1); // a removed block
      else if (k < 6) blocks[i] = blocks[i]!.replace('lb_algo wrr', 'lb_algo rr\n  ! a comment\n'); // lines added
      else if (k < 7) blocks[i] = `! note ${step}\n${blocks[i]}`; // a comment between blocks
      else if (k < 8) blocks[i] = blocks[i]!.replace('weight 2', 'weight 2\n    bogus_keyword 1'); // a warning inside
      else if (k < 9) blocks[i] = blocks[i]!.replace('lb_kind DR', 'lb_kind DR\n  delay_loop x'); // an error: whole read
      else blocks[0] = `global_defs {\n  router_id lb${step}\n}\n`; // outside virtual servers: whole read
      s.set(blocks.join(''));
      s.check();
      if (s.loader.lastMode === 'incremental') incremental++;
      // Repair the error at once: the next step starts from a valid file (a whole read).
      for (let j = 0; j < blocks.length; j++) blocks[j] = blocks[j]!.replace(/\n  delay_loop x/g, '');
    }
    const modes = `${incremental} incremental of ${steps}`;
    expect(incremental, modes).toBeGreaterThan((steps as number) * 0.3);
  });

  it('on disk, a reload compares the file in chunks and patches its copy in place: no whole read while the file fits', () => {
    const blocks = base(30);
    const s = setup(blocks.join(''), true);
    s.check('full');
    expect(s.reads).toEqual({ whole: 1, open: 0 });
    const state = () => (s.loader as unknown as { state: { buf: Buffer } }).state.buf;
    const memory = state().buffer;
    for (let i = 0; i < 4; i++) {
      blocks[2 + i] = vs(i, 5 + i); // one line longer or shorter each time: the tail moves
      if (i === 2) blocks.splice(10, 1);
      s.set(blocks.join(''));
      s.check('incremental');
      expect(state().buffer).toBe(memory);
    }
    s.check('unchanged');
    expect(s.reads).toEqual({ whole: 1, open: 5 });
    // A file that outgrows the room after it gets new memory, and the same result.
    for (let i = 0; i < 2000; i++) blocks.push(vs(3000 + i));
    s.set(blocks.join(''));
    s.check('incremental'); // new blocks at the end
    expect(state().buffer).not.toBe(memory);
    blocks[3] = vs(1, 9);
    s.set(blocks.join(''));
    s.check('incremental');
    // An edit outside virtual servers: the whole read, once.
    blocks[0] = 'global_defs {\n  router_id lb9\n}\n';
    s.set(blocks.join(''));
    s.check('full');
    expect(s.reads.whole).toBe(2);
  });

  it('an edit that joins a line to the next one (a newline deleted, a # typed) reads that line too', () => {
    for (const onDisk of [false, true]) {
      const blocks = base(6);
      blocks.splice(4, 0, '# note\n');
      const s = setup(blocks.join(''), onDisk);
      s.check('full');
      // the newline after the comment deleted: the next header becomes part of the comment
      s.set(blocks.join('').replace('# note\n', '# note '));
      expect(s.check().ok).toBe(false);
      s.set(blocks.join(''));
      s.check();
      // a # typed at the start of a virtual_server line
      const i = blocks.join('').indexOf('virtual_server 10.1.0.3');
      s.set(`${blocks.join('').slice(0, i)}#${blocks.join('').slice(i)}`);
      expect(s.check().ok).toBe(false);
      // the file's last newline removed, then put back
      s.set(blocks.join(''));
      s.check();
      s.set(blocks.join('').slice(0, -1));
      s.check();
      s.set(blocks.join(''));
      s.check();
    }
  });

  it('a virtual_server the builder drops (no real server) does not shift the others', () => {
    const blocks = base(5);
    blocks.splice(3, 0, 'virtual_server 10.9.9.9 80 {\n  lb_algo rr\n}\n');
    const s = setup(blocks.join(''), true);
    s.check('full');
    blocks[5] = vs(7, 5); // a block after the dropped one
    s.set(blocks.join(''));
    s.check(); // whatever the mode: what a whole read gives
    blocks[4] = vs(1, 9);
    s.set(blocks.join(''));
    s.check();
  });

  it('never writes into memory an injected readBytes returned', () => {
    const text = base(8).join('');
    let cur = Buffer.from(text);
    const outer = Buffer.alloc(text.length + 4096, 0x55);
    const fs: ConfigFs = {
      readFile: () => cur.toString('latin1'),
      readdir: () => undefined,
      stat: () => 'file',
      // a view with memory after it that is not the loader's
      readBytes: () => outer.subarray(0, cur.copy(outer)),
      open: () => ({
        size: cur.length,
        read: (into, offset, length, position) => cur.copy(into, offset, position, Math.min(cur.length, position + length)),
        close: () => {},
      }),
    };
    const loader = new ConfigLoader('/k.conf', { fs, hostname: 'lb1' });
    expect(loader.load().ok).toBe(true);
    const before = Buffer.from(outer);
    cur = Buffer.from(text.replace('weight 1\n', 'weight 100\n')); // longer: an in-place patch would move the tail
    expect(loader.load().ok).toBe(true);
    expect(loader.lastMode).toBe('incremental');
    expect(outer.equals(before)).toBe(true);
  });

  it('falls back to the whole read for a duplicate, a group, includes, definitions and non-ASCII text', () => {
    const blocks = base(10);
    const s = setup(blocks.join(''));
    s.check('full');
    blocks[5] = vs(4); // the same virtual server as block 6: a duplicate error
    s.set(blocks.join(''));
    expect(s.check('full').ok).toBe(false);
    blocks[5] = 'virtual_server group G1 {\n  lb_algo rr\n}\n';
    s.set(blocks.join(''));
    s.check('full');
    blocks[5] = vs(5);
    s.set(blocks.join(''));
    s.check('full'); // the state after an error is gone: a whole read
    s.set(`$W=3\n${blocks.join('')}`);
    s.check('full');
    s.set(blocks.join('').replace('lb_algo wrr', 'lb_algo\u00a0wrr'));
    s.check('full');
  });
});
