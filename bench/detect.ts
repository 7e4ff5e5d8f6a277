/**
 * Speed benchmark: one hourly detection (score the last hour's 60 rounds, then refit) at 65,536
 * ports, on a generated history of a few days, run in the detection worker exactly as the
 * scheduler runs it (its options come from the database's settings, here the defaults). The
 * timed hour is not quiet: a backdoor (/tmp/.x/x) listens on 4444/tcp from its 20th to its 40th
 * minute, so the timing includes explaining the anomalous rounds and writing the incident.
 * Prints one JSON object:
 *   {backend, rounds, ports, score_s, fit_s, epochs, incidents, total_s, peak_rss_mb, ...}
 *   npx tsx bench/detect.ts --json [--days 3] [--backend node|wasm|cpu] [--ports 65536]
 * epochs are the epochs the timed refit trained; incidents the incidents the timed detection
 * opened or extended, and injected_named whether one of them names 4444/tcp.
 * peak_rss_mb is the whole process's resident set (the worker is a thread of it), sampled every
 * 20 ms during the timed detection, and process_hwm_mb the kernel's high-water mark; the untimed
 * preparation (writing the history, scoring it and training the model) runs in a child process
 * (`--prepare <dir>`) so it counts in neither.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../src/main/engine/store/database';
import { RoundStore } from '../src/main/engine/store/rounds';
import { countConnections, type SocketEntry } from '../src/main/engine/collect/sockets/types';
import { detectionOptions } from '../src/main/engine/detectionOptions';
import { detectInWorker } from '../src/main/engine/detect/detectInWorker';
import { silentLogger } from '../src/main/engine/log';
import type { BackendPreference } from '../src/main/engine/detect/backend/selectBackend';
import { generate } from './quality/generator';
import { optionOf } from './args';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => optionOf(args, name, fallback);
const days = Number(opt('days', '3'));
const ports = Number(opt('ports', '65536'));
const backend = opt('backend', 'node') as BackendPreference;
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

function recordHistory(dbPath: string, from: number, to: number): number {
  const db = openDatabase(dbPath);
  const store = new RoundStore(db);
  const { rounds } = generate({ start, days, seed: HISTORY_SEED, quietHours: 24 * days });
  const noConnections = countConnections([]);
  for (const r of rounds) {
    if (r.startedAt < from || r.startedAt >= to) continue;
    const sockets = r.startedAt >= INJECTED.from && r.startedAt < INJECTED.to ? [...r.sockets, backdoor] : r.sockets;
    store.record({ host: 'bench', startedAt: r.startedAt, endedAt: r.startedAt + 200, outcome: { sockets, connections: noConnections } });
  }
  db.close();
  return rounds.length;
}

if (args.includes('--prepare')) {
  const dir = opt('prepare', '');
  const dbPath = path.join(dir, 'portent.db');
  recordHistory(dbPath, start, lastHour);
  await detectInWorker({ dbPath, modelDir: path.join(dir, 'model'), backend, options: optionsFor(dbPath), nowMs: lastHour, seed: 1 }, silentLogger).result;
  process.exit(0);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portent-bench-detect-'));
try {
  const dbPath = path.join(dir, 'portent.db');
  const modelDir = path.join(dir, 'model');
  execFileSync(process.execPath, [...process.execArgv, process.argv[1]!, ...args, '--prepare', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  const historyRounds = recordHistory(dbPath, lastHour, lastHour + HOUR);
  const options = optionsFor(dbPath);

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
  const out = {
    backend: result.backend,
    rounds: result.roundsScored,
    ports,
    score_s: r3(result.scoreMs / 1000),
    fit_s: r3(result.fitMs / 1000),
    epochs: result.epochs,
    incidents: result.incidents.length,
    injected_named: result.incidents.some((i) => i.ports.some((p) => p.proto === INJECTED.proto && p.port === INJECTED.port)),
    total_s: r3(totalS),
    peak_rss_mb: Math.round(peak / 1e6),
    history_rounds: historyRounds,
    rss_before_worker_mb: Math.round(before / 1e6),
    process_hwm_mb: hwm ? Math.round((Number(hwm[1]) * 1024) / 1e6) : null,
    backend_detail: result.backendDetail,
    learning: result.learning.learning,
  };
  console.log(JSON.stringify(out, null, args.includes('--json') ? undefined : 2));
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
