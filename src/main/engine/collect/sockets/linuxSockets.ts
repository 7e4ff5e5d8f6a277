import { close, open, read, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import os from 'node:os';
import { STATE_CLOSE, STATE_ESTABLISHED, STATE_LISTEN, parseProcNet, type ProcNetRow } from './procNet';
import { compareSockets, countConnections, type Proto, type Snapshot, type SocketEntry, type SocketScanner } from './types';

export interface LinuxScannerOptions {
  /** Where procfs is mounted; tests point it at a fixture tree. */
  procRoot?: string;
  passwdPath?: string;
  /** Byte order of the kernel that wrote `procRoot/net/*`; defaults to this machine's. */
  littleEndian?: boolean;
  /** Walk every /proc/<pid>/fd at least once in this many scans, even when nothing seems changed. */
  fullWalkEvery?: number;
  now?: () => number;
}

interface Owner {
  pid: number;
  process: string | null;
  exe: string | null;
  user: string | null;
}

const TABLES: ReadonlyArray<{ file: string; proto: Proto; family: 4 | 6 }> = [
  { file: 'tcp', proto: 'tcp', family: 4 },
  { file: 'tcp6', proto: 'tcp', family: 6 },
  { file: 'udp', proto: 'udp', family: 4 },
  { file: 'udp6', proto: 'udp', family: 6 },
];

/**
 * Linux scanner: the kernel's socket tables from /proc/net, owners from /proc/<pid>/fd.
 *
 * A socket shared by several processes (a pre-forking server, systemd socket activation) is
 * reported once, owned by the LOWEST pid holding it (`ss -p` lists them all).
 *
 * /proc/<pid> reads are synchronous: they are hundreds of tiny procfs calls, and a promise per
 * call costs more than the call (a full fd walk on the 2-core dev VM: 2.7 ms synchronous,
 * 15-17 ms with fs/promises). Only the four table reads go to libuv's pool: they are the slow
 * part, and tcp and tcp6 can be read side by side when a core is free.
 */
export class LinuxSocketScanner implements SocketScanner {
  private readonly procRoot: string;
  private readonly littleEndian: boolean;
  private readonly now: () => number;
  private readonly users: PasswdNames;
  private readonly owners: SocketOwnerIndex;

  constructor(options: LinuxScannerOptions = {}) {
    this.procRoot = options.procRoot ?? '/proc';
    this.littleEndian = options.littleEndian ?? os.endianness() === 'LE';
    this.now = options.now ?? Date.now;
    this.users = new PasswdNames(options.passwdPath ?? '/etc/passwd');
    this.owners = new SocketOwnerIndex(this.procRoot, options.fullWalkEvery ?? 10);
  }

  async scan(): Promise<Snapshot> {
    const takenAt = this.now();
    const texts = await Promise.all(TABLES.map((t) => readProcTable(`${this.procRoot}/net/${t.file}`, t.family === 6)));
    const bound: Array<{ proto: Proto; row: ProcNetRow }> = [];
    const connected: Array<{ proto: Proto; remotePort: number }> = [];
    TABLES.forEach((table, i) => {
      for (const row of parseProcNet(texts[i]!, table.family, this.littleEndian)) {
        if (isBound(table.proto, row.state)) bound.push({ proto: table.proto, row });
        else if (row.state === STATE_ESTABLISHED) connected.push({ proto: table.proto, remotePort: row.remotePort });
      }
    });

    const wanted = new Set<string>();
    for (const { row } of bound) if (row.inode !== 0) wanted.add(String(row.inode));
    const pidByInode = this.owners.resolve(wanted);
    if (pidByInode.size > 0) this.users.refresh();

    const owners = new Map<number, Owner>();
    const sockets = bound.map(({ proto, row }): SocketEntry => {
      const pid = pidByInode.get(String(row.inode));
      let owner = pid === undefined ? undefined : owners.get(pid);
      if (pid !== undefined && !owner) {
        owner = readOwner(this.procRoot, pid, this.users);
        owners.set(pid, owner);
      }
      return {
        proto,
        family: row.family,
        address: row.localAddress,
        port: row.localPort,
        pid: owner?.pid ?? null,
        process: owner?.process ?? null,
        exe: owner?.exe ?? null,
        user: owner?.user ?? null,
      };
    });
    sockets.sort(compareSockets);
    return { takenAt, sockets, connections: countConnections(connected) };
  }
}

/** TCP counts when listening; UDP has no listen, so a bound socket with no peer is its equivalent. */
function isBound(proto: Proto, state: number): boolean {
  return proto === 'tcp' ? state === STATE_LISTEN : state === STATE_CLOSE;
}

/*
 * Each read() of /proc/net/tcp{,6} that reaches the end of the table walks the kernel's whole
 * established-connection hash (262,144 buckets on this 2-core VM: ~2.5 ms), and that includes
 * the final read() that only returns 0. seq_file fills at most one buffer (at least a 4 KiB
 * page) per read() and stops short of it only at the end of the table, so a read() clearly
 * shorter than a page already was the end: stopping there halves the cost.
 */
const SHORT_READ = 4096 - 512;
const CHUNK = 64 * 1024;

/** `optional`: a missing file is an empty table (tcp6/udp6 on a kernel without IPv6). */
export function readProcTable(path: string, optional = false): Promise<string> {
  return new Promise((resolve, reject) => {
    open(path, 'r', (openErr, fd) => {
      if (openErr) return optional && openErr.code === 'ENOENT' ? resolve('') : reject(openErr);
      const buf = Buffer.allocUnsafe(CHUNK);
      const chunks: string[] = [];
      const finish = (err: Error | null): void => close(fd, () => (err ? reject(err) : resolve(chunks.join(''))));
      const next = (): void => {
        read(fd, buf, 0, CHUNK, null, (readErr, n) => {
          if (readErr) return finish(readErr);
          chunks.push(buf.toString('latin1', 0, n));
          if (n < SHORT_READ) return finish(null);
          next();
        });
      };
      next();
    });
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

function readOwner(procRoot: string, pid: number, users: PasswdNames): Owner {
  const dir = `${procRoot}/${pid}`;
  const comm = tryRead(() => readFileSync(`${dir}/comm`, 'utf8'));
  const status = tryRead(() => readFileSync(`${dir}/status`, 'utf8'));
  const uid = status === null ? null : effectiveUid(status);
  return {
    pid,
    process: comm === null ? null : comm.replace(/\n$/, ''),
    // Unreadable without ptrace rights over the process (another user's, or a kernel thread).
    exe: tryRead(() => readlinkSync(`${dir}/exe`)),
    user: uid === null ? null : users.name(uid),
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

/**
 * uid -> login name from a passwd file, re-read only when the file changes. Users known only to
 * NSS (LDAP, systemd-homed) are not in it and come back as the numeric uid.
 */
class PasswdNames {
  private version = '';
  private names = new Map<number, string>();

  constructor(private readonly path: string) {}

  refresh(): void {
    let version: string;
    try {
      const st = statSync(this.path);
      version = `${st.ino}:${st.mtimeMs}:${st.size}`;
    } catch {
      version = 'missing';
    }
    if (version === this.version) return;
    this.version = version;
    this.names = new Map();
    const text = tryRead(() => readFileSync(this.path, 'utf8')) ?? '';
    for (const line of text.split('\n')) {
      const [name, , uid] = line.split(':');
      // The first entry wins, as with getpwuid() when two names share a uid.
      if (name && uid && /^\d+$/.test(uid) && !this.names.has(Number(uid))) this.names.set(Number(uid), name);
    }
  }

  name(uid: number): string {
    return this.names.get(uid) ?? String(uid);
  }
}
