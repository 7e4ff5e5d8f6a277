/**
 * Packet capture throughput and cost on loopback, as one JSON object on stdout.
 *
 *   sudo npx tsx bench/capture.ts [--seconds 10] [--buffer-mib N]
 *
 * Phases (each on its own UDP port, filtered to it):
 * - decode-only: decode + aggregate of recorded frames, no capture, for the headroom;
 * - flood-in-process: a sender pushes UDP over lo as fast as it can; Portent captures, decodes
 *   and aggregates in this process while `tcpdump -i lo -w /dev/null` captures the same
 *   traffic as the reference; also how long this process's event loop was held;
 * - flood-child-process: the same flood captured by CaptureProcess (the shipping setup); the
 *   event-loop figure is then the parent's, which draws the UI;
 * - flood-helper-process, flood-helper-thread: the same, captured by the capture helper built in
 *   native/capture and decoded in a capture process (the desktop app's setup) or in a worker
 *   thread of this process (the headless monitor's);
 * - steady-1000pps: 1,000 packets/s, sent one at a time and in bursts of 10, CPU as % of one
 *   core.
 * `--buffer-mib` sets the kernel ring of the floods and the steady phases (the default is
 * DEFAULT_BUFFER_SIZE, the `capture.bufferMb` setting's default), to compare ring sizes.
 * Kernel drops come from pcap_stats() (patched cap; null without the patch). With the patch the
 * capture runs without immediate mode (TPACKET_V3 blocks, DEFAULT_BUFFER_TIMEOUT_MS).
 * The sender is a Perl loop (Perl ships with Debian and macOS): it binds the port it sends to
 * and never reads, so the kernel drops datagrams at the socket, after the capture tap.
 */
import { execFileSync, spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { CaptureProcess } from '../src/main/engine/collect/capture/captureProcess';
import { threadLauncher } from '../src/main/engine/collect/capture/childLauncher';
import type { CaptureReport } from '../src/main/engine/collect/capture/captureSummary';
import { decodePacket } from '../src/main/engine/collect/capture/decode';
import { FlowTable } from '../src/main/engine/collect/capture/flows';
import { LinkType } from '../src/main/engine/collect/capture/linkType';
import { isPatched, loadCap } from '../src/main/engine/collect/capture/capBinding';
import { DEFAULT_BUFFER_SIZE, DEFAULT_BUFFER_TIMEOUT_MS, DEFAULT_SNAPLEN, openLiveCapture } from '../src/main/engine/collect/capture/liveCapture';
import { currentLocalAddresses } from '../src/main/engine/collect/capture/localAddresses';
import { builtCaptureHelper } from '../src/main/engine/collect/capture/captureHelper';

const here = path.dirname(fileURLToPath(import.meta.url));
const argSeconds = process.argv.indexOf('--seconds');
const SECONDS = argSeconds > 0 ? Number(process.argv[argSeconds + 1]) : 10;
const argBuffer = process.argv.indexOf('--buffer-mib');
const HELPER = builtCaptureHelper();
const BUFFER_SIZE = argBuffer > 0 ? Number(process.argv[argBuffer + 1]) * 2 ** 20 : DEFAULT_BUFFER_SIZE;
const IFACE = process.platform === 'darwin' ? 'lo0' : 'lo';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const SENDER = `
use Socket; use Time::HiRes qw(time sleep);
my ($port, $dur, $rate, $burst) = @ARGV;
socket(S, PF_INET, SOCK_DGRAM, 0) or die "socket: $!";
bind(S, sockaddr_in($port, inet_aton("127.0.0.1"))) or die "bind: $!";
setsockopt(S, SOL_SOCKET, SO_RCVBUF, 4096);
my $to = sockaddr_in($port, inet_aton("127.0.0.1")); my $m = "x" x 32;
my $t0 = time; my $end = $t0 + $dur; my $n = 0;
if ($rate > 0) {
  while ((my $now = time) < $end) {
    my $due = int(($now - $t0) * $rate / $burst) * $burst;
    while ($n < $due) { send(S, $m, 0, $to); $n++ }
    sleep($burst / $rate / 4);
  }
} else {
  while (1) { for (1..256) { send(S, $m, 0, $to) } $n += 256; last if time >= $end }
}
printf("{\\"sent\\":%d,\\"seconds\\":%.3f}\\n", $n, time - $t0);
`;

function runSender(port: number, seconds: number, rate = 0, burst = 1): Promise<{ sent: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('perl', ['-e', SENDER, String(port), String(seconds), String(rate), String(burst)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as { sent: number; seconds: number }) : reject(new Error(`sender exited ${code}`))));
  });
}

let nextPort = 41000 + Math.floor(Math.random() * 2000);
const freshPort = () => nextPort++;

interface TcpdumpStats {
  captured: number;
  receivedByFilter: number;
  droppedByKernel: number;
}

async function startTcpdump(filter: string): Promise<() => Promise<TcpdumpStats | null>> {
  const child = spawn('tcpdump', ['-i', IFACE, '-n', '-w', '/dev/null', filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const ready = await new Promise<boolean>((resolve) => {
    child.stderr.on('data', () => err.includes('listening on') && resolve(true));
    child.on('error', () => resolve(false));
    child.on('exit', () => resolve(false));
  });
  if (!ready) return async () => null;
  return () =>
    new Promise((resolve) => {
      child.once('exit', () => {
        const n = (label: string) => Number(new RegExp(`(\\d+) packets? ${label}`).exec(err)?.[1] ?? NaN);
        resolve({ captured: n('captured'), receivedByFilter: n('received by filter'), droppedByKernel: n('dropped by kernel') });
      });
      child.kill('SIGINT');
    });
}

function loopMonitor() {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  return () => {
    h.disable();
    return { maxMs: round(h.max / 1e6), p99Ms: round(h.percentile(99) / 1e6) };
  };
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

/** utime + stime of another process, ms (Linux). */
function processCpuMs(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticks;
  } catch {
    return null;
  }
}

function decodeOnly() {
  // Frames of the kinds the flood produces plus TCP and DNS, decoded and aggregated in a loop.
  const frames: Buffer[] = [];
  for (let i = 0; i < 64; i++) {
    const payload = Buffer.alloc(32 + i);
    const udp = Buffer.alloc(8);
    udp.writeUInt16BE(40000 + i, 0);
    udp.writeUInt16BE(443, 2);
    udp.writeUInt16BE(8 + payload.length, 4);
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + 8 + payload.length, 2);
    ip[8] = 64;
    ip[9] = 17;
    Buffer.from([10, 0, 0, 2]).copy(ip, 12);
    Buffer.from([93, 184, 216, i]).copy(ip, 16);
    const eth = Buffer.alloc(14);
    eth.writeUInt16BE(0x0800, 12);
    frames.push(Buffer.concat([eth, ip, udp, payload]));
  }
  const flows = new FlowTable({ addresses: new Set(['10.0.0.2']) });
  const n = 1_000_000;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const f = frames[i & 63]!;
    const r = decodePacket(f, LinkType.EN10MB, f.length, f.length, i);
    if (r.kind === 'packet') flows.add(r);
  }
  const ms = performance.now() - t0;
  return { packets: n, packetsPerSec: Math.round((n / ms) * 1000), cpuMs: round(cpuMs(process.cpuUsage(cpu0))), flows: flows.size };
}

async function floodInProcess(bufferSize = BUFFER_SIZE, seconds = SECONDS, withTcpdump = true) {
  const port = freshPort();
  const filter = `udp and src port ${port} and dst port ${port}`;
  const stopTcpdump = withTcpdump ? await startTcpdump(filter) : async () => null;
  const flows = new FlowTable(currentLocalAddresses());
  const cap = openLiveCapture({ iface: IFACE, filter, bufferSize, onBatch: (b) => flows.addAll(b.packets) });
  const lag = loopMonitor();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const sender = await runSender(port, seconds);
  await sleep(500);
  cap.stop();
  const wallMs = performance.now() - t0;
  const cpu = cpuMs(process.cpuUsage(cpu0));
  const loop = lag();
  const tcpdump = await stopTcpdump();
  const counters = cap.counters();
  const pcap = cap.pcapStats();
  const aggregated = flows.drain().flows.reduce((s, f) => s + f.packets, 0);
  return {
    bufferSizeMiB: bufferSize / 2 ** 20,
    sent: sender.sent,
    sentPerSec: Math.round(sender.sent / sender.seconds),
    seen: counters.seen,
    decoded: counters.decoded,
    aggregated,
    capturedPerSec: Math.round(counters.seen / sender.seconds),
    missedBySource: sender.sent - counters.seen,
    kernelDrops: counters.kernelDrops,
    // On lo the kernel hands each packet to packet sockets twice (out and in); libpcap drops the outgoing copy.
    pcapStats: pcap,
    cpuMs: round(cpu),
    cpuPercentOfOneCore: round((cpu / wallMs) * 100),
    eventLoop: loop,
    tcpdump,
    seenVsTcpdumpCaptured: tcpdump ? round(counters.seen / tcpdump.captured, 3) : null,
  };
}

/**
 * The flood captured by a capture process that opens the capture itself or, given `helper`,
 * through the capture helper, decoded in a capture process (as the desktop app's utility process
 * does) or, `inThread`, in a worker thread of this process as the headless monitor runs it
 * (threadLauncher; the parent's CPU then includes the thread's).
 */
async function floodChildProcess(helper?: string, inThread = false) {
  const port = freshPort();
  const reports: CaptureReport[] = [];
  const proc = new CaptureProcess({
    entry: path.join(here, '../src/main/engine/collect/capture/captureChild.ts'),
    execArgv: ['--import', 'tsx'],
    ...(helper ? { helper } : {}),
    ...(inThread ? { launcher: threadLauncher } : {}),
    iface: IFACE,
    filter: `udp and src port ${port} and dst port ${port}`,
    bufferSize: BUFFER_SIZE,
    reportIntervalMs: 1000,
    onReport: (r) => reports.push(r),
  });
  const state = await proc.start();
  if (state.state !== 'running') return { error: state };
  const pid = proc.pid ?? -1;
  const childCpu0 = processCpuMs(pid);
  const lag = loopMonitor();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const sender = await runSender(port, SECONDS);
  await sleep(500);
  const childCpu1 = processCpuMs(pid);
  const wallMs = performance.now() - t0;
  const parentCpu = cpuMs(process.cpuUsage(cpu0));
  const loop = lag();
  await proc.stop();
  const last = reports.at(-1);
  const aggregated = reports.reduce((s, r) => s + r.flows.flows.reduce((t, f) => t + f.packets, 0), 0);
  const childCpu = childCpu0 !== null && childCpu1 !== null ? childCpu1 - childCpu0 : null;
  return {
    sent: sender.sent,
    sentPerSec: Math.round(sender.sent / sender.seconds),
    seen: last?.counters.seen ?? 0,
    aggregated,
    capturedPerSec: Math.round((last?.counters.seen ?? 0) / sender.seconds),
    missedBySource: sender.sent - (last?.counters.seen ?? 0),
    // Each report carries the drops of its own interval.
    kernelDrops: reports.some((r) => r.counters.kernelDrops !== null) ? reports.reduce((s, r) => s + (r.counters.kernelDrops ?? 0), 0) : null,
    reports: reports.length,
    childCpuPercentOfOneCore: childCpu === null ? null : round((childCpu / wallMs) * 100),
    parentCpuPercentOfOneCore: round((parentCpu / wallMs) * 100),
    parentEventLoop: loop,
  };
}

async function steady(rate: number, burst: number) {
  const port = freshPort();
  let decoded = 0;
  const flows = new FlowTable(currentLocalAddresses());
  const cap = openLiveCapture({
    iface: IFACE,
    filter: `udp and src port ${port} and dst port ${port}`,
    bufferSize: BUFFER_SIZE,
    onBatch: (b) => {
      decoded += b.packets.length;
      flows.addAll(b.packets);
    },
  });
  await sleep(200);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const sender = await runSender(port, SECONDS, rate, burst);
  await sleep(300);
  const wallMs = performance.now() - t0;
  const cpu = cpuMs(process.cpuUsage(cpu0));
  cap.stop();
  return { rate, burst, kernelDrops: cap.counters().kernelDrops, sent: sender.sent, decoded: cap.counters().seen === decoded ? decoded : { decoded, seen: cap.counters().seen }, cpuMs: round(cpu), cpuPercentOfOneCore: round((cpu / wallMs) * 100, 2) };
}

async function sweep(mibs: number[]) {
  const out = [];
  for (const mib of mibs) {
    const r = await floodInProcess(mib * 2 ** 20, Math.min(SECONDS, 5), false);
    out.push({ bufferSizeMiB: mib, sentPerSec: r.sentPerSec, capturedPerSec: r.capturedPerSec, lostShare: round(r.missedBySource / r.sent, 3), kernelDrops: r.kernelDrops });
  }
  return out;
}

async function main(): Promise<void> {
  const result = {
    bench: 'capture',
    seconds: SECONDS,
    environment: {
      node: process.version,
      platform: `${process.platform} ${os.release()}`,
      cores: os.cpus().length,
      iface: IFACE,
      capPatched: isPatched(loadCap()),
      snaplen: DEFAULT_SNAPLEN,
      bufferSizeBytes: BUFFER_SIZE,
      bufferTimeoutMs: DEFAULT_BUFFER_TIMEOUT_MS,
      sender: 'perl send() loop to its own bound port',
    },
    decodeOnly: decodeOnly(),
    floodInProcess: await floodInProcess(),
    floodChildProcess: await floodChildProcess(),
    // The same through the capture helper built in native/capture, decoded in a thread, as the monitor runs an installed helper.
    floodHelperProcess: HELPER ? await floodChildProcess(HELPER) : 'no capture helper built',
    floodHelperThread: HELPER ? await floodChildProcess(HELPER, true) : 'no capture helper built',
    steady1000pps: [await steady(1000, 1), await steady(1000, 10)],
    // How long a stall the capture survives depends on the ring: TPACKET_V3 packs small packets
    // (patched cap), TPACKET_V2 gives each a 64 KiB slot on lo (unpatched). Shorter floods, no tcpdump.
    ringSweep: await sweep([2, 8, 32]),
  };
  console.log(JSON.stringify(result, null, 2));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
