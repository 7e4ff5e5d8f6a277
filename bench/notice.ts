/**
 * The cost of time to notice: after each round that changed what listens, the monitor scores the
 * rounds waiting with the stored model in its worker (a 'score' run, docs/detection.md "Time to
 * notice"). This times such runs on a model trained on a few days of history at 65,536 ports,
 * each after one round in which a listener opened or closed, and prints one JSON object:
 *   {backend, runs, rounds_per_run, cpu_ms: {median, max}, wall_ms: {median, max}, peak_rss_mb,
 *    cpu_percent_if_every_round_changed, cpu_percent_at_100_changes_a_day}
 *   npx tsx bench/notice.ts --json [--runs 10] [--days 3] [--backend node|wasm|cpu]
 * CPU is the whole process's user + system time during the run (the worker is a thread of it),
 * so it includes starting the worker, loading the engine and the backend and the model. Under
 * tsx (this bench) the worker also loads TypeScript; the built monitor's worker is plain
 * JavaScript, so these figures are an upper bound. The history and the first model are
 * prepared, untimed, by `bench/detect.ts --prepare`.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
const runs = Number(opt('runs', '10'));
const days = Number(opt('days', '3'));
const backend = opt('backend', 'node') as BackendPreference;
const MIN = 60_000;
const HOUR = 60 * MIN;
const start = new Date(2026, 2, 2).getTime();
// bench/detect.ts --prepare records and trains on the history up to its last hour.
const lastHour = start + days * 24 * HOUR - HOUR;
const here = path.dirname(fileURLToPath(import.meta.url));

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portent-bench-notice-'));
try {
  execFileSync(process.execPath, [...process.execArgv, path.join(here, 'detect.ts'), '--days', String(days), '--backend', backend, '--prepare', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  const dbPath = path.join(dir, 'portent.db');
  const modelDir = path.join(dir, 'model');
  // The rounds of the hour after the history, as the generator has them; every other round a
  // listener opens (the round after, it closes), so each round differs from the one before.
  const { rounds } = generate({ start, days: days + 1, seed: 11, quietHours: 24 * (days + 1) });
  const hour = rounds.filter((r) => r.startedAt >= lastHour && r.startedAt < lastHour + HOUR);
  const listener: SocketEntry = { proto: 'tcp', family: 4, address: '127.0.0.1', port: 8123, pid: 4242, process: 'python3', exe: '/usr/bin/python3.11', user: 'alice' };
  const db = openDatabase(dbPath);
  const store = new RoundStore(db);
  const options = { ...detectionOptions(db, 'schedule'), scope: 'score' as const };
  const noConnections = countConnections([]);
  const cpu: number[] = [];
  const wall: number[] = [];
  let scored = 0;
  let used = '';
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  for (let i = 0; i < runs && i < hour.length; i++) {
    const r = hour[i]!;
    store.record({ host: 'bench', startedAt: r.startedAt, endedAt: r.startedAt + 200, outcome: { sockets: i % 2 === 0 ? [...r.sockets, listener] : r.sockets, connections: noConnections } });
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const result = await detectInWorker({ dbPath, modelDir, backend, options, nowMs: r.startedAt + 1_000, seed: 3 }, silentLogger).result;
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    scored += result.roundsScored;
    used = result.backend;
  }
  clearInterval(sampler);
  db.close();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const round = (x: number) => Math.round(x);
  const perRun = median(cpu);
  console.log(
    JSON.stringify(
      {
        backend: used,
        runs: cpu.length,
        rounds_per_run: scored / cpu.length,
        cpu_ms: { median: round(perRun), max: round(Math.max(...cpu)) },
        wall_ms: { median: round(median(wall)), max: round(Math.max(...wall)) },
        peak_rss_mb: Math.round(peak / 1e6),
        // One changed round a minute is the worst case; a desktop changes what listens a few
        // dozen times a day (logins, dev servers, updates).
        cpu_percent_if_every_round_changed: Math.round((perRun / 60_000) * 100 * 1000) / 1000,
        cpu_percent_at_100_changes_a_day: Math.round(((perRun * 100) / 86_400_000) * 100 * 1000) / 1000,
      },
      null,
      args.includes('--json') ? undefined : 2,
    ),
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
