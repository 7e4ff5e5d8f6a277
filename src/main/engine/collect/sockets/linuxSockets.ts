import { closeSync, openSync, read, readFileSync, readSync, readdirSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import { silentLogger, type Logger } from '../../log';
import { STATE_CLOSE, STATE_ESTABLISHED, STATE_LISTEN, TCP_CONNECTION_STATES, parseProcNet, parseSockstatInUse, type ProcNetRow } from './procNet';
import { dumpTable, loadSockDiag, type SockDiag } from './sockDiag';
import { compareConnections, compareSockets, countedConnections, type ConnectionEntry, type ConnectionState, type Proto, type Snapshot, type SocketEntry, type SocketScanner } from './types';
import { UserNames } from './userNames';

export interface LinuxScannerOptions {
  /** Where procfs is mounted; tests point it at a fixture tree. */
  procRoot?: string;
  /** Owners' user names are asked of getent again when this file changes (`userNames.ts`). */
  passwdPath?: string;
  /** The getent program; tests stand in for it. */
  getent?: string;
  /** Byte order of the kernel that wrote `procRoot/net/*`; defaults to this machine's. */
  littleEndian?: boolean;
  /** Walk every /proc/<pid>/fd at least once in this many scans, even when nothing seems changed. */
  fullWalkEvery?: number;
  now?: () => number;
  /**
   * Where the socket tables come from. `netlink`: NETLINK_SOCK_DIAG through the
   * portent-sockdiag addon, failing the scan when that cannot work. `proc`: /proc/net.
   * `auto` (the default): netlink while it works, else /proc from then on. It uses netlink only
   * when `procRoot` is the real /proc, since netlink cannot read a fixture tree.
   */
  source?: TableSource | 'auto';
  /** Gets the addon; tests stand in for it. */
  loadSockDiag?: () => SockDiag;
  log?: Logger;
}

export type TableSource = 'netlink' | 'proc';

interface Owner {
  pid: number;
  process: string | null;
  exe: string | null;
  uid: number | null;
}

/** `sockstat`: the protocol's name in /proc/net/sockstat{,6}. */
const TABLES: ReadonlyArray<{ file: string; proto: Proto; family: 4 | 6; sockstat: string }> = [
  { file: 'tcp', proto: 'tcp', family: 4, sockstat: 'TCP' },
  { file: 'tcp6', proto: 'tcp', family: 6, sockstat: 'TCP6' },
  { file: 'udp', proto: 'udp', family: 4, sockstat: 'UDP' },
  { file: 'udp6', proto: 'udp', family: 6, sockstat: 'UDP6' },
];

/**
 * Linux scanner: the kernel's socket tables over netlink (`sockDiag.ts`) or from /proc/net,
 * owners from /proc/<pid>/fd.
 *
 * A socket shared by several processes (a pre-forking server, systemd socket activation) is
 * reported once, owned by the LOWEST pid holding it (`ss -p` lists them all).
 *
 * /proc/<pid> reads are synchronous: they are hundreds of tiny procfs calls, and a promise per
 * call costs more than the call (a full fd walk on the 2-core dev VM: 2.7 ms synchronous,
 * 15-17 ms with fs/promises). The tables are read as `readTables` explains.
 */
export class LinuxSocketScanner implements SocketScanner {
  private readonly procRoot: string;
  private readonly littleEndian: boolean;
  private readonly now: () => number;
  private readonly users: UserNames;
  private readonly owners: SocketOwnerIndex;
  private readonly source: TableSource | 'auto';
  private readonly loadDiag: () => SockDiag;
  private readonly log: Logger;
  /** Undefined until the first scan decides; null once /proc is the source. */
  private diag: SockDiag | null | undefined;

  constructor(options: LinuxScannerOptions = {}) {
    this.procRoot = options.procRoot ?? '/proc';
    this.littleEndian = options.littleEndian ?? os.endianness() === 'LE';
    this.now = options.now ?? Date.now;
    this.users = new UserNames({ passwdPath: options.passwdPath, getent: options.getent });
    this.owners = new SocketOwnerIndex(this.procRoot, options.fullWalkEvery ?? 10);
    this.source = options.source ?? 'auto';
    this.loadDiag = options.loadSockDiag ?? loadSockDiag;
    this.log = options.log ?? silentLogger;
    if (this.source === 'proc' || (this.source === 'auto' && this.procRoot !== '/proc')) this.diag = null;
  }

  /** Where the tables come from now; null before the first scan has tried netlink. */
  get tableSource(): TableSource | null {
    if (this.diag === undefined) return null;
    return this.diag === null ? 'proc' : 'netlink';
  }

  async scan(): Promise<Snapshot> {
    const takenAt = this.now();
    const tables = await this.readRows();
    const bound: Array<{ proto: Proto; row: ProcNetRow }> = [];
    const talking: Array<{ proto: Proto; row: ProcNetRow; state: ConnectionState }> = [];
    TABLES.forEach((table, i) => {
      for (const row of tables[i]!) {
        if (isBound(table.proto, row.state)) bound.push({ proto: table.proto, row });
        else {
          const state = connectionState(table.proto, row.state);
          // Inode 0: no process holds the socket any more (the kernel finishes closing it).
          if (state && row.inode !== 0) talking.push({ proto: table.proto, row, state });
        }
      }
    });

    const wanted = new Set<string>();
    for (const { row } of bound) if (row.inode !== 0) wanted.add(String(row.inode));
    for (const { row } of talking) if (row.inode !== 0) wanted.add(String(row.inode));
    const pidByInode = this.owners.resolve(wanted);

    const owners = new Map<number, Owner>();
    for (const pid of pidByInode.values()) if (!owners.has(pid)) owners.set(pid, readOwner(this.procRoot, pid));
    await this.users.resolve([...owners.values()].flatMap((o) => (o.uid === null ? [] : [o.uid])));
    const ownerOf = (inode: number): Pick<SocketEntry, 'pid' | 'process' | 'exe' | 'user'> => {
      const pid = pidByInode.get(String(inode));
      const owner = pid === undefined ? undefined : owners.get(pid);
      const uid = owner?.uid ?? null;
      return {
        pid: owner?.pid ?? null,
        process: owner?.process ?? null,
        exe: owner?.exe ?? null,
        // A uid without a name is shown as the number, as ps shows it (and as on macOS).
        user: uid === null ? null : (this.users.name(uid) ?? String(uid)),
      };
    };
    const sockets = bound.map(({ proto, row }): SocketEntry => ({ proto, family: row.family, address: row.localAddress, port: row.localPort, ...ownerOf(row.inode) }));
    sockets.sort(compareSockets);
    const connected = talking.map(
      ({ proto, row, state }): ConnectionEntry => ({
        proto,
        family: row.family,
        localAddress: row.localAddress,
        localPort: row.localPort,
        remoteAddress: row.remoteAddress,
        remotePort: row.remotePort,
        state,
        ...ownerOf(row.inode),
      }),
    );
    connected.sort(compareConnections);
    return { takenAt, sockets, connected, connections: countedConnections(connected) };
  }

  /** Each table's rows, in TABLES order. */
  private async readRows(): Promise<ProcNetRow[][]> {
    if (this.diag === undefined) {
      try {
        this.diag = this.loadDiag();
      } catch (err) {
        if (this.source === 'netlink') throw err;
        // The addon is a required part of a Linux install: its absence is a broken install.
        this.log.warn('socket tables: the netlink addon (portent-sockdiag) cannot be loaded, reading /proc/net instead (about 10 times the cost per round); reinstall Portent to build it', {
          reason: err instanceof Error ? err.message : String(err),
        });
        this.diag = null;
      }
    }
    if (this.diag) {
      try {
        const inUse = socketsInUse(this.procRoot);
        const diag = this.diag;
        // Without sockstat6 the kernel has no IPv6, and nothing to dump for it.
        return TABLES.map((t) => dumpTable(diag, t.proto, t.family, inUse ? (inUse.get(t.sockstat) ?? 0) : undefined));
      } catch (err) {
        if (this.source === 'netlink') throw err;
        // Expected where netlink is refused (EPERM in some sandboxes, no inet_diag in the
        // kernel): /proc gives the same tables, only slower.
        this.log.debug('socket tables: netlink unavailable, reading /proc/net', { reason: err instanceof Error ? err.message : String(err) });
        this.diag = null;
      }
    }
    const texts = await readTables(this.procRoot);
    return TABLES.map((t, i) => parseProcNet(texts[i]!, t.family, this.littleEndian));
  }
}

/** The state a talking socket is recorded in, or null for one that is not recorded (TIME_WAIT, ...). */
function connectionState(proto: Proto, state: number): ConnectionState | null {
  if (proto === 'udp') return state === STATE_ESTABLISHED ? 'connected' : null;
  return TCP_CONNECTION_STATES.get(state) ?? null;
}

/** TCP counts when listening; UDP has no listen, so a bound socket with no peer is its equivalent. */
function isBound(proto: Proto, state: number): boolean {
  return proto === 'tcp' ? state === STATE_LISTEN : state === STATE_CLOSE;
}

/*
 * The /proc/net path. What it costs is the kernel's walk of its established-connection hash: every read of
 * /proc/net/tcp or tcp6 that reaches the end of the listeners walks all of it (262,144 buckets
 * on the 2-core dev VM: 2.1-2.8 ms of system time per table), whether or not a single
 * connection of that family exists. All the rest of a warm scan at 50 sockets is about 0.5 ms
 * (plus a 2 ms fd walk one scan in `fullWalkEvery`). So, in order of what it saves:
 *
 * - A table whose protocol has no socket at all in this network namespace (sockstat's `inuse`,
 *   which counts listeners and connections alike) is not read: on a host without IPv6 TCP that
 *   is one whole walk.
 * - A read clearly shorter than a page ends the table. seq_file fills at most one buffer (at
 *   least a 4 KiB page) per read() and stops short only at the end, and the read() that would
 *   return 0 walks the hash a second time.
 * - The first reads of tcp and tcp6 go to libuv's pool, so that the two walks overlap when a
 *   core is free (up to ~22 listeners per table the walk is in that first read). The udp tables
 *   (no hash walk) and the further pages of a longer table are read synchronously: a hop through
 *   the pool costs more than such a read(), though it means that with hundreds of listeners
 *   the two walks run one after the other.
 */
const SHORT_READ = 4096 - 512;
const CHUNK = 64 * 1024;

async function readTables(procRoot: string): Promise<string[]> {
  const inUse = socketsInUse(procRoot);
  const fds: Array<number | null> = [];
  const pending: Array<Promise<string> | null> = [];
  try {
    for (const table of TABLES) {
      const skip = inUse?.get(table.sockstat) === 0;
      // tcp6 and udp6 are missing on a kernel without IPv6: an empty table.
      const fd = skip ? null : openTable(`${procRoot}/net/${table.file}`, table.family === 6);
      fds.push(fd);
      pending.push(fd !== null && table.proto === 'tcp' ? readChunkOffThread(fd) : null);
    }
    const texts = fds.map((fd, i) => (fd === null || pending[i] ? '' : readRest(fd, null)));
    for (const [i, first] of pending.entries()) if (first) texts[i] = readRest(fds[i]!, await first);
    return texts;
  } finally {
    // Never close an fd that a pool thread may still be reading.
    await Promise.allSettled(pending);
    for (const fd of fds) if (fd !== null) closeSync(fd);
  }
}

/** Sockets in use per protocol (`TCP6` -> n), or null when sockstat is unreadable. */
function socketsInUse(procRoot: string): Map<string, number> | null {
  const v4 = tryRead(() => readFileSync(`${procRoot}/net/sockstat`, 'latin1'));
  if (v4 === null) return null;
  // Without sockstat6 (no IPv6) the v6 tables are missing too, and read as empty.
  return parseSockstatInUse(`${v4}${tryRead(() => readFileSync(`${procRoot}/net/sockstat6`, 'latin1')) ?? ''}`);
}

function openTable(path: string, optional: boolean): number | null {
  try {
    return openSync(path, 'r');
  } catch (err) {
    if (optional && (err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

const chunk = Buffer.allocUnsafe(CHUNK);

/** Reads on to the end of the table; `first` is what the first read() returned, if it was made. */
function readRest(fd: number, first: string | null): string {
  if (first !== null && first.length < SHORT_READ) return first;
  const parts = first === null ? [] : [first];
  for (;;) {
    const n = readSync(fd, chunk, 0, CHUNK, null);
    parts.push(chunk.toString('latin1', 0, n));
    if (n < SHORT_READ) return parts.join('');
  }
}

function readChunkOffThread(fd: number): Promise<string> {
  const buf = Buffer.allocUnsafe(CHUNK);
  return new Promise((resolve, reject) => {
    read(fd, buf, 0, CHUNK, null, (err, n) => (err ? reject(err) : resolve(buf.toString('latin1', 0, n))));
  });
}

/**
 * Socket inode -> lowest pid holding it, remembered between scans. A full walk of every
 * /proc/<pid>/fd costs a syscall per open file on the machine (and a thrown error per process
 * we may not inspect), while the listening sockets rarely change from one minute to the next.
 * So when every wanted inode was seen by the last walk (held by a pid, or by nobody we can see)
 * and each remembered holder still has it (one readlink each), the last answer stands. Any new
 * socket, vanished holder or `fullWalkEvery` scans trigger a full walk: that bounds how long a
 * lower pid that gained an existing socket (fd passing) can go unnoticed.
 */
export class SocketOwnerIndex {
  private held = new Map<string, { pid: number; fd: string }>();
  private unseen = new Set<string>();
  private reuses = 0;

  constructor(
    private readonly procRoot: string,
    private readonly fullWalkEvery: number,
  ) {}

  resolve(inodes: ReadonlySet<string>): Map<string, number> {
    if (this.reuses < this.fullWalkEvery - 1 && this.stillValid(inodes)) {
      this.reuses += 1;
      const owners = new Map<string, number>();
      for (const inode of inodes) {
        const h = this.held.get(inode);
        if (h) owners.set(inode, h.pid);
      }
      return owners;
    }
    this.reuses = 0;
    this.held = walkSocketHolders(this.procRoot, inodes);
    this.unseen = new Set([...inodes].filter((i) => !this.held.has(i)));
    return new Map([...this.held].map(([inode, h]) => [inode, h.pid]));
  }

  private stillValid(inodes: ReadonlySet<string>): boolean {
    if (inodes.size === 0) return true;
    for (const inode of inodes) {
      if (this.unseen.has(inode)) continue;
      const h = this.held.get(inode);
      if (!h) return false;
      try {
        if (readlinkSync(`${this.procRoot}/${h.pid}/fd/${h.fd}`) !== `socket:[${inode}]`) return false;
      } catch {
        return false;
      }
    }
    return true;
  }
}

/**
 * Pids are walked in ascending order, so the first holder found is the lowest one, and the walk
 * stops once every inode has one. Processes we may not inspect (another user's when not root, a
 * process that just exited) are skipped: their sockets stay unowned rather than guessed.
 */
export function walkSocketHolders(procRoot: string, inodes: ReadonlySet<string>): Map<string, { pid: number; fd: string }> {
  const found = new Map<string, { pid: number; fd: string }>();
  if (inodes.size === 0) return found;
  const pids: number[] = [];
  for (const name of readdirSync(procRoot)) {
    const c = name.charCodeAt(0);
    if (c >= 48 && c <= 57) pids.push(Number(name));
  }
  pids.sort((a, b) => a - b);
  for (const pid of pids) {
    const fdDir = `${procRoot}/${pid}/fd`;
    let fds: string[];
    try {
      fds = readdirSync(fdDir);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`${fdDir}/${fd}`);
      } catch (err) {
        // ENOENT is one fd closed since readdir. Anything else (EACCES: a process we may list but
        // not inspect, like a sandbox's init) holds for all its fds, and each throw costs more
        // than a readlink, so give up on the whole pid.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        break;
      }
      if (!link.startsWith('socket:[')) continue;
      const inode = link.slice(8, -1);
      if (!inodes.has(inode) || found.has(inode)) continue;
      found.set(inode, { pid, fd });
      if (found.size === inodes.size) return found;
    }
  }
  return found;
}

function readOwner(procRoot: string, pid: number): Owner {
  const dir = `${procRoot}/${pid}`;
  const comm = tryRead(() => readFileSync(`${dir}/comm`, 'utf8'));
  const status = tryRead(() => readFileSync(`${dir}/status`, 'utf8'));
  return {
    pid,
    process: comm === null ? null : comm.replace(/\n$/, ''),
    // Unreadable without ptrace rights over the process (another user's, or a kernel thread).
    exe: tryRead(() => readlinkSync(`${dir}/exe`)),
    uid: status === null ? null : effectiveUid(status),
  };
}

/** The effective uid (second of `Uid:`): the one permissions use and `ps -o user` shows. */
function effectiveUid(status: string): number | null {
  const match = /^Uid:\s+\d+\s+(\d+)/m.exec(status);
  return match ? Number(match[1]) : null;
}

function tryRead<T>(read: () => T): T | null {
  try {
    return read();
  } catch {
    return null;
  }
}
