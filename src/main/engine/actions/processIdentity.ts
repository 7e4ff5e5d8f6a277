import { readFileSync, readlinkSync } from 'node:fs';

/**
 * What tells a running process from a later one given the same pid, read from /proc: its start
 * time in clock ticks since boot (field 22 of /proc/<pid>/stat), its executable and its owner.
 * Linux only; elsewhere nothing is known (null), and Portent then never signals a process.
 */
export interface LiveProcess {
  pid: number;
  startTicks: number;
  /** Null when it cannot be read (another user's process, a kernel thread). */
  exe: string | null;
  name: string | null;
  /** Effective uid: the one the kernel checks a signal against. */
  uid: number | null;
}

/** The kernel reports /proc times in USER_HZ, which is 100 on every Linux architecture. */
export const CLOCK_TICKS_PER_SECOND = 100;

function read<T>(f: () => T): T | null {
  try {
    return f();
  } catch {
    return null;
  }
}

/**
 * The process with this pid now, or null when there is none (or only a zombie, which has ended
 * and waits for its parent). The command name may hold spaces and parentheses: the fields are
 * counted after the last ')'.
 */
export function readProcess(pid: number, procRoot = '/proc'): LiveProcess | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  const dir = `${procRoot}/${pid}`;
  const stat = read(() => readFileSync(`${dir}/stat`, 'latin1'));
  if (stat === null) return null;
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 2).split(' ');
  const state = fields[0];
  const startTicks = Number(fields[19]);
  if (state === 'Z' || state === 'X' || !Number.isSafeInteger(startTicks)) return null;
  const status = read(() => readFileSync(`${dir}/status`, 'utf8'));
  const uid = status === null ? null : /^Uid:\s+\d+\s+(\d+)/m.exec(status)?.[1];
  return {
    pid,
    startTicks,
    exe: read(() => readlinkSync(`${dir}/exe`)),
    name: stat.slice(stat.indexOf('(') + 1, close) || null,
    uid: uid == null ? null : Number(uid),
  };
}

/** When the machine booted (ms since the epoch), from /proc/stat; null where unknown. */
export function bootTime(procRoot = '/proc'): number | null {
  const stat = read(() => readFileSync(`${procRoot}/stat`, 'utf8'));
  const btime = stat === null ? undefined : /^btime (\d+)$/m.exec(stat)?.[1];
  return btime === undefined ? null : Number(btime) * 1000;
}

/** When a process started (ms since the epoch), from its start ticks and the boot time. */
export function startedAtMs(startTicks: number, boot: number): number {
  return boot + (startTicks * 1000) / CLOCK_TICKS_PER_SECOND;
}
