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

/**
 * The states a connection is recorded in: TCP in every state but LISTEN that a process still
 * holds, and `connected` for a UDP socket with a peer (connect()ed). TIME_WAIT (and the kernel's
 * NEW_SYN_RECV request sockets), and a socket in any state that no process holds any more (the
 * kernel finishing a close), are left out: they have no owner to name, and a busy client
 * leaves hundreds of them.
 */
export type ConnectionState =
  | 'syn-sent'
  | 'syn-recv'
  | 'established'
  | 'fin-wait-1'
  | 'fin-wait-2'
  | 'close-wait'
  | 'last-ack'
  | 'closing'
  | 'connected';

export const CONNECTION_STATES: readonly ConnectionState[] = ['syn-sent', 'syn-recv', 'established', 'fin-wait-1', 'fin-wait-2', 'close-wait', 'last-ack', 'closing', 'connected'];

/**
 * One socket that talks: a TCP connection (either end: one this machine opened, or one a local
 * listener accepted) or a connected UDP socket. Owner fields as in SocketEntry: `null` when the
 * scanner cannot see the owning process, never guessed.
 */
export interface ConnectionEntry {
  proto: Proto;
  family: 4 | 6;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  state: ConnectionState;
  pid: number | null;
  process: string | null;
  exe: string | null;
  user: string | null;
}

export interface Snapshot {
  /** Epoch milliseconds when the scan started. */
  takenAt: number;
  sockets: SocketEntry[];
  /** Every connection and connected UDP socket, in compareConnections order. */
  connected: ConnectionEntry[];
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

/** A stable order (proto, remote address, remote port, local port, family, local address, pid). */
export function compareConnections(a: ConnectionEntry, b: ConnectionEntry): number {
  if (a.proto !== b.proto) return a.proto < b.proto ? -1 : 1;
  if (a.remoteAddress !== b.remoteAddress) return a.remoteAddress < b.remoteAddress ? -1 : 1;
  if (a.remotePort !== b.remotePort) return a.remotePort - b.remotePort;
  if (a.localPort !== b.localPort) return a.localPort - b.localPort;
  if (a.family !== b.family) return a.family - b.family;
  if (a.localAddress !== b.localAddress) return a.localAddress < b.localAddress ? -1 : 1;
  return (a.pid ?? -1) - (b.pid ?? -1);
}

/** The counts of Snapshot.connections: established TCP and connected UDP, as they always were. */
export function countedConnections(connected: readonly ConnectionEntry[]): ConnectionCount[] {
  return countConnections(connected.filter((c) => c.state === 'established' || c.state === 'connected'));
}
