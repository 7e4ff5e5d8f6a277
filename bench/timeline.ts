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
import { openDatabase } from '../src/main/engine/store/database';
import { portTimeline } from '../src/main/engine/queries/timeline';
import { seedTimeline } from './timelineSeed';

const DAYS = Number(process.env.BENCH_DAYS ?? 30);
const RUNS = 7;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portent-bench-timeline-'));
try {
  const file = path.join(dir, 'portent.db');
  const db = openDatabase(file);
  const t0 = performance.now();
  const seeded = seedTimeline(db, DAYS);
  const seedMs = performance.now() - t0;
  const end = seeded.end;
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
