/**
 * Port-occupancy scan benchmark: `npx tsx bench/scan.ts` prints one JSON object on stdout.
 *
 * Times the kernel-table scanner with ~50 and ~1,000 sockets of our own open, and, in the same
 * run, the method Portent replaces (bind every TCP/IPv4 port 1..65534 on 0.0.0.0 and close it
 * at once), so the two are compared as a ratio on the same machine under the same load.
 * Node cannot bind() a TCP socket without listen(), so the probe pays for listen() too; it is
 * implemented here only, never in the product.
 *
 * Each size uses one scanner for all its scans, as the monitor does across rounds: `cold_ms` is
 * its first scan, `warm_*` the steady state with its caches filled. Every figure comes with how
 * idle the CPUs were meanwhile, since on a shared machine the other users' load decides much
 * of it.
 *
 * On Linux each size is timed twice over the same sockets: with the table source the scanner
 * picks by itself (`source`: netlink where the portent-sockdiag addon works), and under `proc`
 * with the tables forced to /proc/net, together with the floor under any /proc scan
 * (`kernel_walk_ms`: reading /proc/net/tcp6, which walks the kernel's established-connection
 * hash; a /proc scan does that for tcp and tcp6).
 */
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import net from 'node:net';
import { createSocketScanner, type ScannerOptions } from '../src/main/engine/collect/sockets';
import { LinuxSocketScanner } from '../src/main/engine/collect/sockets/linuxSockets';

const SCANS = 200;
const TARGET_MS_AT_50 = 5;
const TARGET_SPEEDUP = 100;
const BIND_PASSES = 3;
/** fds kept free for stdio, the scanner's own reads and the runtime. */
const FD_HEADROOM = 64;

type Closer = () => Promise<void>;

function fdLimit(): number {
  try {
    const text = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    return text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text);
  } catch {
    return 1024;
  }
}

function listenTcp(host: string): Promise<Closer | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(null));
    server.listen({ port: 0, host }, () => resolve(() => new Promise((done) => server.close(() => done()))));
  });
}

function bindUdp(type: 'udp4' | 'udp6', host: string): Promise<Closer | null> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(type);
    socket.once('error', () => resolve(null));
    socket.bind(0, host, () => resolve(() => new Promise((done) => socket.close(() => done()))));
  });
}

/** 60 % TCP, 40 % UDP, alternating IPv4 and IPv6 so that all four tables have rows. */
async function openSockets(n: number): Promise<Closer[]> {
  const closers: Closer[] = [];
  for (let i = 0; i < n; i++) {
    const v6 = i % 2 === 1;
    const closer =
      i % 5 < 3
        ? ((await listenTcp(v6 ? '::' : '127.0.0.1')) ?? (await listenTcp('127.0.0.1')))
        : ((await bindUdp(v6 ? 'udp6' : 'udp4', v6 ? '::1' : '127.0.0.1')) ?? (await bindUdp('udp4', '127.0.0.1')));
    if (closer) closers.push(closer);
  }
  return closers;
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function timeScans(target: number, limit: number) {
  const count = Math.max(0, Math.min(target, limit - FD_HEADROOM));
  const closers = await openSockets(count);
  try {
    const chosen = await timeSource({});
    const proc = process.platform === 'linux' ? { ...(await timeSource({ source: 'proc' })), kernel_walk_ms: kernelWalkMs() } : null;
    return { opened: closers.length, ...chosen, proc };
  } finally {
    await Promise.all(closers.map((close) => close()));
  }
}

/** SCANS warm scans after one cold one, all by one scanner made with `options`. */
async function timeSource(options: ScannerOptions) {
  const scanner = createSocketScanner(process.platform, options);
  let start = performance.now();
  const first = await scanner.scan();
  const coldMs = performance.now() - start;
  const times: number[] = [];
  const cpuBefore = process.cpuUsage();
  const idleBefore = machineCpu();
  for (let i = 0; i < SCANS; i++) {
    start = performance.now();
    await scanner.scan();
    times.push(performance.now() - start);
  }
  const cpu = process.cpuUsage(cpuBefore);
  const idleAfter = machineCpu();
  times.sort((a, b) => a - b);
  return {
    source: scanner instanceof LinuxSocketScanner ? scanner.tableSource : 'lsof',
    sockets: first.sockets.length,
    cold_ms: round(coldMs),
    warm_median_ms: round(percentile(times, 50)),
    warm_p95_ms: round(percentile(times, 95)),
    cpu_ms_per_scan: round((cpu.user + cpu.system) / 1000 / SCANS),
    machine_idle_pct: idlePercent(idleBefore, idleAfter),
  };
}

/** Idle and total jiffies of all CPUs from /proc/stat; null where there is none. */
function machineCpu(): { idle: number; total: number } | null {
  try {
    const fields = readFileSync('/proc/stat', 'latin1').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return { idle: fields[3]! + (fields[4] ?? 0), total: fields.reduce((a, b) => a + b, 0) };
  } catch {
    return null;
  }
}

function idlePercent(before: ReturnType<typeof machineCpu>, after: ReturnType<typeof machineCpu>): number | null {
  if (!before || !after || after.total === before.total) return null;
  return Math.round((100 * (after.idle - before.idle)) / (after.total - before.total));
}

/**
 * Median of 20 reads of /proc/net/tcp6 up to its first short read, as the scanner reads it (its
 * listeners, then one walk of the hash); null off Linux.
 */
function kernelWalkMs(): number | null {
  if (process.platform !== 'linux') return null;
  const buf = Buffer.allocUnsafe(64 * 1024);
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const start = performance.now();
    const fd = openSync('/proc/net/tcp6', 'r');
    while (readSync(fd, buf, 0, buf.length, null) >= 4096 - 512);
    closeSync(fd);
    times.push(performance.now() - start);
  }
  return round(percentile(times.sort((a, b) => a - b), 50));
}

function probePort(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '0.0.0.0', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

async function bindProbePass(): Promise<number> {
  const start = performance.now();
  for (let port = 1; port <= 65534; port++) await probePort(port);
  return performance.now() - start;
}

async function main(): Promise<void> {
  const limit = fdLimit();
  const scan50 = await timeScans(50, limit);
  const scan1000 = await timeScans(1000, limit);
  const passes: number[] = [];
  for (let i = 0; i < BIND_PASSES; i++) passes.push(await bindProbePass());
  passes.sort((a, b) => a - b);
  const bindProbeMs = passes[Math.floor(passes.length / 2)]!;
  process.stdout.write(
    `${JSON.stringify({
      platform: process.platform,
      fd_limit: Number.isFinite(limit) ? limit : 'unlimited',
      scan_50: scan50,
      scan_1000: scan1000,
      bind_probe_ms: round(bindProbeMs),
      speedup_vs_bind_probe_at_50: Math.round(bindProbeMs / scan50.warm_median_ms),
      speedup_vs_bind_probe_at_50_proc: scan50.proc ? Math.round(bindProbeMs / scan50.proc.warm_median_ms) : null,
      target: {
        warm_median_at_50_ms_max: TARGET_MS_AT_50,
        speedup_min: TARGET_SPEEDUP,
        met: scan50.warm_median_ms <= TARGET_MS_AT_50 && bindProbeMs / scan50.warm_median_ms >= TARGET_SPEEDUP,
      },
    })}\n`,
  );
}

await main();
