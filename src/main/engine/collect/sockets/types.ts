/**
 * The contract between the socket scanners (one per platform) and the rest of the engine.
 * A scanner reads the kernel's socket tables; it never binds ports to probe them.
 */
export type Proto = 'tcp' | 'udp';

/**
 * One listening TCP socket or one bound-but-unconnected UDP socket, as the kernel has it: a
 * dual-stack listener on `::` is one entry of family 6, not two. Owner fields are `null` when
 * the scanner cannot see the owning process (for example another user's process when not
 * root); they are never guessed.
 */
export interface SocketEntry {
  proto: Proto;
  family: 4 | 6;
  /** Printed the way `ss`/`inet_ntop` print it, without brackets: `0.0.0.0`, `::`, `::ffff:127.0.0.1`. */
  address: string;
  port: number;
  pid: number | null;
  /** The kernel's short process name (`/proc/<pid>/comm` on Linux, lsof's command on macOS). */
  process: string | null;
  /** Absolute path of the executable. */
  exe: string | null;
  /** Login name of the process's effective uid, or the numeric uid when it has no name. */
  user: string | null;
}

/** By the remote end's port: < 1024, 1024..49151, >= 49152 (the IANA ranges). */
export type RemotePortClass = 'well-known' | 'registered' | 'dynamic';

export interface ConnectionCount {
  proto: Proto;
  remotePortClass: RemotePortClass;
  count: number;
}

export interface Snapshot {
  /** Epoch milliseconds when the scan started. */
  takenAt: number;
  sockets: SocketEntry[];
  /**
   * Established TCP connections and connected UDP sockets, counted by protocol and remote port
   * class. Always all six combinations in a fixed order (zeros included), so that consumers get
   * a fixed-shape vector.
   */
  connections: ConnectionCount[];
}

export interface SocketScanner {
  scan(): Promise<Snapshot>;
}

export const PROTOS: readonly Proto[] = ['tcp', 'udp'];
export const REMOTE_PORT_CLASSES: readonly RemotePortClass[] = ['well-known', 'registered', 'dynamic'];

export function remotePortClass(port: number): RemotePortClass {
  if (port < 1024) return 'well-known';
  if (port < 49152) return 'registered';
  return 'dynamic';
}

/** Counts (proto, remote port) pairs into the fixed six-entry shape of `Snapshot.connections`. */
export function countConnections(remotes: Iterable<{ proto: Proto; remotePort: number }>): ConnectionCount[] {
  const counts = PROTOS.flatMap((proto) =>
    REMOTE_PORT_CLASSES.map((cls): ConnectionCount => ({ proto, remotePortClass: cls, count: 0 })),
  );
  for (const { proto, remotePort } of remotes) {
    const index = PROTOS.indexOf(proto) * REMOTE_PORT_CLASSES.length + REMOTE_PORT_CLASSES.indexOf(remotePortClass(remotePort));
    counts[index]!.count += 1;
  }
  return counts;
}

/** A stable order (proto, port, family, address, pid) so that equal machines give equal snapshots. */
export function compareSockets(a: SocketEntry, b: SocketEntry): number {
  if (a.proto !== b.proto) return a.proto < b.proto ? -1 : 1;
  if (a.port !== b.port) return a.port - b.port;
  if (a.family !== b.family) return a.family - b.family;
  if (a.address !== b.address) return a.address < b.address ? -1 : 1;
  return (a.pid ?? -1) - (b.pid ?? -1);
}
