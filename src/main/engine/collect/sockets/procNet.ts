/**
 * Pure parser for Linux's `/proc/net/{tcp,tcp6,udp,udp6}` tables. The kernel prints each
 * address as 32-bit words with `%08X` of the word in host byte order, and the port as `%04X`
 * of its value, so only the address needs reordering.
 */
import type { ConnectionState } from './types';

/** Kernel TCP states (include/net/tcp_states.h); UDP reuses them: 01 connected, 07 unconnected. */
export const STATE_ESTABLISHED = 0x01;
export const STATE_CLOSE = 0x07;
export const STATE_LISTEN = 0x0a;

/**
 * The TCP states a connection is recorded in, by the kernel's number; TIME_WAIT (6), CLOSE (7),
 * LISTEN (10) and NEW_SYN_RECV (12) are not (see ConnectionState). UDP's ESTABLISHED (1) is a
 * connected socket.
 */
export const TCP_CONNECTION_STATES: ReadonlyMap<number, ConnectionState> = new Map([
  [0x01, 'established'],
  [0x02, 'syn-sent'],
  [0x03, 'syn-recv'],
  [0x04, 'fin-wait-1'],
  [0x05, 'fin-wait-2'],
  [0x08, 'close-wait'],
  [0x09, 'last-ack'],
  [0x0b, 'closing'],
]);

/** The same states as a sock_diag state mask. */
export const TCP_CONNECTION_STATE_MASK = [...TCP_CONNECTION_STATES.keys()].reduce((mask, state) => mask | (1 << state), 0);

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
 *
 * One pass over the text with indexOf and char codes, no regex or split per line: a table can
 * hold thousands of rows and is parsed every scan. Addresses repeat (`127.0.0.1`, `::`), so
 * each distinct one is decoded once per call.
 */
export function parseProcNet(text: string, family: 4 | 6, littleEndian = true): ProcNetRow[] {
  const rows: ProcNetRow[] = [];
  const addresses = new Map<string, string | null>();
  const starts = new Int32Array(FIELDS);
  const ends = new Int32Array(FIELDS);
  // Line 0 is the column header.
  let pos = text.indexOf('\n') + 1;
  if (pos === 0) return rows;
  while (pos < text.length) {
    let eol = text.indexOf('\n', pos);
    if (eol < 0) eol = text.length;
    const fields = splitFields(text, pos, eol, starts, ends);
    pos = eol + 1;
    // A malformed row is skipped rather than failing the whole scan.
    if (fields < FIELDS) continue;
    const local = endpoint(text, starts[1]!, ends[1]!, family, littleEndian, addresses);
    const remote = endpoint(text, starts[2]!, ends[2]!, family, littleEndian, addresses);
    const state = parseHex(text, starts[3]!, ends[3]!);
    const uid = Number(text.slice(starts[7]!, ends[7]!));
    const inode = Number(text.slice(starts[9]!, ends[9]!));
    if (!local || !remote || state < 0 || !Number.isInteger(uid) || !Number.isInteger(inode)) continue;
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

/** Fields read per row: sl, local, remote, st, tx:rx, tr:when, retrnsmt, uid, timeout, inode. */
const FIELDS = 10;

/** Fills the [start, end) offsets of up to FIELDS whitespace-separated fields of text[from, to). */
function splitFields(text: string, from: number, to: number, starts: Int32Array, ends: Int32Array): number {
  let n = 0;
  let i = from;
  while (i < to && n < FIELDS) {
    while (i < to && text.charCodeAt(i) <= 32) i++;
    if (i === to) break;
    starts[n] = i;
    while (i < to && text.charCodeAt(i) > 32) i++;
    ends[n++] = i;
  }
  return n;
}

/** Value of text[from, to) as hex digits, or -1 when empty, too long for 32 bits or not hex. */
function parseHex(text: string, from: number, to: number): number {
  if (to <= from || to - from > 8) return -1;
  let value = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    const digit = c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/** `ADDRESS:PORT` in text[from, to); each distinct address is decoded once per table. */
function endpoint(
  text: string,
  from: number,
  to: number,
  family: 4 | 6,
  littleEndian: boolean,
  addresses: Map<string, string | null>,
): { address: string; port: number } | null {
  const colon = text.indexOf(':', from);
  if (colon < 0 || colon >= to) return null;
  const port = parseHex(text, colon + 1, to);
  const hex = text.slice(from, colon);
  let address = addresses.get(hex);
  if (address === undefined) {
    address = decodeAddress(hex, family, littleEndian);
    addresses.set(hex, address);
  }
  return address === null || port < 0 || port > 0xffff ? null : { address, port };
}

function decodeAddress(hex: string, family: 4 | 6, littleEndian: boolean): string | null {
  if (hex.length !== (family === 4 ? 8 : 32)) return null;
  for (let w = 0; w < hex.length; w += 8) if (parseHex(hex, w, w + 8) < 0) return null;
  const bytes = hexWordsToBytes(hex, littleEndian);
  return family === 4 ? formatIPv4(bytes, 0) : formatIPv6(bytes);
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

export function formatIPv4(bytes: ArrayLike<number>, at: number): string {
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

/**
 * `/proc/net/sockstat{,6}` lines such as `TCP: inuse 3 orphan 0 tw 0 alloc 5 mem 1`: protocol
 * (`TCP`, `UDP`, `TCP6`, `UDP6`, ...) -> sockets of it hashed in this network namespace, which
 * counts every listener and every connection of that protocol (TIME_WAIT excepted).
 */
export function parseSockstatInUse(text: string): Map<string, number> {
  const inUse = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(\w+): inuse (\d+)/.exec(line);
    if (match) inUse.set(match[1]!, Number(match[2]));
  }
  return inUse;
}
