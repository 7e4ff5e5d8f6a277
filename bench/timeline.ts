/**
 * Speed of the port timeline: `npx tsx bench/timeline.ts` prints one JSON object.
 *
 * Seeds a real database file with thirty days of one-minute rounds holding about fifty ports
 * each (a few listeners held on IPv4 and IPv6, a few that come and go with the hour), then times
 * portTimeline over the last hour, day and thirty days. The timeline view asks for these ranges;
 * each must answer well under a second.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Db } from '../src/main/engine/store/database';
import { portTimeline } from '../src/main/engine/queries/timeline';

const DAYS = Number(process.env.BENCH_DAYS ?? 30);
const STEP_MS = 60_000;
const PORTS = 50;
const RUNS = 7;
const START = Date.UTC(2025, 0, 1);

/** Port k is held always (k < 35), or only in some hours (the rest), by one of twelve programs. */
function seed(db: Db): { rounds: number; sockets: number } {
  const insertRound = db.prepare("INSERT INTO rounds (started_at, ended_at, duration_ms, host, status) VALUES (?, ?, 15, 'bench', 'ok')");
  const insertPort = db.prepare('INSERT INTO ports (proto, port, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?)');
  const insertProcess = db.prepare('INSERT INTO processes (identity, name, exe, user, first_seen_at) VALUES (?, ?, ?, ?, ?)');
  const insertSocket = db.prepare('INSERT INTO rounds_ports (round_id, port_id, family, address, pid, process_id) VALUES (?, ?, ?, ?, ?, ?)');
  const rounds = (DAYS * 86_400_000) / STEP_MS;
  let sockets = 0;
  // A cache large enough for the indexes being built keeps the seed to seconds.
  db.pragma('cache_size = -262144');
  db.transaction(() => {
    const processIds: number[] = [];
    for (let i = 0; i < 12; i++) {
      const name = `daemon${i}`;
      processIds.push(Number(insertProcess.run(JSON.stringify([name, `/usr/sbin/${name}`, 'root']), name, `/usr/sbin/${name}`, 'root', START).lastInsertRowid));
    }
    const portIds: number[] = [];
    for (let k = 0; k < PORTS; k++) {
      portIds.push(Number(insertPort.run(k % 5 === 4 ? 'udp' : 'tcp', 1000 + k * 37, START, START + rounds * STEP_MS).lastInsertRowid));
    }
    for (let i = 0; i < rounds; i++) {
      const at = START + i * STEP_MS;
      const roundId = Number(insertRound.run(at, at + 15).lastInsertRowid);
      const hour = Math.floor(i / 60);
      for (let k = 0; k < PORTS; k++) {
        if (k >= 35 && (hour + k) % 3 === 0) continue;
        const processId = processIds[k % processIds.length]!;
        insertSocket.run(roundId, portIds[k]!, 4, '0.0.0.0', 100 + k, processId);
        sockets++;
        if (k % 10 === 0) {
          insertSocket.run(roundId, portIds[k]!, 6, '::', 100 + k, processId);
          sockets++;
        }
      }
    }
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.pragma('cache_size = -2000');
  return { rounds, sockets };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portent-bench-timeline-'));
try {
  const file = path.join(dir, 'portent.db');
  const db = openDatabase(file);
  const t0 = performance.now();
  const seeded = seed(db);
  const seedMs = performance.now() - t0;
  const end = START + seeded.rounds * STEP_MS;
  const ranges = { hour: 3_600_000, day: 86_400_000, [`${DAYS}days`]: DAYS * 86_400_000 };
  const results: Record<string, { medianMs: number; minMs: number; ports: number; buckets: number }> = {};
  for (const [name, span] of Object.entries(ranges)) {
    const args = { from: end - span, to: end, buckets: 720 };
    const times: number[] = [];
    let last = portTimeline(db, args);
    for (let r = 0; r < RUNS; r++) {
      const t = performance.now();
      last = portTimeline(db, args);
      times.push(performance.now() - t);
    }
    results[name] = { medianMs: Math.round(median(times) * 10) / 10, minMs: Math.round(Math.min(...times) * 10) / 10, ports: last.ports.length, buckets: last.rounds.length };
  }
  db.close();
  console.log(
    JSON.stringify(
      { bench: 'timeline', rounds: seeded.rounds, socketRows: seeded.sockets, seedMs: Math.round(seedMs), databaseBytes: fs.statSync(file).size, buckets: 720, runs: RUNS, ranges: results },
      null,
      2,
    ),
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
