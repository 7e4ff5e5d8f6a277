/**
 * Storage of a busy desktop: `npm run -s bench:storage -- [--days 30] [--capture-days 2] [--seed 7] [--keep-db PATH]`
 * prints one JSON line.
 *
 * Writes `--days` days of one-minute rounds into a real database through the monitor's own
 * stores (RoundStore, CaptureStore, one ResolvedNames), with the daily cleanup run at 03:30 of
 * every simulated day under the default settings, as the monitor runs it. The listeners are the
 * quality benchmark's machine (bench/quality/generator.ts: system daemons, session programs, dev
 * servers, ephemeral UDP clients) with a developer's containers, editors, local stack and test
 * runs on top (bench/desktopListeners.ts): 50 to 300 sockets a round. The last `--capture-days`
 * days also carry the traffic benchmark's desktop (bench/traffic/: connections, flows, packet
 * headers), capture on.
 *
 * Bytes per table come from SQLite's dbstat (pages in use, indexes counted with their table).
 * The port tables are measured over all `--days`; the capture tables per capture day. The
 * 30-day projection is the port tables scaled to 30 days (exact when --days 30), the capture
 * tables times 30 (flows, connections) or times 7 (packets, `retention.packetsDays`). The port
 * timeline is then timed over the whole history (720 buckets, median of 5 after a warm-up call;
 * one timed call when the warm-up took over 2 s), as bench:timeline: wall time, and the CPU time
 * of this process (which a machine busy with other work inflates less), with the load average.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compareSockets, countConnections, type ConnectionEntry, type SocketEntry } from '../src/main/engine/collect/sockets/types';
import { CaptureStore } from '../src/main/engine/store/captureStore';
import { openDatabase, type Db } from '../src/main/engine/store/database';
import { ResolvedNames } from '../src/main/engine/store/resolvedNames';
import { RoundStore } from '../src/main/engine/store/rounds';
import { runCleanup } from '../src/main/engine/maintain/cleanup';
import { portTimeline } from '../src/main/engine/queries/timeline';
import { silentLogger } from '../src/main/engine/log';
import { defaultSettings } from '../src/shared/settings';
import { checkArgs, optionOf, wholeOption } from './args';
import { simulate, dayStartOf } from './quality/generator';
import { DEFAULT_START, simulateTraffic } from './traffic/generator';
import { HOST, IFACE } from './traffic/world';
import { DesktopListeners } from './desktopListeners';

const MB = 1024 * 1024;
const TARGET_BYTES_30D = 300 * MB;
const TARGET_TIMELINE_MS = 200;

const args = process.argv.slice(2);
const fail = (message: string): never => {
  process.stderr.write(`bench:storage: ${message}\n`);
  process.exit(2);
};
checkArgs(args, ['days', 'capture-days', 'seed', 'keep-db'], [], fail);
const days = wholeOption(args, 'days', '30', 1, 90, fail);
const captureDays = wholeOption(args, 'capture-days', '2', 0, days, fail);
const seed = wholeOption(args, 'seed', '7', 0, 2 ** 31, fail);
const keepDb = optionOf(args, 'keep-db', '');

/** Tables whose rows come with every round (the scan); the rest come with capture. */
const PORT_TABLES = ['rounds', 'ports', 'processes', 'rounds_ports', 'round_connections'];
const PACKET_TABLES = ['packets'];

/** Bytes per table, each table's indexes included, from dbstat. */
function tableBytes(db: Db): Record<string, number> {
  const rows = db
    .prepare<[], { tbl: string; bytes: number }>(
      `SELECT coalesce(m.tbl_name, d.name) AS tbl, sum(d.pgsize) AS bytes
       FROM dbstat d LEFT JOIN sqlite_schema m ON m.name = d.name GROUP BY tbl ORDER BY bytes DESC`,
    )
    .all();
  return Object.fromEntries(rows.map((r) => [r.tbl, r.bytes]));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mb = (n: number) => Math.round((n / MB) * 10) / 10;

async function main(): Promise<void> {
  const t0 = performance.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portent-bench-storage-'));
  const file = keepDb || path.join(dir, 'portent.db');
  if (keepDb) fs.rmSync(keepDb, { force: true });
  const db = openDatabase(file);
  db.pragma('synchronous = OFF'); // a thrown-away file: changes no row, halves the time
  try {
    // The capture days end the history, so the packets' retention has not removed them.
    const start = dayStartOf(DEFAULT_START, captureDays - days);
    const captureStart = DEFAULT_START;
    const end = dayStartOf(start, days);
    const ports = simulate({ start, days, seed }).rounds();
    const traffic = captureDays > 0 ? simulateTraffic({ seed, days: captureDays, perKind: 0 }).rounds() : null;
    const extra = new DesktopListeners(seed);
    const names = new ResolvedNames();
    const rounds = new RoundStore(db, names);
    const capture = new CaptureStore(db, names);
    const settings = defaultSettings();
    let previous: ConnectionEntry[] = [];
    let nextCleanup = dayStartOf(start, 0) + 3.5 * 3_600_000;
    let cleanups = 0;
    const listeners = { min: Infinity, max: 0, sum: 0 };
    let roundCount = 0;
    for (const q of ports) {
      const t = q.startedAt;
      if (t >= nextCleanup) {
        await runCleanup(db, { retention: settings, trigger: 'schedule', dbPath: file, log: silentLogger, now: () => t });
        cleanups++;
        nextCleanup = dayStartOf(nextCleanup, 1) + 3.5 * 3_600_000;
      }
      const sockets: SocketEntry[] = [...q.sockets, ...extra.at(t, q.sockets)].sort(compareSockets);
      listeners.min = Math.min(listeners.min, sockets.length);
      listeners.max = Math.max(listeners.max, sockets.length);
      listeners.sum += sockets.length;
      roundCount++;
      if (traffic && t >= captureStart) {
        const r = traffic.next();
        if (r.done || r.value.startedAt !== t) throw new Error(`traffic round out of step at ${new Date(t).toISOString()}`);
        const snap = r.value.snapshot;
        const id = rounds.record({ host: HOST, startedAt: t, endedAt: t + 3, outcome: { sockets, connections: snap.connections, connected: snap.connected } });
        capture.record(id, { state: 'on', iface: IFACE, report: r.value.report }, { current: snap.connected, previous });
        previous = snap.connected;
      } else {
        rounds.record({ host: HOST, startedAt: t, endedAt: t + 3, outcome: { sockets, connections: countConnections([]) } });
      }
    }
    const writeS = (performance.now() - t0) / 1000;
    db.pragma('wal_checkpoint(TRUNCATE)');

    const bytes = tableBytes(db);
    const sum = (names: readonly string[]) => names.reduce((a, n) => a + (bytes[n] ?? 0), 0);
    const portBytes = sum(PORT_TABLES.concat(Object.keys(bytes).filter((n) => n.startsWith('rounds_ports_'))));
    const packetBytes = sum(PACKET_TABLES);
    const otherNames = Object.keys(bytes).filter((n) => !PORT_TABLES.includes(n) && !PACKET_TABLES.includes(n) && !n.startsWith('rounds_ports_'));
    const captureBytes = sum(otherNames);
    const projected30d = (portBytes * 30) / days + (captureDays > 0 ? (captureBytes * 30) / captureDays + (packetBytes * Math.min(7, 30)) / captureDays : 0);

    // The first call warms the cache; a slow timeline is timed once more, not five times.
    const warm = performance.now();
    let timeline = portTimeline(db, { from: start, to: end, buckets: 720 });
    const runs = performance.now() - warm > 2000 ? 1 : 5;
    const times: number[] = [];
    const cpuTimes: number[] = [];
    for (let i = 0; i < runs; i++) {
      const a = performance.now();
      const c = process.cpuUsage();
      timeline = portTimeline(db, { from: start, to: end, buckets: 720 });
      const used = process.cpuUsage(c);
      cpuTimes.push((used.user + used.system) / 1000);
      times.push(performance.now() - a);
    }
    const timelineMs = Math.round(median(times) * 10) / 10;
    const timelineCpuMs = Math.round(median(cpuTimes) * 10) / 10;
    const socketRows = Math.round(listeners.sum);
    const perDay = Object.fromEntries(
      Object.entries(bytes).map(([n, b]) => [n, Math.round(b / (PORT_TABLES.includes(n) || n.startsWith('rounds_ports') ? days : Math.max(1, captureDays)))]),
    );
    console.log(
      JSON.stringify({
        bench: 'storage',
        seed,
        days,
        captureDays,
        rounds: roundCount,
        cleanups,
        listenersPerRound: { min: listeners.min, max: listeners.max, mean: Math.round(listeners.sum / roundCount) },
        socketRows,
        fileBytes: fs.statSync(file).size,
        tableBytes: bytes,
        tableBytesPerDay: perDay,
        portTablesMb: mb(portBytes),
        captureTablesMbPerDay: captureDays > 0 ? mb(captureBytes / captureDays) : null,
        packetsMbPerDay: captureDays > 0 ? mb(packetBytes / captureDays) : null,
        projected30dMb: mb(projected30d),
        timeline: { days, buckets: 720, runs, medianMs: timelineMs, cpuMedianMs: timelineCpuMs, ports: timeline.ports.length, truncated: timeline.truncated },
        loadAverage: os.loadavg().map((l) => Math.round(l * 10) / 10),
        target: { projected30dMb: mb(TARGET_BYTES_30D), timelineMs: TARGET_TIMELINE_MS },
        met: { storage: projected30d <= TARGET_BYTES_30D, timeline: timelineMs <= TARGET_TIMELINE_MS },
        seconds: Math.round((performance.now() - t0) / 100) / 10,
        writeSeconds: Math.round(writeS * 10) / 10,
      }),
    );
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
