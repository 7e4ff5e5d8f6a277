/**
 * The monitor's footprint at its real schedule, as one JSON object on stdout.
 *
 *   npm run build && npx tsx bench/footprint.ts [--minutes 10] [--iface NAME] [--entry built|source] [--detect-every N]
 *
 * Starts `portent run` (one-minute rounds, hourly detection, capture on the default-route
 * interface unless --iface names another) on a fresh database and samples, every 5 seconds, the
 * CPU time and memory of the monitor process and of its capture process from /proc. CPU is
 * reported as a share of one core over the whole run and outside detections (a detection is
 * from its "detection started" log line to its "detection finished"/"failed" line); RSS as the
 * kernel's high-water mark over the run (detections included), as sampled outside detections (a
 * detection's worker thread holds the model and its tensors while it runs) and at the end.
 * `--detect-every N` (rounds) brings detections into a short run. By default the monitor runs
 * as a service would, from the built JavaScript (`node out/main/cli.js run`, capture child
 * `out/main/captureChild.js`); `--entry source` runs it through tsx as `npm run -s portent`
 * does, whose loader adds about 34 MB to each of the two processes. Linux only.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { storedBytes } from '../src/main/engine/maintain/cleanup';
import { childrenOf, eachLine } from './procfs';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const MINUTES = Number(arg('--minutes') ?? 10);
const IFACE = arg('--iface');
const ENTRY = arg('--entry') ?? 'built';
const DETECT_EVERY = arg('--detect-every');
const SAMPLE_MS = 5000;
const TICK_HZ = 100; // USER_HZ on Linux: /proc reports CPU times in 1/100 s.
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cpuTicks(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return null;
  }
}

function memoryKb(pid: number): { rss: number; hwm: number } | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rss: field('VmRSS'), hwm: field('VmHWM') };
  } catch {
    return null;
  }
}

/** Bytes the rows take, read through a read-only connection of its own. */
function storedBytesOf(file: string): number {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return storedBytes(db);
  } finally {
    db.close();
  }
}

async function main(): Promise<void> {
  if (process.platform !== 'linux') throw new Error('bench/footprint reads /proc and runs on Linux only');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portent-footprint-'));
  const dbPath = path.join(dir, 'portent.db');
  if (ENTRY !== 'built' && ENTRY !== 'source') throw new Error(`--entry must be built or source; got ${ENTRY}`);
  const built = path.join(here, '..', 'out', 'main', 'cli.js');
  if (ENTRY === 'built' && !fs.existsSync(built)) throw new Error(`${built} is missing: run \`npm run build\` first, or pass --entry source`);
  const command = ENTRY === 'built' ? [built] : ['--import', 'tsx', path.join(here, '..', 'src', 'main', 'headless', 'cli.ts')];
  const child = spawn(process.execPath, [...command, 'run', '--db', dbPath, ...(IFACE ? ['--iface', IFACE] : []), ...(DETECT_EVERY ? ['--detect-every', DETECT_EVERY] : [])], {
    cwd: path.join(here, '..'),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const pid = child.pid!;
  let detecting = false;
  let detections = 0;
  let captureState = 'unknown';
  eachLine(child.stderr, (line) => {
    if (line.includes('"msg":"detection started"')) {
      detecting = true;
      detections += 1;
    }
    if (line.includes('"msg":"detection finished"') || line.includes('"msg":"detect failed"') || line.includes('"msg":"detection job done"')) detecting = false;
    if (line.includes('"msg":"packet capture')) captureState = line;
  });
  // The first round is at the next whole minute; start measuring once the process has settled.
  await sleep(15_000);
  const firstTicks = cpuTicks(pid);
  if (firstTicks === null) throw new Error('the monitor exited at start; run it by hand to see why');
  const startBytes = fs.existsSync(dbPath) ? storedBytesOf(dbPath) : 0;
  const started = Date.now();
  let last = { t: started, ticks: firstTicks, captureTicks: 0 };
  let idleMs = 0;
  let idleTicks = 0;
  let captureTicksTotal = 0;
  let peakRssKb = 0;
  let peakRssOutsideKb = 0;
  let lastRssKb = 0;
  let peakCaptureRssKb = 0;
  const seenCapture = new Map<number, number>();
  while (Date.now() - started < MINUTES * 60_000) {
    const wasDetecting = detecting;
    await sleep(SAMPLE_MS);
    const ticks = cpuTicks(pid);
    if (ticks === null) throw new Error('the monitor exited during the benchmark');
    const t = Date.now();
    if (!wasDetecting && !detecting) {
      idleMs += t - last.t;
      idleTicks += ticks - last.ticks;
    }
    for (const c of childrenOf(pid)) {
      const ct = cpuTicks(c);
      if (ct === null) continue;
      captureTicksTotal += ct - (seenCapture.get(c) ?? ct);
      seenCapture.set(c, ct);
      peakCaptureRssKb = Math.max(peakCaptureRssKb, memoryKb(c)?.hwm ?? 0);
    }
    const mem = memoryKb(pid);
    peakRssKb = Math.max(peakRssKb, mem?.hwm ?? 0);
    lastRssKb = mem?.rss ?? lastRssKb;
    if (!wasDetecting && !detecting) peakRssOutsideKb = Math.max(peakRssOutsideKb, lastRssKb);
    last = { t, ticks, captureTicks: 0 };
  }
  const elapsedMs = Date.now() - started;
  const totalTicks = last.ticks - firstTicks;
  const endBytes = storedBytesOf(dbPath);
  const rounds = (() => {
    const db = new Database(dbPath, { readonly: true });
    try {
      return db.prepare("SELECT count(*) FROM rounds WHERE status = 'ok'").pluck().get() as number;
    } finally {
      db.close();
    }
  })();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  fs.rmSync(dir, { recursive: true, force: true });
  const share = (ticks: number, ms: number) => (ms > 0 ? Number(((ticks / TICK_HZ / (ms / 1000)) * 100).toFixed(3)) : null);
  console.log(
    JSON.stringify(
      {
        bench: 'footprint',
        entry: ENTRY,
        detect_every_rounds: DETECT_EVERY ? Number(DETECT_EVERY) : 60,
        minutes: Number((elapsedMs / 60_000).toFixed(2)),
        rounds,
        detections,
        capture: captureState === 'unknown' ? 'no capture log line' : JSON.parse(captureState).msg,
        cpu_percent_of_one_core: share(totalTicks, elapsedMs),
        cpu_percent_outside_detection: share(idleTicks, idleMs),
        capture_process_cpu_percent: share(captureTicksTotal, elapsedMs),
        peak_rss_mb: Number((peakRssKb / 1024).toFixed(1)),
        peak_rss_outside_detection_mb: Number((peakRssOutsideKb / 1024).toFixed(1)),
        rss_at_end_mb: Number((lastRssKb / 1024).toFixed(1)),
        capture_process_peak_rss_mb: Number((peakCaptureRssKb / 1024).toFixed(1)),
        db_growth_mb_per_hour: Number((((endBytes - startBytes) / 1_048_576) * (3_600_000 / elapsedMs)).toFixed(3)),
        targets: { cpu_percent_outside_detection: 1, peak_rss_mb: 150 },
      },
      null,
      2,
    ),
  );
}

main().catch((err: unknown) => {
  console.error(String(err instanceof Error ? err.message : err));
  process.exitCode = 1;
});
