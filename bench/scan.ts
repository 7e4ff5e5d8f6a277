/**
 * Port-occupancy scan benchmark: `npx tsx bench/scan.ts` prints one JSON object on stdout.
 *
 * Times the kernel-table scanner with ~50 and ~1,000 sockets of our own open, and, in the same
 * run, the method Portent replaces (bind every TCP/IPv4 port 1..65534 on 0.0.0.0 and close it
 * at once), so the two are compared as a ratio on the same machine under the same load.
 * Node cannot bind() a TCP socket without listen(), so the probe pays for listen() too; it is
 * implemented here only, never in the product.
 */
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { createSocketScanner } from '../src/main/engine/collect/sockets';

const SCANS = 200;
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
    const scanner = createSocketScanner();
    let start = performance.now();
    const first = await scanner.scan();
    const coldMs = performance.now() - start;
    const times: number[] = [];
    const cpuBefore = process.cpuUsage();
    for (let i = 0; i < SCANS; i++) {
      start = performance.now();
      await scanner.scan();
      times.push(performance.now() - start);
    }
    const cpu = process.cpuUsage(cpuBefore);
    times.sort((a, b) => a - b);
    return {
      median_ms: round(percentile(times, 50)),
      p95_ms: round(percentile(times, 95)),
      sockets: first.sockets.length,
      opened: closers.length,
      first_scan_ms: round(coldMs),
      cpu_ms_per_scan: round((cpu.user + cpu.system) / 1000 / SCANS),
    };
  } finally {
    await Promise.all(closers.map((close) => close()));
  }
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
      speedup_vs_bind_probe_at_50: Math.round(bindProbeMs / scan50.median_ms),
    })}\n`,
  );
}

await main();
