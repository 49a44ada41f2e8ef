// Generic netlink: the genlmsghdr and family resolution through nlctrl.
import { type Schema, Writer, decodeAttrs, encodeAttr } from './attr.js';
import { LvsdError } from './errors.js';
import type { CallOptions, NetlinkSocket } from './netlink.js';

export const GENL_ID_CTRL = 0x10;
export const CTRL_CMD_GETFAMILY = 3;
export const GENL_HDRLEN = 4;

const mcastGroupSchema: Schema = {
  name: { id: 1, type: 'string' },
  id: { id: 2, type: 'u32' },
};

const ctrlSchema: Schema = {
  familyId: { id: 1, type: 'u16' },
  familyName: { id: 2, type: 'string' },
  version: { id: 3, type: 'u32' },
  hdrsize: { id: 4, type: 'u32' },
  maxattr: { id: 5, type: 'u32' },
};

export interface GenlFamily {
  id: number;
  name: string;
  version: number;
  maxattr: number;
  mcastGroups: Map<string, number>;
}

/** Writes struct genlmsghdr. */
export function genlHeader(w: Writer, cmd: number, version: number): void {
  w.u8(cmd);
  w.u8(version);
  w.u16(0);
}

/** Resolves a generic netlink family by name (e.g. "IPVS"). */
export async function resolveFamily(sock: NetlinkSocket, name: string, opts: CallOptions = {}): Promise<GenlFamily> {
  let msgs;
  try {
    msgs = await sock.request(
      {
        type: GENL_ID_CTRL,
        body: (w) => {
          genlHeader(w, CTRL_CMD_GETFAMILY, 1);
          encodeAttr(w, ctrlSchema.familyName, name);
        },
        object: { family: name },
      },
      opts,
    );
  } catch (e) {
    if ((e as LvsdError)?.errno === 2) {
      throw new LvsdError('LVSD_ERR_FAMILY_NOT_FOUND', `generic netlink family ${name} not found (is its kernel module loaded?)`, {
        errno: 2,
        object: { family: name },
        cause: e,
      });
    }
    throw e;
  }
  const f = msgs.map((m) => parseFamily(m.buf, m.start + GENL_HDRLEN, m.end)).find((x) => x.name === name);
  if (!f) throw new LvsdError('LVSD_ERR_FAMILY_NOT_FOUND', `generic netlink family ${name} not found`, { object: { family: name } });
  return f;
}

function parseFamily(buf: Buffer, start: number, end: number): GenlFamily {
  const a = decodeAttrs<{ familyId: number; familyName: string; version: number; maxattr: number }>(buf, start, end, ctrlSchema);
  const groups = new Map<string, number>();
  // CTRL_ATTR_MCAST_GROUPS (7) is an array of nests indexed by position, which a
  // name-keyed schema cannot describe; walk it here.
  let off = start;
  while (off + 4 <= end) {
    const len = buf.readUInt16LE(off);
    const type = buf.readUInt16LE(off + 2) & 0x3fff;
    if (len < 4) break;
    if (type === 7) {
      let g = off + 4;
      while (g + 4 <= off + len) {
        const glen = buf.readUInt16LE(g);
        if (glen < 4) break;
        const grp = decodeAttrs<{ name: string; id: number }>(buf, g + 4, g + glen, mcastGroupSchema);
        if (grp.name) groups.set(grp.name, grp.id);
        g += (glen + 3) & ~3;
      }
    }
    off += (len + 3) & ~3;
  }
  return { id: a.familyId, name: a.familyName, version: a.version, maxattr: a.maxattr, mcastGroups: groups };
}
