/**
 * Traffic benchmark: a simulated week of a desktop's traffic per process (bench/traffic/desktop.ts)
 * with injected incidents (bench/traffic/incidents.ts: reverse shells, beacons, exfiltration,
 * inbound port scans, DNS tunnels; four of each by default), written round by round into a real
 * Portent database through the monitor's own stores, then every detector run on that database
 * and scored against the labels (bench/traffic/evaluate.ts): per-kind recall and delay,
 * precision, false alerts per simulated day after the learning day. The detectors today are the
 * two baselines of bench/traffic/baselines.ts; the traffic model joins them in
 * bench/traffic/run.ts. Documented in bench/traffic/README.md.
 *
 *   npx tsx bench/traffic.ts [--json] [--seed 7 | --seeds 7,11,13] [--days 8] [--keep-db PATH]
 *       [--baselines-only] [--ports 65536] [--backend wasm|cpu|node] [--score-every 10] [--user both] [--verbose]
 *
 * --seed N        one seed (default 7).
 * --seeds A,B,C   each seed in turn; then per detector the mean, sample standard deviation, min
 *                 and max of each metric over the seeds.
 * --days N        simulated days (default 8: one learning day and seven days of incidents).
 * --keep-db PATH  keep the database at PATH and its labels at PATH.labels.json (with several
 *                 seeds, PATH gets -seedN before its extension); otherwise both are removed.
 * --json          one JSON object (without it, a table and then the JSON).
 * --baselines-only  the two baselines alone (seconds instead of minutes).
 * --ports N       Portent's port-model axis (default 65,536, the product's; smaller only to explore).
 * --backend       the detection backend (default wasm, as shipped).
 * --score-every N minutes between Portent's 'score' runs (default 10: when a traffic window
 *                 completes, as the monitor does); 0: the hourly job alone.
 * --user on|off|both  Portent without (`portent`) and with (`portent_user`) a simulated user who
 *                 marks the first alert about each legitimate program as expected
 *                 (bench/traffic/user.ts); default both, which runs Portent twice.
 * --detect-seed N  the seed of Portent's own random draws (its models' initial weights, the
 *                 windows it replays and holds out); default: the week's seed. The same week
 *                 under other draws tells how much of a figure is the week and how much the draws.
 * --verbose       Portent's hourly runs and incidents on stderr.
 *
 * Portent runs as the monitor's hourly job would, both models with the default settings, one
 * detection per simulated hour (bench/traffic/portent.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkArgs, optionOf, wholeOption } from './args';
import { spreadOfTraffic } from './traffic/evaluate';
import { TRAFFIC_KINDS } from './traffic/incidents';
import { DETECTORS, runTraffic, type TrafficRun } from './traffic/run';
import { portentDetector } from './traffic/portent';
import type { BackendPreference } from '../src/main/engine/detect/backend/selectBackend';

const VALUE_OPTIONS = ['seed', 'seeds', 'days', 'keep-db', 'ports', 'backend', 'score-every', 'user', 'detect-seed'];
const FLAG_OPTIONS = ['json', 'baselines-only', 'verbose'];

function fail(message: string): never {
  process.stderr.write(`bench/traffic: ${message}\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
checkArgs(args, VALUE_OPTIONS, FLAG_OPTIONS, fail);
const whole = (name: string, fallback: string, min: number, max: number) => wholeOption(args, name, fallback, min, max, fail);
const days = whole('days', '8', 2, 60);
const seeds = args.includes('--seeds') ? optionOf(args, 'seeds', '').split(',').map((s) => Number(s.trim())) : [whole('seed', '7', 0, 2 ** 31 - 1)];
if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0) || new Set(seeds).size !== seeds.length) fail('--seeds must be distinct whole numbers separated by commas');
const keep = args.includes('--keep-db') ? path.resolve(optionOf(args, 'keep-db', '')) : null;
const json = args.includes('--json');
const ports = whole('ports', '65536', 4096, 65_536);
const scoreEveryMinutes = whole('score-every', '10', 0, 60);
const backend = optionOf(args, 'backend', 'wasm') as BackendPreference;
const verbose = args.includes('--verbose');
const detectSeed = args.includes('--detect-seed') ? whole('detect-seed', '0', 0, 2 ** 31 - 1) : null;
const user = optionOf(args, 'user', 'both');
if (!['on', 'off', 'both'].includes(user)) fail('--user must be on, off or both');
if (!['node', 'wasm', 'cpu'].includes(backend)) fail('--backend must be node, wasm or cpu');
const detectorsFor = (seed: number) =>
  args.includes('--baselines-only')
    ? DETECTORS
    : {
        ...(user !== 'on' ? { portent: portentDetector({ ports, backend, seed: detectSeed ?? seed, scoreEveryMinutes, verbose }) } : {}),
        ...(user !== 'off' ? { portent_user: portentDetector({ ports, backend, seed: detectSeed ?? seed, scoreEveryMinutes, verbose, user: true }) } : {}),
        ...DETECTORS,
      };

function dbPathFor(seed: number, dir: string): string {
  if (!keep) return path.join(dir, `traffic-${seed}.db`);
  if (seeds.length === 1) return keep;
  const ext = path.extname(keep);
  return `${keep.slice(0, keep.length - ext.length)}-seed${seed}${ext}`;
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '   -' : x.toFixed(2).padStart(4));
const num = (x: number | null | undefined, w = 6) => (x === null || x === undefined ? '-'.padStart(w) : String(x).padStart(w));

function table(runs: readonly TrafficRun[]): string {
  const lines: string[] = [];
  for (const r of runs) {
    lines.push(`seed ${r.seed}: ${r.days} days, ${r.rounds} rounds, written in ${r.generate_s} s, ${Math.round(r.db_bytes / 1e6)} MB; injected ${TRAFFIC_KINDS.map((k) => `${r.injected[k]} ${k}`).join(', ')}`);
    lines.push(`  ${'detector'.padEnd(24)} alerts  prec  recall  F1   false/day  delay(min)  ${TRAFFIC_KINDS.map((k) => k.padStart(13)).join(' ')}`);
    for (const [name, m] of Object.entries(r.detectors)) {
      const kinds = TRAFFIC_KINDS.map((k) => `${pct(m.by_kind[k].recall)} ${num(m.by_kind[k].mean_delay_min, 7)}`.padStart(13)).join(' ');
      lines.push(`  ${name.padEnd(24)} ${num(m.alerts)}  ${pct(m.precision)}  ${pct(m.recall)}  ${pct(m.f1)}  ${num(m.false_alerts_per_day, 8)}  ${num(m.mean_delay_min, 10)}  ${kinds}`);
    }
  }
  lines.push('(per kind: recall and mean delay in minutes)');
  return lines.join('\n');
}

const started = performance.now();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portent-traffic-'));
const runs: TrafficRun[] = [];
try {
  for (const seed of seeds) {
    runs.push(await runTraffic({ seed, days, dbPath: dbPathFor(seed, dir), detectors: detectorsFor(seed) }));
    if (seeds.length > 1 && !json) process.stderr.write(`bench/traffic: seed ${seed} done\n`);
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
const summary = seeds.length > 1 ? Object.fromEntries(Object.keys(runs[0]!.detectors).map((d) => [d, spreadOfTraffic(runs.map((r) => r.detectors[d]!))])) : undefined;
const result = seeds.length === 1 ? { ...runs[0]!, total_s: Math.round((performance.now() - started) / 100) / 10 } : { seeds, days, summary, per_seed: runs, total_s: Math.round((performance.now() - started) / 100) / 10 };
if (!json) process.stdout.write(`${table(runs)}\n\n`);
process.stdout.write(`${JSON.stringify(result, null, json ? undefined : 2)}\n`);
