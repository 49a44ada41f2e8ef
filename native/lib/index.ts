// @lvsd/native: sockets the Node runtime lacks (netlink, raw IP, AF_PACKET, ICMP),
// batched send/receive, and the netlink framing every lvsd package shares.
export { native, isErrno, type NativeBinding, type RecvMessage, type ErrnoException, type NativePoller, type NativePeriodicSender } from './binding.js';
export * as consts from './constants.js';
export { LvsdError, NetlinkError, NetlinkOverrunError, errnoName, type LvsdErrorOptions } from './errors.js';
export {
  Writer,
  encodeAttr,
  encodeAttrs,
  decodeAttrs,
  AttrDecodeError,
  NLA_F_NESTED,
  type AttrSpec,
  type AttrType,
  type AttrCodec,
  type Schema,
} from './attr.js';
export * as nlmsg from './nlmsg.js';
export type { NlMessage, AckInfo } from './nlmsg.js';
export { NetlinkSocket, wrapErrno, type NetlinkSocketOptions, type Outgoing, type CallOptions, type NetlinkSocketEvents } from './netlink.js';
export { resolveFamily, genlHeader, GENL_HDRLEN, type GenlFamily } from './genl.js';
export { ipToBytes, bytesToIp, sockaddrIn, sockaddrNl, sockaddrLl, decodeSockaddr, type InetAddress } from './sockaddr.js';
export { parseCmsgs, buildCmsgs, type Cmsg } from './cmsg.js';
export { RawSocket, type RawSocketOptions, type RawMessage, type RawSocketEvents } from './dgram.js';
export { runProgram, killGroup, splitCommandLine, type RunProgramOptions, type RunProgramResult } from './process.js';
