import { closeSync, openSync, read, readFileSync, readSync, readdirSync, readlinkSync, statSync, statfsSync } from 'node:fs';
import os from 'node:os';
import { silentLogger, type Logger } from '../../log';
import { STATE_CLOSE, STATE_ESTABLISHED, STATE_LISTEN, TCP_CONNECTION_STATES, parseProcNet, parseSockstatInUse, type ProcNetRow } from './procNet';
import { dumpTable, loadSockDiag, RowDecoder, type SockDiag } from './sockDiag';
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

type OwnerFields = Pick<SocketEntry, 'pid' | 'process' | 'exe' | 'user'>;
const NO_OWNER: OwnerFields = Object.freeze({ pid: null, process: null, exe: null, user: null });

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
  /** Rows of the last netlink scan, reused for the sockets that are still there. */
  private readonly decoder = new RowDecoder();
  /** The last scan's connection entries by row, and their sorted list (entries are shared between snapshots: read-only). */
  private lastEntries = new Map<ProcNetRow, ConnectionEntry>();
  private lastConnected: ConnectionEntry[] = [];

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

    const wanted = new Set<number>();
    for (const { row } of bound) if (row.inode !== 0) wanted.add(row.inode);
    for (const { row } of talking) wanted.add(row.inode);
    const pidByInode = this.owners.resolve(wanted);

    const owners = new Map<number, Owner>();
    for (const pid of pidByInode.values()) if (!owners.has(pid)) owners.set(pid, readOwner(this.procRoot, pid));
    await this.users.resolve([...owners.values()].flatMap((o) => (o.uid === null ? [] : [o.uid])));
    // One owner record per process, shared by all its sockets.
    const ownerFields = new Map<number, OwnerFields>();
    for (const [pid, o] of owners) {
      // A uid without a name is shown as the number, as ps shows it (and as on macOS).
      ownerFields.set(pid, { pid, process: o.process, exe: o.exe, user: o.uid === null ? null : (this.users.name(o.uid) ?? String(o.uid)) });
    }
    const ownerOf = (inode: number): OwnerFields => {
      const pid = pidByInode.get(inode);
      return (pid === undefined ? undefined : ownerFields.get(pid)) ?? NO_OWNER;
    };
    const sockets = bound.map(({ proto, row }): SocketEntry => ({ proto, family: row.family, address: row.localAddress, port: row.localPort, ...ownerOf(row.inode) }));
    sockets.sort(compareSockets);

    // A connection that is the same row (same kernel socket, see RowDecoder) with the same owner
    // as in the last scan keeps its entry; when every one did, so does the sorted list.
    const entries = new Map<ProcNetRow, ConnectionEntry>();
    const connected: ConnectionEntry[] = [];
    let reused = 0;
    for (const { proto, row, state } of talking) {
      const owner = ownerOf(row.inode);
      const last = this.lastEntries.get(row);
      let entry: ConnectionEntry;
      if (last && last.state === state && last.proto === proto && last.pid === owner.pid && last.process === owner.process && last.exe === owner.exe && last.user === owner.user) {
        entry = last;
        reused += 1;
      } else {
        entry = { proto, family: row.family, localAddress: row.localAddress, localPort: row.localPort, remoteAddress: row.remoteAddress, remotePort: row.remotePort, state, ...owner };
      }
      entries.set(row, entry);
      connected.push(entry);
    }
    const unchanged = reused === connected.length && connected.length === this.lastConnected.length;
    const sorted = unchanged ? this.lastConnected : connected.sort(compareConnections);
    this.lastEntries = entries;
    this.lastConnected = sorted;
    return { takenAt, sockets, connected: sorted.slice(), connections: countedConnections(sorted) };
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
        this.decoder.begin();
        // Without sockstat6 the kernel has no IPv6, and nothing to dump for it.
        return TABLES.map((t) => dumpTable(diag, t.proto, t.family, inUse ? (inUse.get(t.sockstat) ?? 0) : undefined, this.decoder));
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

/** statfs's f_type of procfs. */
const PROC_SUPER_MAGIC = 0x9fa0;

/**
 * Socket inode -> lowest pid holding it, remembered between scans. A full walk of every
 * /proc/<pid>/fd costs a syscall per open file on the machine (and a thrown error per process
 * we may not inspect), while most sockets, listeners and long connections alike, stay from one
 * minute to the next. So:
 *
 * - Remembered owners are revalidated per holding process, not per socket: a holder whose start
 *   time and number of open files (the size the kernel reports for /proc/<pid>/fd, Linux 6.2
 *   and later) are unchanged keeps its sockets; any other has each of its sockets checked with
 *   one readlink. (A holder that closed one socket and opened another file in the same minute
 *   keeps it until the next full walk; so does an older kernel's holder, checked per socket.)
 * - New sockets are looked for first among the processes that already hold sockets (a browser
 *   opens its next connection where it opened the last), then, if any is still missing, by a
 *   full walk.
 * - Every `fullWalkEvery` scans a full walk runs anyway: that bounds how long a lower pid that
 *   gained an existing socket (fd passing, fork) or a holder that let one go can go unnoticed.
 */
export class SocketOwnerIndex {
  private held = new Map<number, { pid: number; fd: string }>();
  private unseen = new Set<number>();
  /** Per holder: its start time and open-file count when its sockets were last verified. */
  private holders = new Map<number, { start: string | null; files: number }>();
  private reuses = 0;
  /** Whether procRoot is procfs, whose /proc/<pid>/fd reports its number of entries as its size. */
  private readonly countsFiles: boolean;

  constructor(
    private readonly procRoot: string,
    private readonly fullWalkEvery: number,
  ) {
    this.countsFiles = tryRead(() => statfsSync(procRoot).type === PROC_SUPER_MAGIC) ?? false;
  }

  resolve(inodes: ReadonlySet<number>): Map<number, number> {
    if (this.reuses < this.fullWalkEvery - 1) {
      const fresh = this.revalidate(inodes);
      if (fresh !== null && (fresh.size === 0 || this.findAmongHolders(fresh))) {
        this.reuses += 1;
        const owners = new Map<number, number>();
        for (const inode of inodes) {
          const h = this.held.get(inode);
          if (h) owners.set(inode, h.pid);
        }
        return owners;
      }
    }
    this.reuses = 0;
    this.held = walkSocketHolders(this.procRoot, inodes);
    this.unseen = new Set([...inodes].filter((i) => !this.held.has(i)));
    this.holders = new Map();
    for (const { pid } of this.held.values()) if (!this.holders.has(pid)) this.holders.set(pid, this.fingerprint(pid));
    return new Map([...this.held].map(([inode, h]) => [inode, h.pid]));
  }

  /**
   * Checks the remembered owners of `inodes`; returns the inodes never seen before (to be
   * found), or null when a remembered owner no longer holds its socket.
   */
  private revalidate(inodes: ReadonlySet<number>): Set<number> | null {
    const fresh = new Set<number>();
    const byPid = new Map<number, number[]>();
    for (const inode of inodes) {
      if (this.unseen.has(inode)) continue;
      const h = this.held.get(inode);
      if (!h) {
        fresh.add(inode);
        continue;
      }
      const list = byPid.get(h.pid);
      if (list) list.push(inode);
      else byPid.set(h.pid, [inode]);
    }
    for (const [pid, list] of byPid) {
      const now = this.fingerprint(pid);
      const then = this.holders.get(pid);
      if (then && now.files > 0 && now.start !== null && now.start === then.start && now.files === then.files) continue;
      for (const inode of list) {
        const h = this.held.get(inode)!;
        try {
          if (readlinkSync(`${this.procRoot}/${pid}/fd/${h.fd}`) !== `socket:[${inode}]`) return null;
        } catch {
          return null;
        }
      }
      this.holders.set(pid, now);
    }
    return fresh;
  }

  /** Looks for new sockets in the fds of the processes that hold sockets already; true when all were found. */
  private findAmongHolders(fresh: Set<number>): boolean {
    const found = walkSocketHolders(this.procRoot, fresh, [...this.holders.keys()]);
    if (found.size < fresh.size) return false;
    for (const [inode, h] of found) {
      this.held.set(inode, h);
      this.holders.set(h.pid, this.fingerprint(h.pid));
    }
    return true;
  }

  /** A process's start time (field 22 of /proc/<pid>/stat) and its number of open files (0: unknown). */
  private fingerprint(pid: number): { start: string | null; files: number } {
    const dir = `${this.procRoot}/${pid}`;
    const stat = tryRead(() => readFileSync(`${dir}/stat`, 'latin1'));
    // The command name may hold spaces and parentheses: fields are counted after the last ')'.
    const start = stat === null ? null : (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null);
    const files = this.countsFiles ? (tryRead(() => statSync(`${dir}/fd`).size) ?? 0) : 0;
    return { start, files };
  }
}

/**
 * Pids are walked in ascending order (all of them, or `only` these), so the first holder found is
 * the lowest one, and the walk stops once every inode has one. Processes we may not inspect (another user's when not root, a
 * process that just exited) are skipped: their sockets stay unowned rather than guessed.
 */
export function walkSocketHolders(procRoot: string, inodes: ReadonlySet<number>, only?: readonly number[]): Map<number, { pid: number; fd: string }> {
  const found = new Map<number, { pid: number; fd: string }>();
  if (inodes.size === 0) return found;
  const pids: number[] = only ? [...only] : [];
  if (!only) {
    for (const name of readdirSync(procRoot)) {
      const c = name.charCodeAt(0);
      if (c >= 48 && c <= 57) pids.push(Number(name));
    }
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
      const inode = Number(link.slice(8, -1));
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
