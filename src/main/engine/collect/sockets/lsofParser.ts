/**
 * Pure parser for lsof's field output (`-F`, see "OUTPUT FOR OTHER PROGRAMS" in lsof(8)): one
 * field a line, its first character naming it. A `p` line opens a process set (followed by
 * `c` command, `u` uid, `L` login), an `f` line opens a file set of that process (`t` IPv4 or
 * IPv6, `d` device: on macOS the socket's kernel address, `P` protocol, `n` name, and one `T`
 * line per TCP detail such as `TST=LISTEN`). Unknown fields are ignored.
 */
import {
  compareConnections,
  compareSockets,
  countedConnections,
  type ConnectionCount,
  type ConnectionEntry,
  type ConnectionState,
  type SocketEntry,
} from './types';

export interface LsofFile {
  pid: number;
  command: string | null;
  uid: number | null;
  login: string | null;
  fd: string | null;
  type: string | null;
  device: string | null;
  protocol: string | null;
  name: string | null;
  tcpState: string | null;
}

export function parseLsofFields(text: string): LsofFile[] {
  const files: LsofFile[] = [];
  let proc: Pick<LsofFile, 'pid' | 'command' | 'uid' | 'login'> | null = null;
  let file: LsofFile | null = null;
  // -F0 output ends fields with NUL (and sets with NUL + newline); tolerate it.
  for (const line of text.split(/[\0\n]/)) {
    if (line.length === 0) continue;
    const value = line.slice(1);
    switch (line[0]) {
      case 'p':
        proc = { pid: Number(value), command: null, uid: null, login: null };
        file = null;
        break;
      case 'c':
        if (proc) proc.command = value;
        break;
      case 'u':
        if (proc && /^\d+$/.test(value)) proc.uid = Number(value);
        break;
      case 'L':
        if (proc) proc.login = value;
        break;
      case 'f':
        if (!proc || !Number.isInteger(proc.pid)) break;
        file = { ...proc, fd: value, type: null, device: null, protocol: null, name: null, tcpState: null };
        files.push(file);
        break;
      case 't':
        if (file) file.type = value;
        break;
      case 'd':
        if (file) file.device = value;
        break;
      case 'P':
        if (file) file.protocol = value;
        break;
      case 'n':
        if (file) file.name = value;
        break;
      case 'T':
        if (file && value.startsWith('ST=')) file.tcpState = value.slice(3);
        break;
    }
  }
  return files;
}

export interface Endpoint {
  address: string;
  port: number | null;
}

/**
 * Splits lsof's name, `local` or `local->remote`, each `addr:port` with IPv6 in brackets.
 * `*` means any address (written `0.0.0.0` or `::` here, as on Linux) or, as a port, none yet.
 * lsof prints IPv4-mapped IPv6 addresses as plain IPv4 on an IPv6 socket; they get their
 * `::ffff:` prefix back so that the same socket reads the same on Linux and macOS.
 */
export function parseLsofName(name: string, family: 4 | 6): { local: Endpoint | null; remote: Endpoint | null } {
  // Plain (non -F) output appends the state, e.g. ` (LISTEN)`; -F puts it in a T field.
  const bare = name.replace(/\s+\(.*\)$/, '');
  const [local, remote] = bare.split('->');
  return { local: parseEndpoint(local ?? '', family), remote: remote === undefined ? null : parseEndpoint(remote, family) };
}

function parseEndpoint(text: string, family: 4 | 6): Endpoint | null {
  let address: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return null;
    address = text.slice(1, close);
    portText = text.slice(close + 2);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return null;
    address = text.slice(0, colon);
    portText = text.slice(colon + 1);
  }
  if (address === '*') address = family === 4 ? '0.0.0.0' : '::';
  else if (family === 6 && /^\d+\.\d+\.\d+\.\d+$/.test(address)) address = `::ffff:${address}`;
  if (address.length === 0) return null;
  if (portText === '*') return { address, port: null };
  if (!/^\d+$/.test(portText)) return null;
  return { address, port: Number(portText) };
}

/**
 * lsof prints the kernel's own names for TCP states: macOS's tcpstates[] (SYN_RCVD, FIN_WAIT_1),
 * Linux's table (SYN_RECV, FIN_WAIT1; its lsof drives the scanner's real-socket test), and some
 * builds spell out SYN_RECEIVED. LISTEN is a listener; TIME_WAIT, CLOSED and any state not here
 * are not recorded (see ConnectionState).
 */
const LSOF_TCP_STATES: ReadonlyMap<string, ConnectionState> = new Map<string, ConnectionState>([
  ['SYN_SENT', 'syn-sent'],
  ['SYN_RCVD', 'syn-recv'],
  ['SYN_RECEIVED', 'syn-recv'],
  ['SYN_RECV', 'syn-recv'],
  ['ESTABLISHED', 'established'],
  ['FIN_WAIT_1', 'fin-wait-1'],
  ['FIN_WAIT1', 'fin-wait-1'],
  ['FIN_WAIT_2', 'fin-wait-2'],
  ['FIN_WAIT2', 'fin-wait-2'],
  ['CLOSE_WAIT', 'close-wait'],
  ['LAST_ACK', 'last-ack'],
  ['CLOSING', 'closing'],
]);

/** The recorded state of a connection-state name lsof printed, or null when it is not recorded. */
export function connectionStateFromLsof(tcpState: string): ConnectionState | null {
  return LSOF_TCP_STATES.get(tcpState) ?? null;
}

export interface LsofSockets {
  sockets: SocketEntry[];
  connected: ConnectionEntry[];
  connections: ConnectionCount[];
}

/**
 * Turns lsof's socket files into the snapshot's listeners, connections and connection counts
 * (exe left null: the socket listing has no program path). A socket open in several processes
 * is listed once per process by lsof but is one kernel socket: it is kept once, under the
 * lowest pid, as on Linux. Sockets are told apart by their device (the kernel address on macOS)
 * when lsof gives one. A connection whose remote port lsof does not know (`*`) is left out
 * rather than recorded with an invented one.
 */
export function lsofToSockets(files: readonly LsofFile[]): LsofSockets {
  const listeners = new Map<string, SocketEntry>();
  const talking = new Map<string, ConnectionEntry>();
  for (const f of files) {
    const proto = f.protocol === 'TCP' ? 'tcp' : f.protocol === 'UDP' ? 'udp' : null;
    const family = f.type === 'IPv4' ? 4 : f.type === 'IPv6' ? 6 : null;
    if (!proto || !family || f.name === null) continue;
    const { local, remote } = parseLsofName(f.name, family);
    const key = f.device ? `${proto}/${f.device}` : `${proto}/${f.pid}/${f.fd}`;
    const owner = { pid: f.pid, process: f.command, exe: null, user: f.login ?? (f.uid === null ? null : String(f.uid)) };
    const bound = proto === 'tcp' ? f.tcpState === 'LISTEN' : remote === null;
    if (bound) {
      if (local?.port == null) continue;
      keepLowestPid(listeners, key, { proto, family, address: local.address, port: local.port, ...owner });
      continue;
    }
    const state = proto === 'udp' ? 'connected' : f.tcpState === null ? null : connectionStateFromLsof(f.tcpState);
    if (state === null || local?.port == null || remote?.port == null) continue;
    keepLowestPid(talking, key, {
      proto,
      family,
      localAddress: local.address,
      localPort: local.port,
      remoteAddress: remote.address,
      remotePort: remote.port,
      state,
      ...owner,
    });
  }
  const connected = [...talking.values()].sort(compareConnections);
  return { sockets: [...listeners.values()].sort(compareSockets), connected, connections: countedConnections(connected) };
}

function keepLowestPid<T extends { pid: number | null }>(byKey: Map<string, T>, key: string, entry: T): void {
  const previous = byKey.get(key);
  if (previous?.pid != null && entry.pid !== null && previous.pid <= entry.pid) return;
  byKey.set(key, entry);
}
