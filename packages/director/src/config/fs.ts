// The file access the parser needs for `include`, injected so that the parser stays pure:
// tests give it an in-memory tree, the CLI gives it the real filesystem.
import * as nodeFsModule from 'node:fs';
import * as posix from 'node:path/posix';

export type FileKind = 'file' | 'dir' | 'other';

export interface OpenFile {
  /** Its size when opened. */
  readonly size: number;
  /** Reads up to `length` bytes at `position` into `into` at `offset`; 0 at the end. */
  read(into: Buffer, offset: number, length: number, position: number): number;
  /** Whether its size or modification time changed since it was opened. Optional. */
  modified?(): boolean;
  close(): void;
}

export interface ConfigFs {
  /** The whole file as text. Throws (with `code`, e.g. ENOENT, EACCES) when it cannot be read. */
  readFile(path: string): string;
  /**
   * The whole file as bytes, with `headroom` bytes of spare room after them in its memory.
   * Optional. Only nodeFs's result is patched in place; any other is copied first.
   */
  readBytes?(path: string, headroom?: number): Buffer;
  /** The file opened for reads at positions (a reload compares it with the last one a chunk at a time). Optional. */
  open?(path: string): OpenFile;
  /** Names in a directory (not sorted), or undefined when `path` is not a readable directory. */
  readdir(path: string): string[] | undefined;
  /** What `path` is (following symlinks), or undefined when it does not exist. */
  stat(path: string): FileKind | undefined;
}

function openFile(path: string): OpenFile {
  const fd = nodeFsModule.openSync(path, 'r');
  try {
    const st = nodeFsModule.fstatSync(fd, { bigint: true });
    return {
      size: Number(st.size),
      read: (into, offset, length, position) => nodeFsModule.readSync(fd, into, offset, length, position),
      modified: () => {
        const now = nodeFsModule.fstatSync(fd, { bigint: true });
        return now.size !== st.size || now.mtimeNs !== st.mtimeNs;
      },
      close: () => nodeFsModule.closeSync(fd),
    };
  } catch (e) {
    nodeFsModule.closeSync(fd);
    throw e;
  }
}

/** The real filesystem, synchronous (configs are small; a load is one step). */
export const nodeFs: ConfigFs = {
  readFile: (p) => nodeFsModule.readFileSync(p, 'utf8'),
  readBytes: (p, headroom = 0) => {
    const f = openFile(p);
    try {
      // Never from the shared pool: the caller keeps this memory and may patch it in place.
      let buf = Buffer.allocUnsafeSlow(f.size + headroom + 1);
      let n = 0;
      for (;;) {
        if (n === buf.length) {
          const bigger = Buffer.allocUnsafeSlow(buf.length * 2);
          buf.copy(bigger, 0, 0, n);
          buf = bigger;
        }
        // Until EOF, not the size seen at open: the file may change under us.
        const r = f.read(buf, n, buf.length - n, n);
        if (r === 0) break;
        n += r;
      }
      return buf.subarray(0, n);
    } finally {
      f.close();
    }
  },
  open: (p) => openFile(p),
  readdir: (p) => {
    try {
      return nodeFsModule.readdirSync(p);
    } catch {
      return undefined;
    }
  },
  stat: (p) => {
    try {
      const st = nodeFsModule.statSync(p);
      return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
    } catch {
      return undefined;
    }
  },
};

/**
 * An in-memory tree from a map of absolute paths to contents (directories are implied),
 * for tests and for embedding a config that never touches the disk.
 */
export function memoryFs(files: Record<string, string>): ConfigFs {
  const norm = new Map<string, string>();
  const dirs = new Map<string, Set<string>>();
  for (const [p, text] of Object.entries(files)) {
    const abs = posix.resolve('/', p);
    norm.set(abs, text);
    let child = abs;
    for (let dir = posix.dirname(abs); ; dir = posix.dirname(dir)) {
      if (!dirs.has(dir)) dirs.set(dir, new Set());
      dirs.get(dir)!.add(posix.basename(child));
      if (dir === '/') break;
      child = dir;
    }
  }
  return {
    readFile(p) {
      const text = norm.get(posix.resolve('/', p));
      if (text === undefined) {
        if (dirs.has(posix.resolve('/', p))) throw Object.assign(new Error(`EISDIR: ${p}`), { code: 'EISDIR' });
        throw Object.assign(new Error(`ENOENT: no such file: ${p}`), { code: 'ENOENT' });
      }
      return text;
    },
    readdir(p) {
      const d = dirs.get(posix.resolve('/', p));
      return d ? [...d] : undefined;
    },
    stat(p) {
      const abs = posix.resolve('/', p);
      if (norm.has(abs)) return 'file';
      if (dirs.has(abs)) return 'dir';
      return undefined;
    },
  };
}
