/**
 * Quality benchmark: simulated days of a desktop's ports (bench/quality/generator.ts), written
 * through the real RoundStore, detected hour by hour as the scheduler does (score the hour's
 * rounds, then refit), with the daily cleanup at its configured time and the default retention,
 * compared with three baselines: batch max, never seen, and the rule-only engine of
 * bench/quality/rules.ts (`baseline_rules`, one alert per cause; `baseline_rules_merged`, the same
 * flagged rounds merged by spansOf like the other baselines). Metrics per injected incident by
 * overlap, and for the detectors that explain (Portent, the rules) also `named`: an alert counts
 * only if it names one of the incident's ports. Prints one JSON object. Documented in
 * docs/detection.md.
 *
 *   npx tsx bench/quality.ts [--json] [--seed 7 | --seeds 7,11,13] [--days 8] [--ports 65536]
 *       [--user on|off|both] [--parallel 1] [--learn-hours 24] [--backend node|wasm|cpu]
 *       [--verbose] [--diagnose]
 *
 * --seed N       one seed (default 7): prints {seed, without_user, with_user}.
 * --seeds A,B,C  each seed in turn: per-seed results, then for each detector the mean, sample
 *                standard deviation, min and max of precision, recall, F1, false alerts per day
 *                and recall per kind, with and without the user.
 * --user         on: a simulated user marks as expected the first alert of each legitimate
 *                service (bench/quality/user.ts), for Portent and for the rule baseline alike;
 *                off: nobody looks; both (default): both, one run each (twice the time).
 * --days N       simulated days (default 8). From 16 days on, `early` (days 1-8) and `late` (the
 *                last 8) are also evaluated on their own: `--days 40` shows whether detection
 *                holds up once the retention policy has emptied the oldest rounds.
 * --ports N      the model's port axis (default 65536; a multiple of 4096, smaller only to explore
 *                quickly: ports at or beyond it are not seen by the model, and
 *                `injected_beyond_axis_by_kind` says how many incidents that leaves it blind to;
 *                the baselines see every port).
 * --parallel N   runs (one per seed and user setting, each in its own process) at a time
 *                (default 1: a full-size run takes a core).
 * --learn-hours  learning period in hours (default 24: the week starts at midnight).
 * --verbose      per-hour detection lines, injected incidents, alerts of Portent and the rules.
 * --diagnose     before each hour is scored, what the model expects of each injected incident's
 *                port and which cells make normal rounds score high (bench/quality/diagnose.ts).
 * With more than one run, each runs in a child process of this script (`--child`), which keeps
 * a run's memory its own.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendPreference } from '../src/main/engine/detect/backend/selectBackend';
import { DETECTORS, runWeek, type RunResult } from './quality/run';
import { summarize } from './quality/aggregate';
import { checkArgs, optionOf, wholeOption } from './args';

const VALUE_OPTIONS = ['days', 'ports', 'seed', 'seeds', 'user', 'parallel', 'learn-hours', 'backend'];
const FLAG_OPTIONS = ['json', 'verbose', 'diagnose', 'child'];

const args = process.argv.slice(2);
checkArgs(args, VALUE_OPTIONS, FLAG_OPTIONS, fail);
const opt = (name: string, fallback: string) => optionOf(args, name, fallback);
const whole = (name: string, fallback: string, min: number, max: number) => wholeOption(args, name, fallback, min, max, fail);
function fail(message: string): never {
  process.stderr.write(`bench/quality: ${message}\n`);
  process.exit(2);
}

const days = whole('days', '8', 2, 400);
const ports = whole('ports', '65536', 1024, 65_536);
const learnHours = whole('learn-hours', '24', 1, 720);
const parallel = whole('parallel', '1', 1, 16);
const backend = opt('backend', 'node') as BackendPreference;
if (!['node', 'wasm', 'cpu'].includes(backend)) fail('--backend must be node, wasm or cpu');
const userArg = opt('user', 'both');
if (!['on', 'off', 'both'].includes(userArg)) fail('--user must be on, off or both');
const modes: ('off' | 'on')[] = userArg === 'both' ? ['off', 'on'] : [userArg as 'on' | 'off'];
const seeds = args.includes('--seeds') ? opt('seeds', '').split(',').map((s) => Number(s.trim())) : [whole('seed', '7', 0, 2 ** 31 - 1)];
if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0) || new Set(seeds).size !== seeds.length) fail('--seeds must be distinct whole numbers separated by commas');
if (seeds.length > 50) fail('--seeds: at most 50 seeds');
const verbose = args.includes('--verbose');
const diagnose = args.includes('--diagnose');
const indent = args.includes('--json') ? undefined : 2;

async function inProcess(seed: number, user: 'on' | 'off'): Promise<RunResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portent-quality-'));
  try {
    return await runWeek({ seed, days, ports, learnHours, backend, user: user === 'on', verbose, diagnose, dir });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface Job {
  seed: number;
  user: 'on' | 'off';
}

/** One run in a child process of this script; resolves to its result or its error. */
function inChild(job: Job): Promise<RunResult | { seed: number; user: string; error: string }> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const childArgs = ['--child', '--seed', String(job.seed), '--user', job.user, '--days', String(days), '--ports', String(ports), '--learn-hours', String(learnHours), '--backend', backend, '--json'];
  if (verbose) childArgs.push('--verbose');
  if (diagnose) childArgs.push('--diagnose');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...childArgs], { cwd: path.join(here, '..'), stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s: string) => (stdout += s));
    child.on('error', (err) => resolve({ ...job, error: err.message }));
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      try {
        if (code !== 0) throw new Error(`exited with ${code}`);
        resolve(JSON.parse(last) as RunResult);
      } catch (err) {
        resolve({ ...job, error: (err as Error).message });
      }
    });
  });
}

/** Runs the jobs, `parallel` at a time, keeping their order in the result. */
async function runAll(jobs: readonly Job[]): Promise<(RunResult | { seed: number; user: string; error: string })[]> {
  const out: (RunResult | { seed: number; user: string; error: string })[] = new Array(jobs.length);
  let nextJob = 0;
  const worker = async () => {
    while (nextJob < jobs.length) {
      const i = nextJob++;
      const job = jobs[i]!;
      const t0 = performance.now();
      out[i] = await inChild(job);
      process.stderr.write(`bench/quality: seed ${job.seed}, user ${job.user}: ${'error' in out[i]! ? `failed (${(out[i] as { error: string }).error})` : 'done'} in ${Math.round((performance.now() - t0) / 1000)} s\n`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, jobs.length) }, worker));
  return out;
}

const key = (user: 'on' | 'off') => (user === 'on' ? 'with_user' : 'without_user');

if (args.includes('--child')) {
  console.log(JSON.stringify(await inProcess(seeds[0]!, modes[0]!)));
} else {
  const started = performance.now();
  const jobs: Job[] = seeds.flatMap((seed) => modes.map((user) => ({ seed, user })));
  const results = jobs.length === 1 ? [await inProcess(jobs[0]!.seed, jobs[0]!.user)] : await runAll(jobs);
  const perSeed = seeds.map((seed) => ({ seed, ...Object.fromEntries(modes.map((m) => [key(m), results[jobs.findIndex((j) => j.seed === seed && j.user === m)]])) }));
  const failed = results.filter((r) => 'error' in r).length;
  if (seeds.length === 1) {
    console.log(JSON.stringify(perSeed[0], null, indent));
  } else {
    const summary = Object.fromEntries(
      modes.map((m) => [key(m), summarize(results.filter((r, i): r is RunResult => jobs[i]!.user === m && !('error' in r)), DETECTORS)]),
    );
    const first = results.find((r): r is RunResult => !('error' in r));
    console.log(
      JSON.stringify(
        {
          seeds,
          user: userArg,
          backend: first?.backend ?? null,
          ports,
          simulated_days: days,
          learning_hours: learnHours,
          summary,
          per_seed: perSeed,
          failed_runs: failed,
          total_s: Math.round((performance.now() - started) / 100) / 10,
        },
        null,
        indent,
      ),
    );
  }
  if (failed > 0) process.exitCode = 1;
}
