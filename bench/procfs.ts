import fs from 'node:fs';
import path from 'node:path';

/** The pids whose parent is `pid` (any of its threads), from /proc. Linux only. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out; // The process ended.
  }
  for (const task of tasks) {
    try {
      out.push(...fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/** Every process below `pid` (children, grandchildren, ...), parents before their children. */
export function descendantsOf(pid: number): number[] {
  const out: number[] = [];
  for (let queue = childrenOf(pid); queue.length > 0; ) {
    const next = queue.shift()!;
    out.push(next);
    queue.push(...childrenOf(next));
  }
  return out;
}

/** Memory of one process in kB: resident (RSS, and its high-water mark), proportional (PSS) and unique (USS). */
export interface ProcessMemory {
  rss: number;
  hwm: number;
  pss: number;
  uss: number;
}

/**
 * RSS and its high-water mark from /proc/PID/status; PSS and USS (private clean + private dirty)
 * from /proc/PID/smaps_rollup. RSS counts every shared page (the Node binary's code, libc) in each
 * process that maps it, so the RSS of two Node processes double counts the binary; PSS divides a
 * shared page among the processes that map it; USS is what ending the process would give back.
 * Null when the process is gone.
 */
export function memoryOf(pid: number): ProcessMemory | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const field = (text: string, name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    return {
      rss: field(status, 'VmRSS'),
      hwm: field(status, 'VmHWM'),
      pss: field(rollup, 'Pss'),
      uss: field(rollup, 'Private_Clean') + field(rollup, 'Private_Dirty'),
    };
  } catch {
    return null;
  }
}

/** A short name for a process of Portent's: what its command line runs (script or program). */
export function processName(pid: number): string {
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const script = argv.slice(1).find((a) => /\.(c|m)?(j|t)s$/.test(a));
    return path.basename(script ?? argv[0] ?? String(pid));
  } catch {
    return String(pid);
  }
}

/** Calls `onLine` with each whole line a stream writes (a monitor's JSON log on stderr). */
export function eachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffered = '';
  stream.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
}
