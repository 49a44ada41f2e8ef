// Two network namespaces joined by a veth pair: `c` (where the checker's
// sockets are made, through the `netns` option) at 192.0.2.1/24 and fd00:db8::1/64, and
// `s` (the real servers) at 192.0.2.2/24 and fd00:db8::2/64. Nothing leaves them.
// Servers in `s` are Node servers over native sockets created inside it.
import { execFileSync } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import net from 'node:net';
import { consts, native, sockaddrIn } from '@lvsd/native';

export const C4 = '192.0.2.1';
export const S4 = '192.0.2.2';
export const C6 = 'fd00:db8::1';
export const S6 = 'fd00:db8::2';

export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface Lab {
  c: string;
  s: string;
  /** /run/netns/<name> paths, for the `netns` checker option. */
  cPath: string;
  sPath: string;
  exec(ns: 'c' | 's', cmd: string, args: string[]): string;
  nft(ns: 'c' | 's', script: string): void;
  /** A TCP server inside `s`. */
  listen(address: string, port: number, onConn: (s: net.Socket) => void): Promise<net.Server>;
  cleanup(): void;
}

export function createLab(): Lab {
  const id = `${process.pid.toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
  const c = `lvsdh-${id}-c`;
  const s = `lvsdh-${id}-s`;
  const servers: net.Server[] = [];
  const fds: number[] = [];
  const exec = (ns: 'c' | 's', cmd: string, args: string[]) => sh('ip', ['netns', 'exec', ns === 'c' ? c : s, cmd, ...args]);
  sh('ip', ['netns', 'add', c]);
  sh('ip', ['netns', 'add', s]);
  sh('ip', ['-n', c, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', s]);
  for (const [ns, a4, a6] of [
    [c, C4, C6],
    [s, S4, S6],
  ]) {
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    sh('ip', ['-n', ns, 'addr', 'add', `${a4}/24`, 'dev', 'eth0']);
    sh('ip', ['-n', ns, 'addr', 'add', `${a6}/64`, 'dev', 'eth0', 'nodad']);
    sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  }
  // The veth pair needs a moment before it carries traffic: wait for carrier
  // on both ends.
  for (const ns of [c, s]) {
    for (let i = 0; !/state UP/.test(sh('ip', ['-n', ns, 'link', 'show', 'eth0'])); i++) {
      if (i > 200) throw new Error(`veth in ${ns} never came up`);
      execFileSync('sleep', ['0.01']);
    }
  }
  const lab: Lab = {
    c,
    s,
    cPath: `/run/netns/${c}`,
    sPath: `/run/netns/${s}`,
    exec,
    nft: (ns, script) => {
      // nft wants statements on their own lines: accept one-liners too.
      script = script.replace(/;\s*/g, '\n').replace(/\{\s*/g, '{\n').replace(/\s*\}/g, '\n}');
      execFileSync('ip', ['netns', 'exec', ns === 'c' ? c : s, 'nft', '-f', '-'], { input: script });
    },
    async listen(address, port, onConn) {
      const nsfd = openSync(`/run/netns/${s}`, 'r');
      try {
        const fd = native.socket(address.includes(':') ? consts.AF_INET6 : consts.AF_INET, consts.SOCK_STREAM, 0, nsfd);
        native.setsockopt(fd, consts.SOL_SOCKET, consts.SO_REUSEADDR, 1);
        native.bind(fd, sockaddrIn(address, port));
        const srv = net.createServer(onConn);
        servers.push(srv);
        await new Promise<void>((r) => srv.listen({ fd }, () => r()));
        return srv;
      } finally {
        closeSync(nsfd);
      }
    },
    cleanup() {
      for (const srv of servers) srv.close();
      for (const fd of fds) native.close(fd);
      for (const ns of [c, s]) {
        try {
          sh('ip', ['netns', 'del', ns]);
        } catch {
          // already gone
        }
      }
    },
  };
  return lab;
}

export const isRoot = process.getuid?.() === 0;
