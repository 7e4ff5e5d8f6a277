import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../../src/main/engine/store/database';
import { selectDetectionBackend } from '../../../../src/main/engine/detect/backendChoice';
import { runDetection, type DetectorOptions } from '../../../../src/main/engine/detect/detector';
import { AllowRuleStore } from '../../../../src/main/engine/store/allowRuleStore';
import { DetectionStore } from '../../../../src/main/engine/store/detectionStore';
import { seededRandom } from '../../../../src/shared/random';
import { createLogger } from '../../../../src/main/engine/log';
import { openTestDb } from '../../../support/db';
import { tempDir } from '../../../support/tmp';
import { listener, MIN, recordRounds, SMALL, T0 } from './support';

/**
 * "Expected from now on" honoured by the port model on a real SQLite file: a port or program a
 * rule allows raises no incident and extends none, its rounds are normal; deleting the rule
 * restores alerting from the next round on.
 */

let db: Db;
let modelDir: string;
let backend: string;
beforeAll(async () => {
  backend = (await selectDetectionBackend('wasm')).name;
});
beforeEach(() => {
  db = openTestDb().db;
  modelDir = path.join(tempDir(), 'model');
});
afterEach(() => db.close());

const normal = () => [listener(22), listener(631, '/usr/sbin/cupsd', 822), listener(80, '/usr/sbin/nginx', 900)];
const run = (now: number, over: Partial<DetectorOptions> = {}) =>
  runDetection({
    db, modelDir, backend, config: SMALL, minTrainingRounds: 100, initialEpochs: 12, maxEpochs: 6, random: seededRandom(1), now: () => now,
    log: createLogger(() => {}, 'error'), identity: { read: () => null, bootTime: () => null }, traffic: false, ...over,
  });
const anomalousOf = (ids: number[]) => db.prepare('SELECT sum(anomalous) FROM round_scores WHERE round_id IN (SELECT value FROM json_each(?))').pluck().get(JSON.stringify(ids));

/** A model that has learned the normal listeners and alerts. */
async function learned(): Promise<void> {
  recordRounds(db, T0, 120, () => normal());
  expect((await run(T0 + 1_000 * MIN)).learning.learning).toBe(false);
}

describe('allow rules in port detection', () => {
  it('a port rule: no incident while it stands and the rounds are normal; deleting it restores alerting', async () => {
    await learned();
    const rules = new AllowRuleStore(db);
    const rule = rules.add({ proto: 'tcp', port: 444 });
    const during = recordRounds(db, T0 + 120 * MIN, 10, () => [...normal(), listener(444, '/tmp/x', 3121)]);
    const allowed = await run(T0 + 2_000 * MIN, { scope: 'score' });
    expect(allowed.roundsScored).toBe(10);
    expect(allowed.incidents).toEqual([]);
    expect(anomalousOf(during)).toBe(0);

    rules.remove(rule.id);
    const after = recordRounds(db, T0 + 130 * MIN, 10, () => [...normal(), listener(444, '/tmp/x', 3121)]);
    const alerted = await run(T0 + 2_001 * MIN, { scope: 'score' });
    expect(alerted.incidents).toHaveLength(1);
    expect(alerted.incidents[0]!.ports[0]).toMatchObject({ proto: 'tcp', port: 444, exe: '/tmp/x' });
    expect(anomalousOf(after)).toBeGreaterThan(0);
  });

  it('a program rule covers every port it opens and stops a running incident growing; one naming another user does not apply', async () => {
    await learned();
    const rules = new AllowRuleStore(db);
    // The listener runs as root (support.listener): a rule for another user leaves it alerting.
    rules.add({ exe: '/tmp/x', user: 'alice' });
    recordRounds(db, T0 + 120 * MIN, 5, () => [...normal(), listener(444, '/tmp/x', 3121)]);
    const first = await run(T0 + 2_000 * MIN, { scope: 'score' });
    expect(first.incidents).toHaveLength(1);
    const incident = first.incidents[0]!;

    rules.add({ exe: '/tmp/x', user: 'root' });
    const later = recordRounds(db, T0 + 125 * MIN, 5, () => [...normal(), listener(444, '/tmp/x', 3121), listener(555, '/tmp/x', 3121)]);
    const second = await run(T0 + 2_001 * MIN, { scope: 'score' });
    expect(second.incidents).toEqual([]);
    expect(anomalousOf(later)).toBe(0);
    // The incident ends where it ended: the allowed program neither extends it nor holds it open.
    expect(new DetectionStore(db).incident(incident.id)!.endRoundId).toBe(incident.endRoundId);
  });

  it('learns what a rule allows as normal at the hourly refit', async () => {
    await learned();
    new AllowRuleStore(db).add({ proto: 'tcp', port: 444 });
    const ids = recordRounds(db, T0 + 120 * MIN, 30, () => [...normal(), listener(444, '/tmp/x', 3121)]);
    const full = await run(T0 + 2_000 * MIN);
    expect(full.incidents).toEqual([]);
    expect(anomalousOf(ids)).toBe(0);
    // Its owner is learned with the port, as for any normal round.
    expect(db.prepare("SELECT count(*) FROM port_owners po JOIN ports p ON p.id = po.port_id WHERE p.port = 444 AND p.proto = 'tcp'").pluck().get()).toBe(1);
  });
});
