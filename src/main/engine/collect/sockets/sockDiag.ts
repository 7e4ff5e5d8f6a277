/**
 * The kernel's socket tables over NETLINK_SOCK_DIAG (the `portent-sockdiag` addon in
 * `native/sockdiag`), as the same rows `parseProcNet` makes of /proc/net. docs/scanner.md says
 * why: a /proc/net/tcp read walks the whole established-connection hash, and a dump filtered
 * by state does not.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatIPv4, formatIPv6, STATE_LISTEN, TCP_CONNECTION_STATE_MASK, type ProcNetRow } from './procNet';
import type { Proto } from './types';

/** One socket as the addon returns it; addresses printed as inet_ntop prints them. */
export interface SockDiagRow {
  state: number;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  inode: number;
  uid: number;
}

export interface SockDiag {
  /** Sockets of `protocol` (6 TCP, 17 UDP) and `family` whose state's bit is in `stateMask`. */
  dump(protocol: number, family: 4 | 6, stateMask: number): SockDiagRow[];
  /** The same sockets as PACKED_RECORD-byte records (layout in native/sockdiag/sockdiag.c). */
  dumpPacked?(protocol: number, family: 4 | 6, stateMask: number): Buffer;
}

export const PACKED_RECORD = 48;
/** Decoded addresses kept per family before the cache starts again. */
const ADDRESS_CACHE_LIMIT = 10_000;

/**
 * Turns packed records into rows, scan after scan. A socket is the same kernel object for as
 * long as its inode lives, so a record whose inode, state and ports match a row of the previous
 * scan reuses that row; only new sockets have their addresses formatted (and those repeat: a
 * formatted address is cached). On a host holding thousands of connections that stay put, a
 * scan then costs a few reads per socket instead of an object and two strings each.
 */
export class RowDecoder {
  private previous = new Map<number, ProcNetRow>();
  private current = new Map<number, ProcNetRow>();
  private readonly v4 = new Map<number, string>();
  private readonly v6 = new Map<string, string>();

  /** Starts a scan: rows decoded since the last begin() become the ones to reuse. */
  begin(): void {
    this.previous = this.current;
    this.current = new Map();
  }

  decode(records: Buffer, family: 4 | 6): ProcNetRow[] {
    const rows: ProcNetRow[] = [];
    for (let at = 0; at + PACKED_RECORD <= records.length; at += PACKED_RECORD) {
      const state = records[at + 1]!;
      const localPort = records.readUInt16LE(at + 2);
      const remotePort = records.readUInt16LE(at + 4);
      const inode = records.readUInt32LE(at + 8);
      const known = inode === 0 ? undefined : this.previous.get(inode);
      let row: ProcNetRow;
      if (known && known.state === state && known.localPort === localPort && known.remotePort === remotePort && known.family === family) {
        row = known;
      } else {
        row = {
          family,
          localAddress: this.address(records, at + 16, family),
          localPort,
          remoteAddress: this.address(records, at + 32, family),
          remotePort,
          state,
          uid: records.readUInt32LE(at + 12),
          inode,
        };
      }
      if (inode !== 0) this.current.set(inode, row);
      rows.push(row);
    }
    return rows;
  }

  private address(records: Buffer, at: number, family: 4 | 6): string {
    if (family === 4) {
      const key = records.readUInt32BE(at);
      let text = this.v4.get(key);
      if (text === undefined) {
        if (this.v4.size >= ADDRESS_CACHE_LIMIT) this.v4.clear();
        text = formatIPv4(records, at);
        this.v4.set(key, text);
      }
      return text;
    }
    const key = records.toString('latin1', at, at + 16);
    let text = this.v6.get(key);
    if (text === undefined) {
      if (this.v6.size >= ADDRESS_CACHE_LIMIT) this.v6.clear();
      text = formatIPv6(records.subarray(at, at + 16));
      this.v6.set(key, text);
    }
    return text;
  }
}

const PACKAGE = 'portent-sockdiag';
/** Where `node-gyp rebuild` in native/sockdiag leaves the addon in a checkout. */
const CHECKOUT_BUILD = path.join('native', 'sockdiag', 'build', 'Release', 'sockdiag.node');

let loaded: SockDiag | undefined;
let loadError: Error | undefined;

/**
 * The addon, or throws why it cannot be had (the same reason on every call). The installed
 * package comes first (a packaged app, or `npm ci` with the optional dependency); a checkout
 * that only built it in place is found by walking up from this module, which works from
 * `src/` under tsx and from the `out/` bundle alike.
 */
export function loadSockDiag(): SockDiag {
  if (loaded) return loaded;
  if (loadError) throw loadError;
  const requireHere = createRequire(import.meta.url);
  try {
    loaded = requireHere(PACKAGE) as SockDiag;
    return loaded;
  } catch (packageError) {
    for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; ) {
      const candidate = path.join(dir, CHECKOUT_BUILD);
      if (existsSync(candidate)) {
        try {
          loaded = requireHere(candidate) as SockDiag;
          return loaded;
        } catch (e) {
          loadError = e instanceof Error ? e : new Error(String(e));
          throw loadError;
        }
      }
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
    loadError = packageError instanceof Error ? packageError : new Error(String(packageError));
    throw loadError;
  }
}

const PROTOCOL: Record<Proto, number> = { tcp: 6, udp: 17 };
const ALL_STATES = 0xffffffff;

/**
 * One table's rows, as `parseProcNet` would give them for /proc/net/{tcp,tcp6,udp,udp6} minus
 * the TCP states the scanner ignores. `inUse` is sockstat's count for the table's protocol
 * (listeners and connections alike; undefined when unknown).
 *
 * TCP takes two dumps: the listeners (the kernel's listening hash only, a few tens of
 * microseconds), then, only if sockstat counts more sockets than that, the connections in every
 * state Portent records (TCP_CONNECTION_STATES), which walk the established hash (about 0.45 ms with 262,144 buckets on the dev
 * VM). Hosts often have IPv6 listeners and no IPv6 connection, and then the second is skipped.
 */
export function dumpTable(diag: SockDiag, proto: Proto, family: 4 | 6, inUse: number | undefined, decoder?: RowDecoder): ProcNetRow[] {
  if (inUse === 0) return [];
  const read = (protocol: number, mask: number): ProcNetRow[] =>
    decoder && diag.dumpPacked ? decoder.decode(diag.dumpPacked(protocol, family, mask), family) : toRows(diag.dump(protocol, family, mask), family);
  if (proto === 'udp') return read(PROTOCOL.udp, ALL_STATES);
  const rows = read(PROTOCOL.tcp, 1 << STATE_LISTEN);
  if (inUse === undefined || inUse > rows.length) for (const r of read(PROTOCOL.tcp, TCP_CONNECTION_STATE_MASK)) rows.push(r);
  return rows;
}

function toRows(dumped: SockDiagRow[], family: 4 | 6): ProcNetRow[] {
  return dumped.map((r) => ({
    family,
    localAddress: r.localAddress,
    localPort: r.localPort,
    remoteAddress: r.remoteAddress,
    remotePort: r.remotePort,
    state: r.state,
    uid: r.uid,
    inode: r.inode,
  }));
}
