/**
 * Soak: does `portent serve` stay flat over many hours of work? Time is compressed (one-second
 * rounds, a full detection every 60 rounds, so an hour of the bench is about 60 of the
 * monitor's hours) while a client polls the window's API (`getStatus`, as the page does) every
 * second. One JSON object on stdout.
 *
 *   npm run build && npx tsx bench/soak.ts [--minutes 60] [--detections 60] [--iface NAME] [--entry built|source]
 *
 * It runs until both --minutes and --detections are reached (and at most twice --minutes), then
 * stops serve with SIGTERM and runs PRAGMA integrity_check on the database.
 *
 * Sampled every 5 s from /proc and the file system: the serve process's resident set (the
 * engine and detection are threads of it), its open file descriptors and threads, the capture
 * process's resident set, and the size of the database's write-ahead log. Growth is judged after
 * warm-up: the median of each measure over the detections 10 to 20 against its median over the
 * last ten detections; the target is at most 10 % growth. `status` latency is every poll's
 * round-trip time, split by whether a detection was running (from its "detection started" to its
 * "detection finished" or "failed" log line); the target is p99 at most 50 ms while detection
 * runs. Linux only.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { checkArgs, optionOf } from './args';
import { childrenOf, eachLine } from './procfs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
checkArgs(args, ['minutes', 'detections', 'iface', 'entry'], ['json'], (m) => {
  console.error(`bench/soak: ${m}`);
  process.exit(2);
});
const MINUTES = Number(optionOf(args, 'minutes', '60'));
const DETECTIONS = Number(optionOf(args, 'detections', '60'));
const IFACE = optionOf(args, 'iface', '');
const ENTRY = optionOf(args, 'entry', 'built');
const SAMPLE_MS = 5000;
const POLL_MS = 1000;
const WARM_DETECTIONS = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sample {
  t: number;
  /** Detections finished when the sample was taken. */
  detections: number;
  rssMb: number;
  fds: number;
  threads: number;
  walMb: number;
  captureRssMb: number | null;
}

function statusOf(pid: number): string | null {
  try {
    return fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
}

const field = (status: string, name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);

function sizeMb(file: string): number {
  try {
    return fs.statSync(file).size / 1_048_576;
  } catch {
    return 0;
  }
}

function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const median = (values: number[]) => percentile(values, 50);
const round = (x: number | null, digits = 1) => (x === null ? null : Number(x.toFixed(digits)));

/** POST /api/getStatus with the bearer token; resolves with the round-trip time in ms. */
function pollStatus(port: number, token: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: 'POST', path: '/api/getStatus', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, timeout: 10_000 },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`getStatus answered ${res.statusCode}`))));
      },
    );
    req.on('timeout', () => req.destroy(new Error('getStatus took more than 10 s')));
    req.on('error', reject);
    req.end('[]');
  });
}

async function main(): Promise<void> {
  if (process.platform !== 'linux') throw new Error('bench/soak reads /proc and runs on Linux only');
  if (ENTRY !== 'built' && ENTRY !== 'source') throw new Error(`--entry must be built or source; got ${ENTRY}`);
  const built = path.join(here, '..', 'out', 'main', 'cli.js');
  if (ENTRY === 'built' && !fs.existsSync(built)) throw new Error(`${built} is missing: run \`npm run build\` first, or pass --entry source`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portent-soak-'));
  const dbPath = path.join(dir, 'portent.db');
  const command = ENTRY === 'built' ? [built] : ['--import', 'tsx', path.join(here, '..', 'src', 'main', 'headless', 'cli.ts')];
  const child = spawn(process.execPath, [...command, 'serve', '--db', dbPath, '--port', '0', '--round-seconds', '1', '--detect-every', '60', ...(IFACE ? ['--iface', IFACE] : [])], {
    cwd: path.join(here, '..'),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const pid = child.pid!;
  let exited: string | null = null;
  child.once('exit', (code, signal) => (exited = signal ?? `code ${code}`));

  // Detection intervals, from the log on stderr.
  const intervals: { start: number; end: number | null }[] = [];
  let finished = 0;
  let failed = 0;
  let capture = 'no capture log line';
  eachLine(child.stderr, (line) => {
    if (line.includes('"msg":"detection started"')) intervals.push({ start: performance.now(), end: null });
    const done = line.includes('"msg":"detection finished"');
    const fail = line.includes('"msg":"detection failed"') || line.includes('"msg":"detect failed"');
    if (done || fail) {
      const open = intervals.findLast((i) => i.end === null);
      if (open) open.end = performance.now();
      if (done) finished += 1;
      else failed += 1;
    }
    if (line.includes('"msg":"packet capture')) capture = (JSON.parse(line) as { msg: string }).msg;
  });

  // The address file appears once serve listens.
  let url: string | null = null;
  for (let i = 0; i < 120 && url === null && exited === null; i++) {
    await sleep(500);
    try {
      url = fs.readFileSync(`${dbPath}.url`, 'utf8').trim();
    } catch {
      url = null;
    }
  }
  if (url === null) throw new Error(`serve did not start (${exited ?? 'no address file after 60 s'})`);
  const m = /^http:\/\/127\.0\.0\.1:(\d+)\/#token=([A-Za-z0-9_-]+)$/.exec(url);
  if (!m) throw new Error(`unexpected address ${url}`);
  const port = Number(m[1]);
  const token = m[2]!;

  const polls: { at: number; ms: number; detecting: boolean }[] = [];
  let pollErrors = 0;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const at = performance.now();
      const detecting = intervals.some((i) => i.end === null);
      try {
        const ms = await pollStatus(port, token);
        // A poll counts as during detection if one ran at any moment of it.
        const during = detecting || intervals.some((i) => i.start <= at + ms && (i.end === null || i.end >= at));
        polls.push({ at, ms, detecting: during });
      } catch {
        pollErrors += 1;
      }
      await sleep(Math.max(0, POLL_MS - (performance.now() - at)));
    }
  })();

  const samples: Sample[] = [];
  const started = Date.now();
  const wal = `${dbPath}-wal`;
  while (exited === null) {
    const elapsed = Date.now() - started;
    if ((elapsed >= MINUTES * 60_000 && finished >= DETECTIONS) || elapsed >= 2 * MINUTES * 60_000) break;
    await sleep(SAMPLE_MS);
    const status = statusOf(pid);
    if (status === null) break;
    let fds = 0;
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      // Gone meanwhile.
    }
    const captureRss = childrenOf(pid)
      .map((c) => statusOf(c))
      .filter((s): s is string => s !== null)
      .map((s) => field(s, 'VmRSS') / 1024);
    samples.push({
      t: Date.now() - started,
      detections: finished,
      rssMb: field(status, 'VmRSS') / 1024,
      fds,
      threads: field(status, 'Threads'),
      walMb: sizeMb(wal),
      captureRssMb: captureRss.length ? Math.max(...captureRss) : null,
    });
  }
  const elapsedMs = Date.now() - started;
  polling = false;
  await poller;
  if (exited !== null) throw new Error(`serve exited during the soak (${exited})`);
  const hwm = field(statusOf(pid) ?? '', 'VmHWM') / 1024;
  child.kill('SIGTERM');
  const stopT0 = performance.now();
  await new Promise((r) => (exited !== null ? r(null) : child.once('exit', r)));
  const stopMs = performance.now() - stopT0;

  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  let integrity: string;
  let rounds: number;
  try {
    integrity = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('; ');
    rounds = db.prepare("SELECT count(*) FROM rounds WHERE status = 'ok'").pluck().get() as number;
  } finally {
    db.close();
  }
  fs.rmSync(dir, { recursive: true, force: true });

  // Growth after warm-up: detections 10-20 against the last ten.
  const last = finished;
  const early = samples.filter((s) => s.detections >= WARM_DETECTIONS && s.detections < 2 * WARM_DETECTIONS);
  const late = samples.filter((s) => s.detections >= last - WARM_DETECTIONS);
  const growth = (pick: (s: Sample) => number | null) => {
    const a = median(early.map(pick).filter((x): x is number => x !== null));
    const b = median(late.map(pick).filter((x): x is number => x !== null));
    return { early: round(a), late: round(b), growth: a !== null && b !== null && a > 0 ? round(b / a - 1, 3) : null };
  };
  const measures = {
    rss_mb: growth((s) => s.rssMb),
    fds: growth((s) => s.fds),
    threads: growth((s) => s.threads),
    wal_mb: growth((s) => s.walMb),
    capture_rss_mb: growth((s) => s.captureRssMb),
  };
  const during = polls.filter((p) => p.detecting).map((p) => p.ms);
  const outside = polls.filter((p) => !p.detecting).map((p) => p.ms);
  const enoughHistory = last >= 2 * WARM_DETECTIONS;
  const flat = Object.values(measures).every((m) => m.growth === null || m.growth <= 0.1);
  const p99During = percentile(during, 99);
  console.log(
    JSON.stringify({
      bench: 'soak',
      entry: ENTRY,
      minutes: round(elapsedMs / 60_000, 2),
      rounds,
      detections: { finished, failed },
      capture,
      samples: samples.length,
      growth_after_warmup: measures,
      peak: {
        rss_mb: round(Math.max(...samples.map((s) => s.rssMb)), 1),
        rss_hwm_mb: round(hwm, 1),
        fds: Math.max(...samples.map((s) => s.fds)),
        threads: Math.max(...samples.map((s) => s.threads)),
        wal_mb: round(Math.max(...samples.map((s) => s.walMb)), 2),
      },
      status_ms: {
        polls: polls.length,
        errors: pollErrors,
        during_detection: { n: during.length, p50: round(median(during), 2), p99: round(p99During, 2), max: round(during.length ? Math.max(...during) : null, 2) },
        outside_detection: { n: outside.length, p50: round(median(outside), 2), p99: round(percentile(outside, 99), 2) },
      },
      stop_ms: round(stopMs, 0),
      integrity_check: integrity,
      targets: {
        minutes: 60,
        detections: 60,
        growth_max: 0.1,
        status_p99_during_detection_ms: 50,
        met:
          elapsedMs >= 60 * 60_000 &&
          finished >= 60 &&
          enoughHistory &&
          flat &&
          p99During !== null &&
          p99During <= 50 &&
          integrity === 'ok' &&
          pollErrors === 0,
      },
    }),
  );
}

main().catch((err: unknown) => {
  console.error(`bench/soak: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
