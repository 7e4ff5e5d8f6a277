/**
 * The monitor's footprint at its real schedule, as one JSON object on stdout.
 *
 *   npm run build && npx tsx bench/footprint.ts [--minutes 10] [--iface NAME] [--entry built|source]
 *     [--detect-every N] [--capture-helper built|none|PATH]
 *
 * Starts `portent run` (one-minute rounds, hourly detection, capture on the default-route
 * interface unless --iface names another) on a fresh database and samples, every 5 seconds, the
 * CPU time and memory of every process of Portent's from /proc: the monitor, the capture helper
 * that captures for it (the C program that holds the kernel ring) or, without one, its capture
 * process (Node, cap and the ring), and anything else they start. CPU is reported as a share of one core
 * over the whole run and outside detections (a detection is from its "detection started" log line
 * to its "detection finished"/"failed" line). Memory is reported per process and for all of them
 * together (`all_processes`, the budget of issue 18: at most 150 MB RSS at idle): RSS, and PSS and
 * USS from /proc/PID/smaps_rollup, since RSS counts the Node binary's shared code once in each
 * Node process. "Idle" is every sample outside detections (rounds included); the maximum, the mean
 * and the last sample are given. A detection's worker thread holds the model and its tensors while
 * it runs, hence the separate peak (the kernel's high-water mark, detections included).
 * `--detect-every N` (rounds) brings detections into a short run. By default the monitor runs as a
 * service would, from the built JavaScript (`node out/main/cli.js run`, capture child
 * `out/main/captureChild.js`), and captures as an installation does, through a capture helper: the
 * installed one if there is one, else the one built in native/capture (which `portent
 * capture-setup` would install; as root it runs without being installed). The monitor then decodes
 * in a worker thread. `--capture-helper none` measures the other setup, root without a helper,
 * where a capture process opens the capture with cap and holds the ring itself; `--capture-helper
 * PATH` names a helper. `--entry source` runs it through tsx as `npm run -s portent` does, whose
 * loader adds about 34 MB to each Node process. Linux only.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { storedBytes } from '../src/main/engine/maintain/cleanup';
import { builtCaptureHelper, installedCaptureHelper } from '../src/main/engine/collect/capture/captureHelper';
import { descendantsOf, eachLine, memoryOf, processName, type ProcessMemory } from './procfs';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const MINUTES = Number(arg('--minutes') ?? 10);
const IFACE = arg('--iface');
const ENTRY = arg('--entry') ?? 'built';
const DETECT_EVERY = arg('--detect-every');
const CAPTURE_HELPER = arg('--capture-helper');
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

/** Bytes the rows take, read through a read-only connection of its own. */
function storedBytesOf(file: string): number {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return storedBytes(db);
  } finally {
    db.close();
  }
}

/** Memory of one kind of process (the monitor, the capture process, the helper) over the run, in kB. */
interface ProcessSeries {
  pids: Set<number>;
  rssIdleMax: number;
  hwm: number;
  last: ProcessMemory | null;
}

const mb = (kb: number) => Number((kb / 1024).toFixed(1));

async function main(): Promise<void> {
  if (process.platform !== 'linux') throw new Error('bench/footprint reads /proc and runs on Linux only');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portent-footprint-'));
  const dbPath = path.join(dir, 'portent.db');
  if (ENTRY !== 'built' && ENTRY !== 'source') throw new Error(`--entry must be built or source; got ${ENTRY}`);
  const built = path.join(here, '..', 'out', 'main', 'cli.js');
  if (ENTRY === 'built' && !fs.existsSync(built)) throw new Error(`${built} is missing: run \`npm run build\` first, or pass --entry source`);
  const helper = CAPTURE_HELPER === 'none' ? null : CAPTURE_HELPER === 'built' || CAPTURE_HELPER === undefined ? (installedCaptureHelper() ?? builtCaptureHelper()) : CAPTURE_HELPER;
  if (CAPTURE_HELPER !== 'none' && !helper) throw new Error('no capture helper is installed or built in native/capture (npm ci builds it); pass --capture-helper none to measure without one');
  const command = ENTRY === 'built' ? [built] : ['--import', 'tsx', path.join(here, '..', 'src', 'main', 'headless', 'cli.ts')];
  const runArgs = ['run', '--db', dbPath, ...(IFACE ? ['--iface', IFACE] : []), ...(DETECT_EVERY ? ['--detect-every', DETECT_EVERY] : []), '--capture-helper', helper ?? 'none'];
  const child = spawn(process.execPath, [...command, ...runArgs], {
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
  let last = { t: started, ticks: firstTicks };
  let idleMs = 0;
  let idleTicks = 0;
  let othersTicksTotal = 0;
  const seenTicks = new Map<number, number>();
  // Per kind of process, and for all of them together at each sample (kB).
  const series = new Map<string, ProcessSeries>();
  const names = new Map<number, string>();
  const idleTotals: ProcessMemory[] = [];
  let lastTotal: ProcessMemory = { rss: 0, hwm: 0, pss: 0, uss: 0 };
  let lastDescendants = 0;
  while (Date.now() - started < MINUTES * 60_000) {
    const wasDetecting = detecting;
    await sleep(SAMPLE_MS);
    const ticks = cpuTicks(pid);
    if (ticks === null) throw new Error('the monitor exited during the benchmark');
    const t = Date.now();
    const idle = !wasDetecting && !detecting;
    if (idle) {
      idleMs += t - last.t;
      idleTicks += ticks - last.ticks;
    }
    const descendants = descendantsOf(pid);
    lastDescendants = descendants.length;
    for (const c of descendants) {
      const ct = cpuTicks(c);
      if (ct === null) continue;
      othersTicksTotal += ct - (seenTicks.get(c) ?? ct);
      seenTicks.set(c, ct);
    }
    const total: ProcessMemory = { rss: 0, hwm: 0, pss: 0, uss: 0 };
    for (const p of [pid, ...descendants]) {
      const mem = memoryOf(p);
      if (mem === null) continue;
      if (!names.has(p)) names.set(p, p === pid ? 'monitor' : processName(p));
      const name = names.get(p)!;
      const s = series.get(name) ?? { pids: new Set<number>(), rssIdleMax: 0, hwm: 0, last: null };
      series.set(name, s);
      s.pids.add(p);
      s.hwm = Math.max(s.hwm, mem.hwm);
      s.last = mem;
      if (idle) s.rssIdleMax = Math.max(s.rssIdleMax, mem.rss);
      total.rss += mem.rss;
      total.pss += mem.pss;
      total.uss += mem.uss;
    }
    lastTotal = total;
    if (idle) idleTotals.push(total);
    last = { t, ticks };
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
  const maxOf = (key: keyof ProcessMemory) => mb(Math.max(0, ...idleTotals.map((x) => x[key])));
  const meanOf = (key: keyof ProcessMemory) => mb(idleTotals.reduce((sum, x) => sum + x[key], 0) / Math.max(1, idleTotals.length));
  const monitor = series.get('monitor');
  const captureChild = [...series.entries()].find(([name]) => name.startsWith('captureChild'))?.[1];
  console.log(
    JSON.stringify(
      {
        bench: 'footprint',
        entry: ENTRY,
        capture_helper: helper ?? null,
        detect_every_rounds: DETECT_EVERY ? Number(DETECT_EVERY) : 60,
        minutes: Number((elapsedMs / 60_000).toFixed(2)),
        rounds,
        detections,
        capture: captureState === 'unknown' ? 'no capture log line' : JSON.parse(captureState).msg,
        cpu_percent_of_one_core: share(totalTicks, elapsedMs),
        cpu_percent_outside_detection: share(idleTicks, idleMs),
        capture_process_cpu_percent: share(othersTicksTotal, elapsedMs),
        peak_rss_mb: mb(monitor?.hwm ?? 0),
        peak_rss_outside_detection_mb: mb(monitor?.rssIdleMax ?? 0),
        rss_at_end_mb: mb(monitor?.last?.rss ?? 0),
        capture_process_peak_rss_mb: mb(captureChild?.hwm ?? 0),
        // Every process of Portent's at each idle sample, summed; then each kind of process.
        all_processes: {
          processes_at_end: 1 + lastDescendants,
          idle_samples: idleTotals.length,
          rss_max_mb: maxOf('rss'),
          rss_mean_mb: meanOf('rss'),
          rss_at_end_mb: mb(lastTotal.rss),
          pss_max_mb: maxOf('pss'),
          pss_mean_mb: meanOf('pss'),
          uss_max_mb: maxOf('uss'),
          uss_mean_mb: meanOf('uss'),
        },
        processes: Object.fromEntries(
          [...series.entries()].map(([name, s]) => [
            name,
            {
              pids: s.pids.size,
              rss_max_idle_mb: mb(s.rssIdleMax),
              rss_peak_mb: mb(s.hwm),
              rss_at_end_mb: mb(s.last?.rss ?? 0),
              pss_at_end_mb: mb(s.last?.pss ?? 0),
              uss_at_end_mb: mb(s.last?.uss ?? 0),
            },
          ]),
        ),
        db_growth_mb_per_hour: Number((((endBytes - startBytes) / 1_048_576) * (3_600_000 / elapsedMs)).toFixed(3)),
        targets: { cpu_percent_outside_detection: 1, all_processes_rss_max_mb: 150 },
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
