/**
 * Pure parser for Linux's `/proc/net/{tcp,tcp6,udp,udp6}` tables. The kernel prints each
 * address as 32-bit words with `%08X` of the word in host byte order, and the port as `%04X`
 * of its value, so only the address needs reordering.
 */

/** Kernel TCP states (include/net/tcp_states.h); UDP reuses them: 01 connected, 07 unconnected. */
export const STATE_ESTABLISHED = 0x01;
export const STATE_CLOSE = 0x07;
export const STATE_LISTEN = 0x0a;

export interface ProcNetRow {
  family: 4 | 6;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  state: number;
  /** uid that created the socket; not necessarily the uid of the process holding it now. */
  uid: number;
  /** 0 for sockets no longer attached to a file (e.g. TIME_WAIT). */
  inode: number;
}

/**
 * Parses one table. `littleEndian` is the byte order of the machine that produced the text;
 * it defaults to little-endian because every platform Portent ships on is.
 */
export function parseProcNet(text: string, family: 4 | 6, littleEndian = true): ProcNetRow[] {
  const rows: ProcNetRow[] = [];
  const lines = text.split('\n');
  // Line 0 is the column header.
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i]!.trim().split(/\s+/);
    if (f.length < 10) continue;
    const local = splitEndpoint(f[1]!, family, littleEndian);
    const remote = splitEndpoint(f[2]!, family, littleEndian);
    const state = Number.parseInt(f[3]!, 16);
    const uid = Number(f[7]);
    const inode = Number(f[9]);
    // A malformed row is skipped rather than failing the whole scan.
    if (!local || !remote || Number.isNaN(state) || !Number.isInteger(uid) || !Number.isInteger(inode)) continue;
    rows.push({
      family,
      localAddress: local.address,
      localPort: local.port,
      remoteAddress: remote.address,
      remotePort: remote.port,
      state,
      uid,
      inode,
    });
  }
  return rows;
}

function splitEndpoint(text: string, family: 4 | 6, littleEndian: boolean): { address: string; port: number } | null {
  const colon = text.indexOf(':');
  const hex = text.slice(0, colon);
  const port = Number.parseInt(text.slice(colon + 1), 16);
  if (colon < 0 || hex.length !== (family === 4 ? 8 : 32) || !/^[0-9A-Fa-f]+$/.test(hex) || Number.isNaN(port)) return null;
  const bytes = hexWordsToBytes(hex, littleEndian);
  return { address: family === 4 ? formatIPv4(bytes, 0) : formatIPv6(bytes), port };
}

/** Turns `%08X` words printed from host-order memory back into network-order bytes. */
export function hexWordsToBytes(hex: string, littleEndian: boolean): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let w = 0; w < hex.length / 8; w++) {
    const word = Number.parseInt(hex.slice(w * 8, w * 8 + 8), 16);
    for (let b = 0; b < 4; b++) {
      const shift = littleEndian ? 8 * b : 8 * (3 - b);
      bytes[w * 4 + b] = (word >>> shift) & 0xff;
    }
  }
  return bytes;
}

function formatIPv4(bytes: ArrayLike<number>, at: number): string {
  return `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
}

/**
 * Formats 16 network-order bytes exactly as glibc's `inet_ntop` does (and therefore `ss`):
 * lower-case hex, the first longest run of two or more zero words becomes `::`, and
 * IPv4-mapped (`::ffff:a.b.c.d`) and IPv4-compatible (`::a.b.c.d`) addresses end in dotted quad.
 */
export function formatIPv6(bytes: ArrayLike<number>): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((bytes[2 * i]! << 8) | bytes[2 * i + 1]!);

  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i <= 8; i++) {
    if (i < 8 && words[i] === 0) {
      if (curBase < 0) curBase = i;
      curLen = i - curBase + 1;
    } else if (curBase >= 0) {
      if (curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
      curBase = -1;
    }
  }
  // A single zero word is not worth compressing (RFC 5952 4.2.2, and glibc agrees).
  if (bestLen < 2) bestBase = -1;

  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      out += formatIPv4(bytes, 12);
      return out;
    }
    out += words[i]!.toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) out += ':';
  return out;
}
