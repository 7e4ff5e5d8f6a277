/**
 * Speed benchmark: one hourly detection of both models (the port model scores the last hour's
 * 60 rounds and refits at 65,536 ports; then the traffic model scores the hour's windows of
 * each process, refits and recalibrates), run in the detection worker exactly as the scheduler
 * runs it (its options come from the database's settings, here the defaults), on generated
 * histories of growing length and growing numbers of listeners (issue 18, "cost as the work
 * grows"). The timed hour is not quiet: a backdoor (/tmp/.x/x) listens on 4444/tcp from its 20th
 * to its 40th minute, and over the same minutes python3 holds a line to a host no program used,
 * so the timing includes explaining anomalous rounds and windows and writing their incidents.
 *
 * Cases: `--days` (3, 30 and 90 by default) × `--listeners` (50, 500 and 2,000 by default); each
 * option takes one value or a comma-separated list, so `--days 30 --listeners 2000` runs one
 * case. A history of `listeners` listening sockets a round is the simulated desktop of
 * bench/quality/generator.ts (about 18) plus published container ports (docker-proxy, IPv4 and
 * IPv6 for each port) up to that number. As the monitor keeps it by default, a round keeps its
 * sockets for 30 days (retention.roundPortsDays) and its score for ever: older rounds are
 * written without sockets, as the daily cleanup leaves them. The last `--traffic-hours` hours of
 * history and the timed hour also carry a busy machine's connections and capture, about
 * `--flows` flows a round (bench/busyTraffic.ts), written through the monitor's own stores.
 *
 * The history up to its last day is scored as the hourly jobs would have left it (a score for
 * every round, from a seeded draw, with a threshold in force; owners learned), and its last day
 * is then scored and learned by a real detection, which trains both models; then the timed hour
 * is written. That preparation runs in a child process (`--prepare <dir>`) and is kept under
 * the system's temp folder (portent-bench-detect-cache/, keyed by the case's parameters; `--fresh`
 * builds it again, `--no-cache` builds in the run's own folder and deletes it), so that a case is
 * built once. Each measurement runs on a copy, in a child process of its own that runs the
 * detection and nothing else (bench/detectHost.mjs), so that neither the preparation nor an
 * earlier case counts in its memory. By default (`--host built`) it is plain Node running the
 * built detection (`npm run build`'s out/main/detection.js, built by this benchmark before it
 * measures): what the desktop app and `node out/main/cli.js` run, on top of a bare Node process.
 * `--host tsx` runs the TypeScript sources under tsx's loader instead, as `npm run portent` runs
 * them from a checkout.
 *
 * Prints one JSON line per case:
 *   {days, listeners, host, rounds, score_s, fit_s, traffic_score_s, traffic_fit_s, total_s, cpu_s, peak_rss_mb, worker: {wasm_heap_mb, js_heap_mb, ...}, traffic_worker: {...}, rebuild: {...}, ...}
 * then, with more than one case, one line {growth: [...]}: each case's total_s, cpu_s and peak_rss_mb
 * as ratios against the smallest case run (fewest days, then fewest listeners).
 *   npx tsx bench/detect.ts --json [--days 3,30,90] [--listeners 50,500,2000] [--backend node|wasm|cpu] [--ports 65536] [--flows 2000] [--traffic-hours 24] [--models both|ports] [--host built|tsx] [--no-rebuild] [--fresh] [--no-cache]
 * score_s, fit_s and epochs are the port model's; traffic_* the traffic model's (windows and
 * rows it scored, epochs of its refit). share: each model's part of total_s (score and fit), and
 * the rest (starting the worker, loading the models, recording the run). incidents are the
 * incidents the timed detection opened or extended; injected_named whether one names 4444/tcp,
 * traffic_injected_named whether a traffic incident names python3's remote end.
 * cpu_s is the CPU time the measuring process spent in the run (all its threads): on a shared
 * machine it moves far less than total_s with what else runs.
 * peak_rss_mb is the whole process's resident set (the detection's workers are threads of it),
 * sampled every 20 ms during the timed detection, and process_hwm_mb the kernel's high-water mark
 * (the process's whole life). worker and traffic_worker: the port model's and the traffic model's
 * threads' own accounts at their end (detectInWorker runs them one after the other): the wasm
 * heap (which never shrinks, so its peak), the JS heap and the array buffers outside it.
 * rebuild: the same hour detected with both saved models discarded (an upgrade, a corrupt model):
 * the first model on the stored history, its time, peak and whether it alerts yet.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../src/main/engine/store/database';
import { RoundStore } from '../src/main/engine/store/rounds';
import { countConnections, type ConnectionEntry, type SocketEntry } from '../src/main/engine/collect/sockets/types';
import { CaptureStore } from '../src/main/engine/store/captureStore';
import { ResolvedNames } from '../src/main/engine/store/resolvedNames';
import { DetectionStore } from '../src/main/engine/store/detectionStore';
import { detectionOptions } from '../src/main/engine/detectionOptions';
import { detectInWorker } from '../src/main/engine/detect/detectInWorker';
import { silentLogger } from '../src/main/engine/log';
import type { BackendPreference } from '../src/main/engine/detect/backend/selectBackend';
import { seededRandom } from '../src/shared/random';
import { simulate } from './quality/generator';
import { checkArgs, optionOf } from './args';
import { BusyTraffic, SHELL } from './busyTraffic';

const args = process.argv.slice(2);
const fail = (message: string): never => {
  console.error(`bench:detect: ${message}`);
  process.exit(2);
};
checkArgs(args, ['days', 'listeners', 'ports', 'backend', 'models', 'flows', 'traffic-hours', 'batch', 'prepare', 'host'], ['json', 'no-rebuild', 'fresh', 'no-cache', 'rebuild'], fail);
const opt = (name: string, fallback: string) => optionOf(args, name, fallback);
const list = (name: string, fallback: string) =>
  opt(name, fallback)
    .split(',')
    .map((v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) fail(`--${name} takes whole numbers (one or a comma-separated list), got '${v}'`);
      return n;
    });
const ports = Number(opt('ports', '65536'));
const backend = opt('backend', 'node') as BackendPreference;
// 'ports': the timed detection runs the port model alone (what it costs by itself, in time and memory).
const models = opt('models', 'both');
if (models !== 'both' && models !== 'ports') fail(`--models must be both or ports, got '${models}'`);
const flowsPerRound = Number(opt('flows', '2000'));
// Where the timed detection runs: 'built' (default), the built detection (out/main/detection.js)
// in a plain Node process, bench/detectHost.mjs; 'tsx', the TypeScript sources in a process
// running this file under tsx, as `npm run portent` runs them from a checkout (its loader adds
// some 50 MB: Node's module hooks in the process and in each worker thread).
const host = opt('host', 'built');
if (host !== 'built' && host !== 'tsx') fail(`--host must be built or tsx, got '${host}'`);
const trafficHours = Number(opt('traffic-hours', '24'));
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

const HISTORY_SEED = 11;
const start = new Date(2026, 2, 2).getTime();
/** Days a round keeps its sockets (retention.roundPortsDays, default). */
const SOCKET_DAYS = 30;
/** The simulated desktop's own listening sockets a round, on average (the generator's). */
const DESKTOP_LISTENERS = 18;
/** Bumped whenever what --prepare writes changes, so that no stale cached history is used. */
const PREPARE_VERSION = 3;

/** One case: its history and where its hours fall. */
interface Case {
  days: number;
  listeners: number;
}
const lastHourOf = (c: Case) => start + c.days * DAY - HOUR;

/** The incident in the timed hour: a new listener that was never seen, open for 20 minutes. */
const injectedOf = (c: Case) => ({ proto: 'tcp' as const, port: 4444, from: lastHourOf(c) + 20 * MIN, to: lastHourOf(c) + 40 * MIN });
const backdoor: SocketEntry = { proto: 'tcp', family: 4, address: '0.0.0.0', port: 4444, pid: 31_337, process: 'x', exe: '/tmp/.x/x', user: 'alice' };

/**
 * A host running many containers: `count` published ports' sockets held by docker-proxy (one
 * process a container, two ports each, IPv4 and IPv6 for each port), from 20000/tcp up; the same
 * every round.
 */
function containerSockets(count: number): SocketEntry[] {
  return Array.from({ length: count }, (_, i): SocketEntry => {
    const port = 20_000 + (i >> 1);
    const v6 = (i & 1) === 1;
    return { proto: 'tcp', family: v6 ? 6 : 4, address: v6 ? '::' : '0.0.0.0', port, pid: 40_000 + (i >> 2), process: 'docker-proxy', exe: '/usr/bin/docker-proxy', user: 'root' };
  });
}

/** The scheduler's options for this database (the stored settings), at the benchmark's size. */
function optionsFor(dbPath: string) {
  const db = openDatabase(dbPath);
  try {
    return { ...detectionOptions(db, 'schedule'), config: { ports }, ...(args.includes('--batch') ? { batchSize: Number(opt('batch', '8')) } : {}) };
  } finally {
    db.close();
  }
}

/** Rounds written at a time in one transaction while a history is built. */
const WRITE_CHUNK_ROUNDS = 60;

/**
 * Writes the history's rounds in [from, to) as the monitor does: the scan, and from the busy
 * machine's first hour on its connections and the capture report of the minute before it. The
 * busy machine is replayed from its first hour whatever `from` is, so both calls write one story.
 * Rounds older than SOCKET_DAYS before the timed hour are written without their sockets, as the
 * daily cleanup leaves them.
 */
function recordHistory(dbPath: string, c: Case, from: number, to: number, bulk = false): { rounds: number; flows: number; connections: number; sockets: number } {
  const lastHour = lastHourOf(c);
  const trafficFrom = lastHour - trafficHours * HOUR;
  const socketsFrom = lastHour + HOUR - SOCKET_DAYS * DAY;
  const injected = injectedOf(c);
  const db = openDatabase(dbPath);
  // A throwaway file: durability costs writing time and changes no row.
  db.pragma('synchronous = OFF');
  // rounds_ports keeps its indexes throughout: the store moves rounds older than an hour into
  // runs as it writes (store/compaction.ts), and that reads them by round.
  const names = new ResolvedNames();
  const store = new RoundStore(db, names);
  const capture = new CaptureStore(db, names);
  const busy = new BusyTraffic(HISTORY_SEED, flowsPerRound, { from: injected.from, to: injected.to });
  const containers = containerSockets(Math.max(0, c.listeners - DESKTOP_LISTENERS));
  const noConnections = countConnections([]);
  let previous: ConnectionEntry[] = [];
  const written = { rounds: 0, flows: 0, connections: 0, sockets: 0 };
  let pending: (() => void)[] = [];
  // Many rounds a transaction (each round's own becomes a savepoint): one commit a chunk.
  const flush = db.transaction((writes: (() => void)[]) => writes.forEach((w) => w()));
  // In `bulk`, the containers' sockets, the same every round, go through the store once (the
  // first round that keeps sockets and has no traffic); later such rounds get copies of those
  // rows, the rows the store would have written, by one INSERT ... SELECT: the store's cost is a
  // few statements a socket, and thirty days of 2,000 listeners are 86 million sockets.
  let template: { roundId: number; processId: number } | null = null;
  let lastCopied = 0;
  // The template's rows are kept in a table of their own: the store moves the template round
  // into runs an hour later.
  db.exec('CREATE TEMP TABLE container_sockets (port_id INTEGER, family INTEGER, address TEXT, pid INTEGER, process_id INTEGER)');
  const keepTemplate = db.prepare<[number, number]>(
    'INSERT INTO temp.container_sockets SELECT port_id, family, address, pid, process_id FROM rounds_ports WHERE round_id = ? AND process_id = ? ORDER BY id',
  );
  const copyContainers = db.prepare<[number]>(
    'INSERT INTO rounds_ports (round_id, port_id, family, address, pid, process_id) SELECT ?, port_id, family, address, pid, process_id FROM temp.container_sockets ORDER BY rowid',
  );
  for (const r of simulate({ start, days: c.days, seed: HISTORY_SEED, quietHours: 24 * c.days }).rounds()) {
    if (r.startedAt >= to) break;
    const traffic = r.startedAt >= trafficFrom ? busy.round(r.startedAt) : null;
    if (r.startedAt < from) {
      previous = traffic?.connected ?? [];
      continue;
    }
    const kept = r.startedAt >= socketsFrom;
    const extra = r.startedAt >= injected.from && r.startedAt < injected.to ? [backdoor] : [];
    const copies = bulk && kept && !traffic && containers.length > 0;
    const before = previous;
    pending.push(() => {
      const copy = copies && template !== null;
      const sockets = !kept ? [] : [...r.sockets, ...(copy ? [] : containers), ...extra];
      const outcome = traffic ? { sockets, connections: countConnections(traffic.connected), connected: traffic.connected } : { sockets, connections: noConnections };
      const id = store.record({ host: 'bench', startedAt: r.startedAt, endedAt: r.startedAt + 200, outcome });
      if (copy) {
        copyContainers.run(id);
        lastCopied = r.startedAt;
      } else if (copies) {
        const identity = JSON.stringify([containers[0]!.process, containers[0]!.exe, containers[0]!.user]);
        template = { roundId: id, processId: db.prepare<[string], number>('SELECT id FROM processes WHERE identity = ?').pluck().get(identity)! };
        keepTemplate.run(template.roundId, template.processId);
      }
      if (traffic) capture.record(id, { state: 'on', iface: 'eth0', report: traffic.report }, { current: traffic.connected, previous: before });
    });
    if (traffic) {
      previous = traffic.connected;
      written.flows += traffic.report.flows.flows.length;
      written.connections += traffic.connected.length;
    }
    written.rounds++;
    written.sockets += kept ? r.sockets.length + containers.length + extra.length : 0;
    if (pending.length >= WRITE_CHUNK_ROUNDS) {
      flush(pending);
      pending = [];
    }
  }
  flush(pending);
  // What the store's upserts would have left: the containers' ports last seen in the last copy.
  const t = template as { roundId: number; processId: number } | null;
  if (t) db.prepare('UPDATE ports SET last_seen_at = max(last_seen_at, ?) WHERE id IN (SELECT port_id FROM temp.container_sockets)').run(lastCopied);
  db.close();
  return written;
}

/**
 * Scores every round before `until` as the hourly jobs would have left them: a score a round
 * (an exponential draw, mean 0.3 nats, as quiet rounds score), a threshold in force, nothing
 * anomalous, one run a day; and their owners learned.
 */
function scoreHistory(dbPath: string, until: number): void {
  const db = openDatabase(dbPath);
  db.pragma('synchronous = OFF');
  const store = new DetectionStore(db);
  const random = seededRandom(HISTORY_SEED);
  const rounds = db.prepare<[number], { id: number; startedAt: number }>(`SELECT id, started_at AS startedAt FROM rounds WHERE started_at < ? AND status = 'ok' ORDER BY id`).all(until);
  for (let i = 0; i < rounds.length; i += 1440) {
    const day = rounds.slice(i, i + 1440);
    const runId = store.startRun('schedule', day.at(-1)!.startedAt, 'bench');
    store.saveScores(runId, 1, day.map((r) => ({ roundId: r.id, score: -0.3 * Math.log(1 - random()), threshold: 6, anomalous: false })));
    for (let h = 0; h < day.length; h += 60) store.learnOwners(day.slice(h, h + 60).map((r) => r.id));
    store.finishRun(runId, { endedAt: day.at(-1)!.startedAt, status: 'ok', roundsScored: day.length, incidents: 0, modelVersion: 1 });
  }
  db.close();
}

/** Opens the database, waiting while the worker that just finished still closes its connection. */
function openWhenFree(dbPath: string): ReturnType<typeof openDatabase> {
  for (let tries = 0; ; tries++) {
    try {
      return openDatabase(dbPath);
    } catch (err) {
      if (tries >= 50 || !/locked|busy/.test((err as Error).message)) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
}

/** Whether a traffic incident of the timed detection names the remote end python3 held. */
function trafficIncidentNamesShell(dbPath: string, lastHour: number): boolean {
  const db = openWhenFree(dbPath);
  try {
    return (
      db
        .prepare<[string, string, string, number, number], number>(
          `SELECT count(*) FROM incidents i JOIN incident_endpoints e ON e.incident_id = i.id JOIN processes p ON p.id = i.process_id
           WHERE i.kind IN ('traffic', 'both') AND p.name = ? AND p.user = ? AND e.address = ? AND e.port = ? AND i.ended_at >= ?`,
        )
        .pluck()
        .get(SHELL.process, SHELL.user, SHELL.address, SHELL.port, lastHour)! > 0
    );
  } finally {
    db.close();
  }
}

const caseOf = (): Case => ({ days: Number(opt('days', '3')), listeners: Number(opt('listeners', '50')) });
const r3 = (x: number) => Math.round(x * 1000) / 1000;

if (args.includes('--prepare')) {
  // Child: builds one case's history and trains its models (untimed).
  const c = caseOf();
  const dir = opt('prepare', '');
  const dbPath = path.join(dir, 'portent.db');
  const lastHour = lastHourOf(c);
  const t0 = performance.now();
  const history = recordHistory(dbPath, c, start, lastHour, true);
  const writeS = (performance.now() - t0) / 1000;
  // The last day of history (or all of a shorter one) is scored and learned by a real detection.
  scoreHistory(dbPath, Math.max(start, lastHour - DAY));
  const t1 = performance.now();
  await detectInWorker({ dbPath, modelDir: path.join(dir, 'model'), backend, options: optionsFor(dbPath), nowMs: lastHour, seed: 1 }, silentLogger).result;
  const trainS = (performance.now() - t1) / 1000;
  // The timed hour too, here: the generator's state and garbage would otherwise sit in the
  // measured process's resident set.
  const hour = recordHistory(dbPath, c, lastHour, lastHour + HOUR);
  const db = openDatabase(dbPath);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  const prepared = { history_rounds: history.rounds, history_sockets: history.sockets, write_s: r3(writeS), train_s: r3(trainS), prepare_s: r3((performance.now() - t0) / 1000), hour };
  fs.writeFileSync(path.join(dir, 'written.json'), JSON.stringify(prepared));
  process.exit(0);
}

/** What one timed detection measured, in whichever process it ran. */
interface Measured {
  result: {
    backend: string; roundsScored: number; scoreMs: number; fitMs: number; epochs: number; backendDetail: string;
    learning: { learning: boolean };
    traffic?: { windowsScored: number; rowsScored: number; scoreMs: number; fitMs: number; epochs: number; learning: { learning: boolean } };
    memory?: { wasmHeapBytes: number | null; jsHeapBytes: number; arrayBuffersBytes: number };
    trafficMemory?: { wasmHeapBytes: number | null; jsHeapBytes: number; arrayBuffersBytes: number };
    incidentPorts: { proto: string; port: number }[][];
  };
  rss_before_mb: number;
  peak_rss_mb: number;
  process_hwm_mb: number | null;
  total_s: number;
  cpu_s: number;
}

/** The input of the timed detection on a prepared copy in `dir`. */
function timedInput(c: Case, dir: string) {
  const dbPath = path.join(dir, 'portent.db');
  const options = { ...optionsFor(dbPath), ...(models === 'ports' ? { traffic: false } : {}) };
  return { dbPath, modelDir: path.join(dir, 'model'), backend, options, nowMs: lastHourOf(c) + HOUR, seed: 2 };
}

/** One case's JSON line from what its timed detection measured. */
function report(c: Case, dir: string, m: Measured): Record<string, unknown> {
  const dbPath = path.join(dir, 'portent.db');
  const lastHour = lastHourOf(c);
  const injected = injectedOf(c);
  const prepared = JSON.parse(fs.readFileSync(path.join(dir, 'written.json'), 'utf8')) as { history_rounds: number; history_sockets: number; hour: ReturnType<typeof recordHistory> };
  const result = m.result;
  const traffic = result.traffic;
  const totalS = m.total_s;
  const portsS = (result.scoreMs + result.fitMs) / 1000;
  const trafficS = traffic ? (traffic.scoreMs + traffic.fitMs) / 1000 : 0;
  const mb = (bytes: number | null | undefined) => (bytes == null ? null : Math.round(bytes / 1e6));
  const memory = (w: Measured['result']['memory']) => (w ? { wasm_heap_mb: mb(w.wasmHeapBytes), js_heap_mb: mb(w.jsHeapBytes), array_buffers_mb: mb(w.arrayBuffersBytes) } : null);
  return {
    days: c.days,
    listeners: c.listeners,
    backend: result.backend,
    host,
    models,
    rounds: result.roundsScored,
    ports,
    listeners_per_round: Math.round(prepared.hour.sockets / Math.max(1, prepared.hour.rounds)),
    flows_per_round: Math.round(prepared.hour.flows / 60),
    connections_per_round: Math.round(prepared.hour.connections / 60),
    score_s: r3(result.scoreMs / 1000),
    fit_s: r3(result.fitMs / 1000),
    epochs: result.epochs,
    traffic_windows: traffic?.windowsScored ?? null,
    traffic_rows: traffic?.rowsScored ?? null,
    traffic_score_s: traffic ? r3(traffic.scoreMs / 1000) : null,
    traffic_fit_s: traffic ? r3(traffic.fitMs / 1000) : null,
    traffic_epochs: traffic?.epochs ?? null,
    traffic_learning: traffic?.learning.learning ?? null,
    incidents: result.incidentPorts.length,
    injected_named: result.incidentPorts.some((ps) => ps.some((p) => p.proto === injected.proto && p.port === injected.port)),
    traffic_injected_named: trafficIncidentNamesShell(dbPath, lastHour),
    total_s: r3(totalS),
    cpu_s: r3(m.cpu_s),
    share: { ports: r3(portsS / totalS), traffic: r3(trafficS / totalS), rest: r3(Math.max(0, totalS - portsS - trafficS) / totalS) },
    peak_rss_mb: m.peak_rss_mb,
    within_targets: totalS <= 10 && m.peak_rss_mb <= 400,
    worker: memory(result.memory),
    traffic_worker: memory(result.trafficMemory),
    history_rounds: prepared.history_rounds,
    history_sockets: prepared.history_sockets,
    database_mb: Math.round(fs.statSync(dbPath).size / 1e6),
    rss_before_worker_mb: m.rss_before_mb,
    process_hwm_mb: m.process_hwm_mb,
    backend_detail: result.backendDetail,
    learning: result.learning.learning,
  };
}

/** A prepared case's folder: cached under the temp folder by its parameters, built when missing. */
function prepared(c: Case, scratch: string): { dir: string; cache: 'hit' | 'built' | 'none' } {
  const key = createHash('sha256')
    .update(JSON.stringify({ v: PREPARE_VERSION, ...c, ports, backend, flowsPerRound, trafficHours, batch: opt('batch', '') }))
    .digest('hex')
    .slice(0, 16);
  const noCache = args.includes('--no-cache');
  const dir = noCache ? path.join(scratch, `prepared-${key}`) : path.join(os.tmpdir(), 'portent-bench-detect-cache', `${c.days}d-${c.listeners}l-${key}`);
  const ready = path.join(dir, 'written.json');
  if (!noCache && fs.existsSync(ready) && !args.includes('--fresh')) return { dir, cache: 'hit' };
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  execFileSync(process.execPath, [...process.execArgv, process.argv[1]!, ...childArgs(c), '--prepare', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  return { dir, cache: noCache ? 'none' : 'built' };
}

/** The arguments a child takes: this run's, with one case's days and listeners. */
function childArgs(c: Case): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i]!.replace(/^--/, '');
    if (['days', 'listeners', 'prepare'].includes(name)) i++;
    else if (!['fresh', 'no-cache', 'no-rebuild', 'json'].includes(name)) out.push(args[i]!);
  }
  return [...out, '--days', String(c.days), '--listeners', String(c.listeners)];
}

/** fsyncs every file under `dir`, and the folders themselves. */
function flushTree(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) flushTree(path.join(dir, entry.name));
    else if (entry.isFile()) fsyncPath(path.join(dir, entry.name));
  }
  fsyncPath(dir);
}

function fsyncPath(at: string): void {
  const fd = fs.openSync(at, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Measures one detection on a copy of the prepared folder; `rebuild`: with its saved models discarded. */
function measure(c: Case, from: string, scratch: string, rebuild: boolean): Record<string, unknown> {
  const dir = path.join(scratch, rebuild ? 'rebuild' : 'hourly');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.cpSync(from, dir, { recursive: true });
  // The copy is written out before the detection is timed: otherwise its first commit's fsync
  // (ext4 flushes the file's dirty pages with it) wrote out the whole copy, 0.44 s of the run
  // at 3 days × 50 listeners that an hourly run on the monitor's own database never pays.
  flushTree(dir);
  if (rebuild) {
    fs.rmSync(path.join(dir, 'model'), { recursive: true, force: true });
    fs.rmSync(path.join(dir, 'traffic-model.json'), { force: true });
  }
  try {
    const inputFile = path.join(scratch, 'input.json');
    fs.writeFileSync(inputFile, JSON.stringify(timedInput(c, dir)));
    // No flags from this process: plain Node for the built detection, tsx's loader for the sources.
    const hostArgs = host === 'tsx' ? ['--import', 'tsx', path.join(import.meta.dirname, 'detectHost.mjs'), '--source', inputFile] : [path.join(import.meta.dirname, 'detectHost.mjs'), inputFile];
    const out = execFileSync(process.execPath, hostArgs, { cwd: path.join(import.meta.dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
    return report(c, dir, JSON.parse(out.toString('utf8').trim().split('\n').at(-1)!) as Measured);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Smallest first: the growth is measured against the first case.
const cases: Case[] = list('days', '3,30,90')
  .flatMap((days) => list('listeners', '50,500,2000').map((listeners) => ({ days, listeners })))
  .sort((a, b) => a.days - b.days || a.listeners - b.listeners);
const results: Record<string, unknown>[] = [];
// The built detection is what is measured: built now, from this checkout, so it is never stale.
if (host === 'built') {
  try {
    execFileSync(process.execPath, [path.join(import.meta.dirname, '..', 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { cwd: path.join(import.meta.dirname, '..'), stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    fail(`building the detection failed (electron-vite build): ${String((err as { stderr?: Buffer }).stderr ?? err)}`);
  }
}
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'portent-bench-detect-'));
try {
  for (const c of cases) {
    const t0 = performance.now();
    const { dir, cache } = prepared(c, scratch);
    const prep = JSON.parse(fs.readFileSync(path.join(dir, 'written.json'), 'utf8')) as { prepare_s: number };
    const hourly = measure(c, dir, scratch, false);
    let rebuild: Record<string, unknown> | null = null;
    if (!args.includes('--no-rebuild')) {
      const r = measure(c, dir, scratch, true);
      rebuild = {
        total_s: r.total_s, cpu_s: r.cpu_s, peak_rss_mb: r.peak_rss_mb, score_s: r.score_s, fit_s: r.fit_s, epochs: r.epochs, traffic_score_s: r.traffic_score_s, traffic_fit_s: r.traffic_fit_s,
        worker: r.worker, learning: r.learning, traffic_learning: r.traffic_learning, injected_named: r.injected_named,
      };
    }
    if (cache === 'none') fs.rmSync(dir, { recursive: true, force: true });
    const line = { ...hourly, rebuild, cache, prepare_s: prep.prepare_s, case_s: r3((performance.now() - t0) / 1000) };
    results.push(line);
    console.log(JSON.stringify(line, null, args.includes('--json') ? undefined : 2));
  }
  if (results.length > 1) {
    const base = results[0]!;
    const ratio = (r: Record<string, unknown>, k: string) => r3((r[k] as number) / (base[k] as number));
    const growth = results.map((r) => ({ days: r.days, listeners: r.listeners, total_s: ratio(r, 'total_s'), cpu_s: ratio(r, 'cpu_s'), peak_rss_mb: ratio(r, 'peak_rss_mb') }));
    console.log(JSON.stringify({ growth_against: { days: base.days, listeners: base.listeners }, growth }));
  }
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}
