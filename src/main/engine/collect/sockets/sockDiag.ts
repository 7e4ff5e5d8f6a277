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
import { STATE_LISTEN, TCP_CONNECTION_STATE_MASK, type ProcNetRow } from './procNet';
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
export function dumpTable(diag: SockDiag, proto: Proto, family: 4 | 6, inUse: number | undefined): ProcNetRow[] {
  if (inUse === 0) return [];
  if (proto === 'udp') return toRows(diag.dump(PROTOCOL.udp, family, ALL_STATES), family);
  const listening = diag.dump(PROTOCOL.tcp, family, 1 << STATE_LISTEN);
  const rows = toRows(listening, family);
  if (inUse === undefined || inUse > listening.length) rows.push(...toRows(diag.dump(PROTOCOL.tcp, family, TCP_CONNECTION_STATE_MASK), family));
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
