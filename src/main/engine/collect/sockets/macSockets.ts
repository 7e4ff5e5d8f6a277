import { execFile } from 'node:child_process';
import { lsofToSockets, parseLsofFields, type LsofFile } from './lsofParser';
import type { Snapshot, SocketScanner } from './types';

/** Runs a program and resolves with its stdout. */
export type CommandRunner = (file: string, args: readonly string[]) => Promise<string>;

export interface MacScannerOptions {
  run?: CommandRunner;
  now?: () => number;
}

/*
 * Absolute paths: a monitor must not run whatever `lsof` comes first on a user's PATH.
 * One lsof call for every internet socket (each run walks every process, so not one per
 * protocol): -n -P no name lookups, -w no warnings, +c 0 the full command name instead of 9
 * characters, -Ts the TCP state as a `TST=` field, -F the fields lsofParser reads.
 */
export const LSOF = '/usr/sbin/lsof';
export const LSOF_ARGS: readonly string[] = ['-nP', '-w', '+c', '0', '-Ts', '-FpcuLfdtPnT', '-i'];

/** Program text of the given pids only (-a ANDs -p with -d). */
export function lsofTextArgs(pids: readonly number[]): string[] {
  return ['-nP', '-w', '-a', '-p', pids.join(','), '-d', 'txt', '-Fpfn'];
}

/**
 * macOS scanner. lsof's socket listing gives no executable path, so a second lsof call, for the
 * owners of listeners and connections only, lists their program text: lsof walks a process's
 * mapped regions by address and the executable is mapped first, below dyld and the shared
 * cache, so the first `txt` path is taken as exe. `ps -o comm=` was not used: on macOS it prints
 * argv[0], which is often a bare name (`nc`) and which any process may set to whatever it
 * likes. exe stays null when lsof shows no text (another user's process without root). Without
 * root, lsof only sees the user's own processes, so other users' sockets are missing rather
 * than listed with unknown owners.
 */
export class MacSocketScanner implements SocketScanner {
  private readonly run: CommandRunner;
  private readonly now: () => number;

  constructor(options: MacScannerOptions = {}) {
    this.run = options.run ?? runCommand;
    this.now = options.now ?? Date.now;
  }

  async scan(): Promise<Snapshot> {
    const takenAt = this.now();
    const { sockets, connected, connections } = lsofToSockets(parseLsofFields(await this.run(LSOF, LSOF_ARGS)));
    const owned = [...sockets, ...connected];
    const pids = [...new Set(owned.flatMap((s) => (s.pid === null ? [] : [s.pid])))].sort((a, b) => a - b);
    if (pids.length > 0) {
      const exes = executablesFromLsof(parseLsofFields(await this.run(LSOF, lsofTextArgs(pids))));
      for (const s of owned) s.exe = s.pid === null ? null : (exes.get(s.pid) ?? null);
    }
    return { takenAt, sockets, connected, connections };
  }
}

/** The first absolute `txt` path of each process. */
export function executablesFromLsof(files: readonly LsofFile[]): Map<number, string> {
  const exes = new Map<number, string>();
  for (const f of files) {
    if (f.fd === 'txt' && f.name?.startsWith('/') && !exes.has(f.pid)) exes.set(f.pid, f.name);
  }
  return exes;
}

/**
 * lsof exits 1 when nothing matched, when a listed pid has exited, or when some process vanished
 * mid-listing: its stdout is still the answer then.
 */
export function runCommand(file: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout) => {
      if (err && err.code !== 1) reject(new Error(`${file} failed: ${err.message}`));
      else resolve(stdout);
    });
  });
}
