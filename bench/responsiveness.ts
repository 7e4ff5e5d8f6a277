/**
 * Does a long query delay the thread that draws the tray? `npm run bench:responsiveness` prints
 * one JSON object.
 *
 * A real database with thirty days of one-minute rounds (bench/timelineSeed.ts), and the running
 * monitor on it, twice: as before, in the thread that also serves the tray and IPC
 * (`in-thread`), and as now, in its own thread behind EngineClient (`engine-thread`). Each run
 * asks for the 30-day port timeline, as the window does, and 5 ms later a click arrives: a timer
 * on the hosting thread, which is where Electron runs a tray click's handler (Electron itself
 * cannot run here, so the click is that timer). The click's delay is how late its handler ran.
 * Target: at most 16 ms (one frame) with the engine in its own thread.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Handlers } from '../src/shared/contract';
import { createEngineApi } from '../src/main/engine/api';
import { EngineClient } from '../src/main/engine/host/engineClient';
import { silentLogger } from '../src/main/engine/log';
import { Monitor } from '../src/main/engine/monitor';
import { openDatabase } from '../src/main/engine/store/database';
import { optionOf } from './args';
import { seedTimeline } from './timelineSeed';

const DAYS = Number(optionOf(process.argv, 'days', '30'));
const RUNS = Number(optionOf(process.argv, 'runs', '7'));
const CLICK_AFTER_MS = 5;
const TARGET_MS = 16;

const round1 = (x: number) => Math.round(x * 10) / 10;
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** One query with a click arriving while it runs: how late the click's handler ran, and how long the query took. */
async function queryWithClick(api: Handlers, args: { from: number; to: number; buckets: number }): Promise<{ clickDelayMs: number; queryMs: number; ports: number }> {
  const clickDue = performance.now() + CLICK_AFTER_MS;
  const click = new Promise<number>((resolve) => setTimeout(() => resolve(performance.now() - clickDue), CLICK_AFTER_MS));
  const t = performance.now();
  const timeline = await api.portTimeline(args);
  const queryMs = performance.now() - t;
  return { clickDelayMs: Math.max(0, await click), queryMs, ports: timeline.ports.length };
}

async function measure(api: Handlers, args: { from: number; to: number; buckets: number }) {
  await api.portTimeline(args); // warm the page cache and the statements
  const delays: number[] = [];
  const queries: number[] = [];
  let ports = 0;
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  for (let i = 0; i < RUNS; i++) {
    const r = await queryWithClick(api, args);
    delays.push(r.clickDelayMs);
    queries.push(r.queryMs);
    ports = r.ports;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  loop.disable();
  return {
    clickDelayMs: { median: round1(median(delays)), max: round1(Math.max(...delays)) },
    queryMs: { median: round1(median(queries)), max: round1(Math.max(...queries)) },
    hostLoopDelayMaxMs: round1(loop.max / 1e6),
    ports,
  };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portent-bench-responsiveness-'));
try {
  const dbPath = path.join(dir, 'portent.db');
  const db = openDatabase(dbPath);
  const seeded = seedTimeline(db, DAYS);
  db.close();
  const args = { from: seeded.end - DAYS * 86_400_000, to: seeded.end, buckets: 720 };

  const monitor = new Monitor({ dbPath, log: silentLogger, capture: false });
  monitor.start();
  const inThread = await measure(createEngineApi(monitor), args);
  await monitor.stop();

  const client = await EngineClient.start({ dbPath, capture: false, logLine: () => {} });
  const engineThread = await measure(client.handlers, args);
  await client.stop();

  console.log(
    JSON.stringify(
      {
        bench: 'responsiveness',
        days: DAYS,
        socketRows: seeded.sockets,
        databaseBytes: fs.statSync(dbPath).size,
        runs: RUNS,
        query: `portTimeline over ${DAYS} days, ${args.buckets} buckets`,
        click: `a timer due ${CLICK_AFTER_MS} ms after the query is asked for, on the hosting thread`,
        inThread,
        engineThread,
        targetMs: TARGET_MS,
        met: engineThread.clickDelayMs.max <= TARGET_MS,
      },
      null,
      2,
    ),
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
