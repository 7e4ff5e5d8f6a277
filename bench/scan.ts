/**
 * Socket scan benchmark: `npx tsx bench/scan.ts` prints JSON lines on stdout.
 *
 * First line: the kernel-table scanner with ~50 and ~1,000 listening sockets of our own open
 * (on 127.0.0.1 and ::1), and, in the same run, the method Portent replaces (bind every
 * TCP/IPv4 port 1..65534 on 0.0.0.0 and close it at once), so the two are compared as a ratio
 * on the same machine under the same load.
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
 *
 * Then, one JSON line each, the whole scan with connections against its targets: 50
 * listeners plus 1,000 and plus 10,000 TCP connections that this process holds open to its own
 * listeners over loopback (127.0.0.1 and ::1 only), so 1,000 connections are 2,000 sockets,
 * both ends with an owner to find. Each source gets the warm median and p95, and `phases`
 * times the scan's parts on their own over the same sockets: the table dump (with sockstat),
 * the owner index's check of remembered owners (one readlink per socket) and its full fd walk
 * (one scan in ten); the rest of a warm scan is building the entries, the owners' facts and
 * sorting. Nothing is raised system-wide: when the open-file limit (`ulimit -n`) cannot hold
 * a case, the case runs with as many connections as it can and says so (`limited_by`), as it
 * does when connecting fails (EMFILE, a timeout). Opening is bounded in count and in time.
 *
 * Where it can (root, iproute2), each connection case runs a second time with the far ends in a
 * network namespace the bench creates (a veth pair, 10.213.9.0/24, only addresses inside it):
 * a listener there accepts the connections, so this machine's tables hold one socket per
 * connection, as they do for connections to other hosts, and 1,000 connections are 1,000
 * entries to find (`peer: "netns"`). The loopback runs, where the bench owns both ends, measure
 * twice as many.
 *
 * `--cases listeners,connections` (the default, both) picks the parts to run.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { createSocketScanner, type ScannerOptions } from '../src/main/engine/collect/sockets';
import { LinuxSocketScanner, SocketOwnerIndex, walkSocketHolders, type TableSource } from '../src/main/engine/collect/sockets/linuxSockets';
import { parseProcNet, parseSockstatInUse, type ProcNetRow } from '../src/main/engine/collect/sockets/procNet';
import { dumpTable, loadSockDiag, RowDecoder } from '../src/main/engine/collect/sockets/sockDiag';
import type { Proto } from '../src/main/engine/collect/sockets/types';
import { optionOf } from './args';

const SCANS = 200;
/** Warm scans stop early past this, so that a slow case still ends. */
const SCAN_BUDGET_MS = 30_000;
const TARGET_MS_AT_50 = 5;
/** Warm median targets of the whole scan with 50 listeners, by connections held. */
const CONNECTION_TARGETS: ReadonlyArray<{ connections: number; warmMedianMsMax: number }> = [
  { connections: 1000, warmMedianMsMax: 3 },
  { connections: 10_000, warmMedianMsMax: 30 },
];
const LISTENERS_WITH_CONNECTIONS = 50;
/** Connections opened at once, how long one may take, and how long a case may spend opening. */
const CONNECT_BATCH = 200;
const CONNECT_TIMEOUT_MS = 5_000;
const OPEN_DEADLINE_MS = 60_000;
/** Owner index reuse, as the monitor's scanner has it (LinuxScannerOptions.fullWalkEvery). */
const FULL_WALK_EVERY = 10;
const PHASE_RUNS = 30;
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

/**
 * Sockets the bench holds open on loopback, and what went wrong meanwhile: listeners first
 * (`listen`), then connections to its own TCP listeners (`connect`). `close` ends them all.
 */
class LoopbackLoad {
  private readonly closers: Closer[] = [];
  /** The TCP listeners, to connect to. */
  private readonly targets: Array<{ host: string; port: number }> = [];
  /** Both ends of every held connection. */
  private readonly held = new Set<net.Socket>();
  private accepted = 0;
  /** The far ends are accepted by another process (the namespace's listener): nothing to wait for here. */
  private remotePeer = false;
  readonly errors = new Map<string, number>();
  listeners = 0;

  /** Connects to `target` (a listener in another network namespace) instead of the bench's own listeners. */
  connectTo(target: { host: string; port: number }): void {
    this.targets.length = 0;
    this.targets.push(target);
    this.remotePeer = true;
  }

  private failed(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  private hold(socket: net.Socket, side: string): void {
    this.held.add(socket);
    socket.on('error', (err: NodeJS.ErrnoException) => this.failed(`${side} ${err.code ?? err.message}`));
    socket.on('close', () => this.held.delete(socket));
  }

  private listenTcp(host: string): Promise<boolean> {
    return new Promise((resolve) => {
      const server = net.createServer((socket) => {
        this.accepted += 1;
        this.hold(socket, 'accepted');
      });
      let listening = false;
      // After listen() succeeds an error is a failed accept (EMFILE): counted, never thrown.
      server.on('error', (err: NodeJS.ErrnoException) => (listening ? this.failed(`accept ${err.code ?? err.message}`) : resolve(false)));
      server.listen({ port: 0, host }, () => {
        listening = true;
        this.targets.push({ host, port: (server.address() as net.AddressInfo).port });
        this.closers.push(() => new Promise((done) => server.close(() => done())));
        resolve(true);
      });
    });
  }

  private bindUdp(type: 'udp4' | 'udp6', host: string): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = dgram.createSocket(type);
      socket.once('error', () => resolve(false));
      socket.bind(0, host, () => {
        this.closers.push(() => new Promise((done) => socket.close(() => done())));
        resolve(true);
      });
    });
  }

  /** 60 % TCP, 40 % UDP, alternating IPv4 and IPv6 so that all four tables have rows. */
  async listen(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const v6 = i % 2 === 1;
      const ok =
        i % 5 < 3
          ? (await this.listenTcp(v6 ? '::1' : '127.0.0.1')) || (await this.listenTcp('127.0.0.1'))
          : (await this.bindUdp(v6 ? 'udp6' : 'udp4', v6 ? '::1' : '127.0.0.1')) || (await this.bindUdp('udp4', '127.0.0.1'));
      if (ok) this.listeners += 1;
    }
  }

  /**
   * Opens up to `n` connections to the TCP listeners, CONNECT_BATCH at a time, for at most
   * OPEN_DEADLINE_MS; stops at the first failure. Returns how many are held and what stopped it.
   */
  async connect(n: number): Promise<{ opened: number; stoppedBy: string | null }> {
    if (this.targets.length === 0) return { opened: 0, stoppedBy: 'no TCP listener' };
    const deadline = performance.now() + OPEN_DEADLINE_MS;
    let opened = 0;
    let stoppedBy: string | null = null;
    while (opened < n && stoppedBy === null) {
      if (performance.now() > deadline) stoppedBy = `deadline of ${OPEN_DEADLINE_MS} ms`;
      else {
        const batch = Array.from({ length: Math.min(CONNECT_BATCH, n - opened) }, (_, i) => this.connectOne(this.targets[(opened + i) % this.targets.length]!));
        const results = await Promise.all(batch);
        opened += results.filter((r) => r === null).length;
        stoppedBy = results.find((r) => r !== null) ?? [...this.errors.keys()].find((k) => k.startsWith('accept')) ?? null;
      }
    }
    if (this.remotePeer) return { opened, stoppedBy };
    // The accepting ends arrive on their own ticks; wait for them, briefly.
    const until = performance.now() + CONNECT_TIMEOUT_MS;
    while (this.accepted < opened && performance.now() < until) await new Promise((done) => setTimeout(done, 10));
    return { opened: Math.min(opened, this.accepted), stoppedBy };
  }

  private connectOne(to: { host: string; port: number }): Promise<string | null> {
    return new Promise((resolve) => {
      const socket = net.connect({ host: to.host, port: to.port });
      const timer = setTimeout(() => {
        socket.destroy();
        resolve('connect timeout');
      }, CONNECT_TIMEOUT_MS);
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        socket.destroy();
        resolve(`connect ${err.code ?? err.message}`);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        this.hold(socket, 'connected');
        resolve(null);
      });
    });
  }

  async close(): Promise<void> {
    for (const socket of this.held) socket.destroy();
    await Promise.all(this.closers.map((close) => close()));
  }
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function timeScans(target: number, limit: number) {
  const load = new LoopbackLoad();
  await load.listen(Math.max(0, Math.min(target, limit - FD_HEADROOM)));
  try {
    const chosen = await timeSource({});
    const proc = process.platform === 'linux' ? { ...(await timeSource({ source: 'proc' })), kernel_walk_ms: kernelWalkMs() } : null;
    return { opened: load.listeners, ...chosen, proc };
  } finally {
    await load.close();
  }
}

/**
 * 50 listeners plus `connections` loopback connections, timed with each table source, each
 * with its phases; the target is judged on the source the scanner picks by itself.
 */
/**
 * A listener in a network namespace of its own, reached over a veth pair: the far ends of the
 * bench's connections live there, outside this machine's socket tables. Null (with why) where
 * namespaces cannot be made.
 */
class NetnsPeer {
  static readonly HOST_ADDR = '10.213.9.1';
  static readonly PEER_ADDR = '10.213.9.2';
  private readonly ns = `portent-bench${process.pid}`;
  private readonly hostIf = `pbh${process.pid % 100000}`;
  private child: ChildProcess | null = null;
  port = 0;

  static unavailable(): string | null {
    if (process.platform !== 'linux') return 'network namespaces are Linux-only';
    if (process.getuid?.() !== 0) return 'needs root for a network namespace';
    if (spawnSync('ip', ['-V']).status !== 0) return 'iproute2 (ip) is not installed';
    return null;
  }

  async start(): Promise<void> {
    const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const nsIf = `pbn${process.pid % 100000}`;
    ip('netns', 'add', this.ns);
    ip('link', 'add', this.hostIf, 'type', 'veth', 'peer', 'name', nsIf);
    ip('link', 'set', nsIf, 'netns', this.ns);
    ip('addr', 'add', `${NetnsPeer.HOST_ADDR}/24`, 'dev', this.hostIf);
    ip('link', 'set', this.hostIf, 'up');
    ip('netns', 'exec', this.ns, 'ip', 'addr', 'add', `${NetnsPeer.PEER_ADDR}/24`, 'dev', nsIf);
    ip('netns', 'exec', this.ns, 'ip', 'link', 'set', nsIf, 'up');
    // Holds every connection it accepts until its stdin closes.
    const script = `const held = []; const s = require('net').createServer((c) => { held.push(c); c.on('error', () => {}); })
      .listen(0, '${NetnsPeer.PEER_ADDR}', 4096, () => console.log(s.address().port));
      process.stdin.on('end', () => process.exit(0)).resume();`;
    this.child = spawn('ip', ['netns', 'exec', this.ns, process.execPath, '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.port = await new Promise<number>((resolve, reject) => {
      this.child!.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
      this.child!.once('exit', (code) => reject(new Error(`the namespace's listener exited (${code})`)));
    });
  }

  async close(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin?.end();
      child.kill();
      await exited;
    }
    spawnSync('ip', ['netns', 'del', this.ns]);
    spawnSync('ip', ['link', 'del', this.hostIf]);
  }
}

async function timeConnections(connections: number, warmMedianMsMax: number, limit: number, peer: 'loopback' | 'netns' = 'loopback') {
  const load = new LoopbackLoad();
  const far = peer === 'netns' ? new NetnsPeer() : null;
  try {
    await load.listen(LISTENERS_WITH_CONNECTIONS);
    if (far) {
      await far.start();
      load.connectTo({ host: NetnsPeer.PEER_ADDR, port: far.port });
    }
    // Two fds per connection over loopback (one with the far end elsewhere), all within the limit.
    const room = Math.max(0, Math.floor((limit - FD_HEADROOM - load.listeners) / (far ? 1 : 2)));
    const { opened, stoppedBy } = await load.connect(Math.min(connections, room));
    const limitedBy = opened >= connections ? null : stoppedBy ?? (room < connections ? `open-file limit ${limit} (ulimit -n) holds ${room} connections beside the listeners` : 'unknown');
    const chosen = await timeSource({});
    const phasesOf = (source: string | null) => (process.platform === 'linux' && source !== 'lsof' ? scanPhases(source === 'proc' ? 'proc' : 'netlink') : null);
    const withPhases = { ...chosen, phases: phasesOf(chosen.source) };
    const proc = process.platform === 'linux' ? { ...(await timeSource({ source: 'proc' })), phases: phasesOf('proc'), kernel_walk_ms: kernelWalkMs() } : null;
    return {
      case: `listeners_${LISTENERS_WITH_CONNECTIONS}_connections_${connections}${far ? '_to_netns' : ''}`,
      peer,
      platform: process.platform,
      fd_limit: Number.isFinite(limit) ? limit : 'unlimited',
      listeners: load.listeners,
      connections_requested: connections,
      connections_held: opened,
      sockets_held: load.listeners + (far ? 1 : 2) * opened,
      limited_by: limitedBy,
      errors: Object.fromEntries(load.errors),
      chosen: withPhases,
      proc,
      target: {
        warm_median_ms_max: warmMedianMsMax,
        source: chosen.source,
        // Judged on the connections held; a case that could not open them all says so above.
        met: withPhases.warm_median_ms <= warmMedianMsMax,
        at_full_size: opened >= connections,
      },
    };
  } finally {
    await load.close();
    await far?.close();
  }
}

/** Up to SCANS warm scans (fewer past SCAN_BUDGET_MS) after one cold one, all by one scanner made with `options`. */
async function timeSource(options: ScannerOptions) {
  const scanner = createSocketScanner(process.platform, options);
  let start = performance.now();
  const first = await scanner.scan();
  const coldMs = performance.now() - start;
  const times: number[] = [];
  const cpuBefore = process.cpuUsage();
  const idleBefore = machineCpu();
  const budgetEnd = performance.now() + SCAN_BUDGET_MS;
  while (times.length < SCANS && (times.length === 0 || performance.now() < budgetEnd)) {
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
    connected: first.connected.length,
    scans: times.length,
    cold_ms: round(coldMs),
    warm_median_ms: round(percentile(times, 50)),
    warm_p95_ms: round(percentile(times, 95)),
    cpu_ms_per_scan: round((cpu.user + cpu.system) / 1000 / times.length),
    machine_idle_pct: idlePercent(idleBefore, idleAfter),
  };
}

/** The four tables as the scanner reads them (linuxSockets.ts), with sockstat's protocol names. */
const TABLES: ReadonlyArray<{ file: string; proto: Proto; family: 4 | 6; sockstat: string }> = [
  { file: 'tcp', proto: 'tcp', family: 4, sockstat: 'TCP' },
  { file: 'tcp6', proto: 'tcp', family: 6, sockstat: 'TCP6' },
  { file: 'udp', proto: 'udp', family: 4, sockstat: 'UDP' },
  { file: 'udp6', proto: 'udp', family: 6, sockstat: 'UDP6' },
];

function medianOf(run: () => unknown, runs = PHASE_RUNS): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  return round(percentile(times.sort((a, b) => a - b), 50));
}

/**
 * The parts of a warm scan, each timed alone (median of PHASE_RUNS) with the scanner's own
 * functions: the tables (sockstat, then the netlink dumps; or the /proc/net reads and their
 * parsing), the owner index's check of its remembered owners, and its full fd walk.
 */
function scanPhases(source: TableSource) {
  const inUse = () => parseSockstatInUse(`${readFileSync('/proc/net/sockstat', 'latin1')}${readFileSync('/proc/net/sockstat6', 'latin1')}`);
  const littleEndian = os.endianness() === 'LE';
  // As the scanner reads them: packed records, the rows of sockets still there reused.
  const decoder = new RowDecoder();
  const readTables = (): ProcNetRow[][] => {
    if (source === 'netlink') {
      const diag = loadSockDiag();
      const counts = inUse();
      decoder.begin();
      return TABLES.map((t) => dumpTable(diag, t.proto, t.family, counts.get(t.sockstat) ?? 0, decoder));
    }
    return TABLES.map((t) => parseProcNet(readProcTable(`/proc/net/${t.file}`), t.family, littleEndian));
  };
  const rows = readTables().flat();
  const inodes = new Set(rows.filter((r) => r.inode !== 0).map((r) => r.inode));
  const index = new SocketOwnerIndex('/proc', Number.MAX_SAFE_INTEGER);
  index.resolve(inodes);
  return {
    rows: rows.length,
    tables_ms: medianOf(readTables),
    ...(source === 'proc' ? { tables_read_only_ms: medianOf(() => TABLES.forEach((t) => readProcTable(`/proc/net/${t.file}`))) } : {}),
    owner_check_ms: medianOf(() => index.resolve(inodes)),
    full_fd_walk_ms: medianOf(() => walkSocketHolders('/proc', inodes), 5),
    full_fd_walk_every: FULL_WALK_EVERY,
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

const tableBuf = Buffer.allocUnsafe(64 * 1024);

/** A /proc/net table read as the scanner reads it: up to its first short read. */
function readProcTable(file: string): string {
  const parts: string[] = [];
  const fd = openSync(file, 'r');
  try {
    for (;;) {
      const n = readSync(fd, tableBuf, 0, tableBuf.length, null);
      parts.push(tableBuf.toString('latin1', 0, n));
      if (n < 4096 - 512) return parts.join('');
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Median of 20 reads of /proc/net/tcp6 up to its first short read, as the scanner reads it (its
 * listeners, then one walk of the hash); null off Linux.
 */
function kernelWalkMs(): number | null {
  if (process.platform !== 'linux') return null;
  return medianOf(() => readProcTable('/proc/net/tcp6'), 20);
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
  const cases = optionOf(process.argv.slice(2), 'cases', 'listeners,connections').split(',');
  const limit = fdLimit();
  if (cases.includes('listeners')) {
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
  if (cases.includes('connections')) {
    const noNetns = NetnsPeer.unavailable();
    for (const { connections, warmMedianMsMax } of CONNECTION_TARGETS) {
      process.stdout.write(`${JSON.stringify(await timeConnections(connections, warmMedianMsMax, limit))}\n`);
      if (noNetns) process.stdout.write(`${JSON.stringify({ case: `listeners_${LISTENERS_WITH_CONNECTIONS}_connections_${connections}_to_netns`, skipped: noNetns })}\n`);
      else process.stdout.write(`${JSON.stringify(await timeConnections(connections, warmMedianMsMax, limit, 'netns'))}\n`);
    }
  }
}

await main();
