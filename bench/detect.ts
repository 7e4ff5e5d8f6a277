/**
 * Speed benchmark: one hourly detection of both models (the port model scores the last hour's
 * 60 rounds and refits at 65,536 ports; then the traffic model scores the hour's windows of
 * each process, refits and recalibrates), on a generated history of a few days, run in the
 * detection worker exactly as the scheduler runs it (its options come from the database's
 * settings, here the defaults). The last `--traffic-hours` hours of history and the timed hour
 * also carry a busy machine's connections and capture, about `--flows` flows a round
 * (bench/busyTraffic.ts), written through the monitor's own stores. The timed hour is not
 * quiet: a backdoor (/tmp/.x/x) listens on 4444/tcp from its 20th to its 40th minute, and over
 * the same minutes python3 holds a line to a host no program used, so the timing includes
 * explaining anomalous rounds and windows and writing their incidents.
 * Prints one JSON object:
 *   {backend, rounds, ports, score_s, fit_s, epochs, traffic_score_s, traffic_fit_s, total_s, peak_rss_mb, share, ...}
 *   npx tsx bench/detect.ts --json [--days 3] [--backend node|wasm|cpu] [--ports 65536] [--flows 2000] [--traffic-hours 24] [--models both|ports]
 * score_s, fit_s and epochs are the port model's; traffic_* the traffic model's (windows and
 * rows it scored, epochs of its refit). share: each model's part of total_s (score and fit), and
 * the rest (starting the worker, loading the models, recording the run). incidents are the
 * incidents the timed detection opened or extended; injected_named whether one names 4444/tcp,
 * traffic_injected_named whether a traffic incident names python3's remote end.
 * peak_rss_mb is the whole process's resident set (the worker is a thread of it), sampled every
 * 20 ms during the timed detection, and process_hwm_mb the kernel's high-water mark; the untimed
 * preparation (writing the history, scoring it and training the models, then writing the timed
 * hour) runs in a child process (`--prepare <dir>`) so it counts in neither.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../src/main/engine/store/database';
import { RoundStore } from '../src/main/engine/store/rounds';
import { countConnections, type ConnectionEntry, type SocketEntry } from '../src/main/engine/collect/sockets/types';
import { CaptureStore } from '../src/main/engine/store/captureStore';
import { ResolvedNames } from '../src/main/engine/store/resolvedNames';
import { detectionOptions } from '../src/main/engine/detectionOptions';
import { detectInWorker } from '../src/main/engine/detect/detectInWorker';
import { silentLogger } from '../src/main/engine/log';
import type { BackendPreference } from '../src/main/engine/detect/backend/selectBackend';
import { generate } from './quality/generator';
import { optionOf } from './args';
import { BusyTraffic, SHELL } from './busyTraffic';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => optionOf(args, name, fallback);
const days = Number(opt('days', '3'));
const ports = Number(opt('ports', '65536'));
const backend = opt('backend', 'node') as BackendPreference;
// 'ports': the timed detection runs the port model alone (what it costs by itself, in time and memory).
const models = opt('models', 'both');
if (models !== 'both' && models !== 'ports') throw new Error(`--models must be both or ports, got '${models}'`);
const flowsPerRound = Number(opt('flows', '2000'));
const trafficHours = Number(opt('traffic-hours', '24'));
const MIN = 60_000;
const HOUR = 60 * MIN;

const HISTORY_SEED = 11;
const start = new Date(2026, 2, 2).getTime();
const lastHour = start + days * 24 * HOUR - HOUR;

/** The incident in the timed hour: a new listener that was never seen, open for 20 minutes. */
const INJECTED = { proto: 'tcp' as const, port: 4444, from: lastHour + 20 * MIN, to: lastHour + 40 * MIN };
const backdoor: SocketEntry = { proto: INJECTED.proto, family: 4, address: '0.0.0.0', port: INJECTED.port, pid: 31_337, process: 'x', exe: '/tmp/.x/x', user: 'alice' };

/** The scheduler's options for this database (the stored settings), at the benchmark's size. */
function optionsFor(dbPath: string) {
  const db = openDatabase(dbPath);
  try {
    return { ...detectionOptions(db, 'schedule'), config: { ports }, ...(args.includes('--batch') ? { batchSize: Number(opt('batch', '8')) } : {}) };
  } finally {
    db.close();
  }
}

/** Rounds from here on carry connections and capture (the traffic model's input). */
const trafficFrom = lastHour - trafficHours * HOUR;

/**
 * Writes the history's rounds in [from, to) as the monitor does: the scan, and from
 * `trafficFrom` on its connections and the capture report of the minute before it. The busy
 * machine is replayed from `trafficFrom` whatever `from` is, so both processes write one story.
 */
function recordHistory(dbPath: string, from: number, to: number): { rounds: number; flows: number; connections: number } {
  const db = openDatabase(dbPath);
  // A throwaway file: durability costs writing time and changes no row.
  db.pragma('synchronous = OFF');
  const names = new ResolvedNames();
  const store = new RoundStore(db, names);
  const capture = new CaptureStore(db, names);
  const busy = new BusyTraffic(HISTORY_SEED, flowsPerRound, { from: INJECTED.from, to: INJECTED.to });
  const { rounds } = generate({ start, days, seed: HISTORY_SEED, quietHours: 24 * days });
  const noConnections = countConnections([]);
  let previous: ConnectionEntry[] = [];
  let flows = 0;
  let connections = 0;
  for (const r of rounds) {
    if (r.startedAt >= to) break;
    const traffic = r.startedAt >= trafficFrom ? busy.round(r.startedAt) : null;
    if (r.startedAt < from) {
      previous = traffic?.connected ?? [];
      continue;
    }
    const sockets = r.startedAt >= INJECTED.from && r.startedAt < INJECTED.to ? [...r.sockets, backdoor] : r.sockets;
    const outcome = traffic ? { sockets, connections: countConnections(traffic.connected), connected: traffic.connected } : { sockets, connections: noConnections };
    const id = store.record({ host: 'bench', startedAt: r.startedAt, endedAt: r.startedAt + 200, outcome });
    if (traffic) {
      capture.record(id, { state: 'on', iface: 'eth0', report: traffic.report }, { current: traffic.connected, previous });
      previous = traffic.connected;
      flows += traffic.report.flows.flows.length;
      connections += traffic.connected.length;
    }
  }
  db.close();
  return { rounds: rounds.length, flows, connections };
}

/** Whether a traffic incident of the timed detection names the remote end python3 held. */
function trafficIncidentNamesShell(dbPath: string): boolean {
  const db = openDatabase(dbPath);
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

if (args.includes('--prepare')) {
  const dir = opt('prepare', '');
  const dbPath = path.join(dir, 'portent.db');
  recordHistory(dbPath, start, lastHour);
  await detectInWorker({ dbPath, modelDir: path.join(dir, 'model'), backend, options: optionsFor(dbPath), nowMs: lastHour, seed: 1 }, silentLogger).result;
  // The timed hour too, here: the generator's state and garbage would otherwise sit in the
  // measured process's resident set.
  fs.writeFileSync(path.join(dir, 'written.json'), JSON.stringify(recordHistory(dbPath, lastHour, lastHour + HOUR)));
  process.exit(0);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portent-bench-detect-'));
try {
  const dbPath = path.join(dir, 'portent.db');
  const modelDir = path.join(dir, 'model');
  execFileSync(process.execPath, [...process.execArgv, process.argv[1]!, ...args, '--prepare', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  const written = JSON.parse(fs.readFileSync(path.join(dir, 'written.json'), 'utf8')) as ReturnType<typeof recordHistory>;
  const options = { ...optionsFor(dbPath), ...(models === 'ports' ? { traffic: false } : {}) };

  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const t0 = performance.now();
  const result = await detectInWorker({ dbPath, modelDir, backend, options, nowMs: lastHour + HOUR, seed: 2 }, silentLogger).result;
  const totalS = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.existsSync('/proc/self/status') ? fs.readFileSync('/proc/self/status', 'utf8') : '');
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  const traffic = result.traffic;
  const portsS = (result.scoreMs + result.fitMs) / 1000;
  const trafficS = traffic ? (traffic.scoreMs + traffic.fitMs) / 1000 : 0;
  const out = {
    backend: result.backend,
    models,
    rounds: result.roundsScored,
    ports,
    flows_per_round: Math.round(written.flows / 60),
    connections_per_round: Math.round(written.connections / 60),
    score_s: r3(result.scoreMs / 1000),
    fit_s: r3(result.fitMs / 1000),
    epochs: result.epochs,
    traffic_windows: traffic?.windowsScored ?? null,
    traffic_rows: traffic?.rowsScored ?? null,
    traffic_score_s: traffic ? r3(traffic.scoreMs / 1000) : null,
    traffic_fit_s: traffic ? r3(traffic.fitMs / 1000) : null,
    traffic_epochs: traffic?.epochs ?? null,
    traffic_learning: traffic?.learning.learning ?? null,
    incidents: result.incidents.length,
    injected_named: result.incidents.some((i) => i.ports.some((p) => p.proto === INJECTED.proto && p.port === INJECTED.port)),
    traffic_injected_named: trafficIncidentNamesShell(dbPath),
    total_s: r3(totalS),
    share: { ports: r3(portsS / totalS), traffic: r3(trafficS / totalS), rest: r3(Math.max(0, totalS - portsS - trafficS) / totalS) },
    peak_rss_mb: Math.round(peak / 1e6),
    within_targets: totalS <= 10 && peak / 1e6 <= 600,
    history_rounds: written.rounds,
    rss_before_worker_mb: Math.round(before / 1e6),
    process_hwm_mb: hwm ? Math.round((Number(hwm[1]) * 1024) / 1e6) : null,
    backend_detail: result.backendDetail,
    learning: result.learning.learning,
  };
  console.log(JSON.stringify(out, null, args.includes('--json') ? undefined : 2));
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
