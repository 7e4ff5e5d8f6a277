/**
 * What deploy/ gives a fleet's Prometheus and Grafana: the alerting rules pass Prometheus's own
 * checker and their unit tests (Debian's promtool), and the dashboard asks only for metrics
 * Portent exposes.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/main/engine/metrics';
import type { Status } from '../../../src/shared/contract';
import { repoRoot } from '../../support/cli';
import { openTestDb } from '../../support/db';

const RULES = path.join(repoRoot, 'deploy', 'prometheus');
const why = spawnSync('sh', ['-c', 'command -v promtool']).status === 0 ? null : 'promtool (Debian prometheus) is not installed';

/** Every metric name Portent exposes, from a real exposition. */
async function exposedNames(): Promise<Set<string>> {
  const { db } = openTestDb();
  try {
    const status = { version: '0', monitoring: true, paused: false, monitoringSince: null, database: '', databaseBytes: 0, lastRound: null, capture: { state: 'off', iface: null, message: null, remedy: [] }, model: { state: 'none', training: false, backend: null, version: null, threshold: null, roundsSeen: 0, roundsNeeded: 1, progress: 0 }, detection: { running: false, lastRunAt: null, lastRunStatus: null }, unscoredRounds: 0, incidents: { today: 0, week: 0, unseen: 0 }, snoozedUntil: null } satisfies Status;
    const text = await createMetrics({ db, status: () => status }).text();
    return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
  } finally {
    db.close();
  }
}

describe('deploy/: rules and dashboard for a fleet', () => {
  it.skipIf(why !== null)(`the rules pass promtool check rules and their unit tests (${why ?? 'promtool'})`, () => {
    const check = spawnSync('promtool', ['check', 'rules', 'portent.rules.yml'], { cwd: RULES, encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toContain('SUCCESS: 5 rules found');
    const test = spawnSync('promtool', ['test', 'rules', 'portent.rules.test.yml'], { cwd: RULES, encoding: 'utf8' });
    expect(test.status, test.stdout + test.stderr).toBe(0);
    expect(test.stdout).toContain('SUCCESS');
  });

  it('uses only metrics Portent exposes, in the rules and in every dashboard panel', async () => {
    const names = await exposedNames();
    const used = (expr: string) => [...expr.matchAll(/\b(portent_[a-z_]+|process_[a-z_]+)\b/g)].map((m) => m[1]!);
    const rules = fs.readFileSync(path.join(RULES, 'portent.rules.yml'), 'utf8');
    const dashboard = JSON.parse(fs.readFileSync(path.join(repoRoot, 'deploy', 'grafana', 'portent-fleet.json'), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[]; templating: { list: { query?: string }[] } };
    const exprs = [rules, ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)), ...dashboard.templating.list.map((v) => v.query ?? '')];
    const unknown = exprs.flatMap(used).filter((n) => !names.has(n.replace(/_(bucket|sum|count)$/, '')));
    expect(unknown).toEqual([]);
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(6);
    for (const p of dashboard.panels) expect(p.targets.length, p.title).toBeGreaterThan(0);
  });
});
