import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../../src/main/engine/store/database';
import { DetectionStore } from '../../../../src/main/engine/store/detectionStore';
import { TrafficStore } from '../../../../src/main/engine/store/trafficStore';
import { isHeldOut } from '../../../../src/main/engine/detect/holdout';
import { seededRandom } from '../../../../src/shared/random';
import { openTestDb } from '../../../support/db';
import { listener, MIN, recordRounds, T0 } from '../detect/support';

let db: Db;
beforeEach(() => ({ db } = openTestDb()));
afterEach(() => db.close());

describe('TrafficStore: what the user approved', () => {
  it('learns the approved incident\'s own process, in its episodes: never another program\'s anomalous windows of the same rounds', () => {
    const ids = recordRounds(db, T0, 60, () => [listener(22)]);
    const proc = (name: string) => Number(db.prepare('INSERT INTO processes (identity, name, exe, user, first_seen_at) VALUES (?, ?, ?, ?, ?)').run(name, name, `/usr/bin/${name}`, 'alice', T0).lastInsertRowid);
    const slack = proc('slack');
    const exfil = proc('python3');
    // Windows of ten rounds whose last round is outside the hold-out, for both programs, all anomalous.
    const ends = [9, 19, 29, 39, 49, 59].filter((i) => !isHeldOut(ids[i]!));
    expect(ends.length).toBeGreaterThanOrEqual(3);
    const traffic = new TrafficStore(db);
    const store = new DetectionStore(db);
    const run = store.startRun('schedule', T0, 'cpu');
    traffic.saveWindows(run, 1, ends.flatMap((e) => [slack, exfil].map((processId) => ({
      firstRoundId: ids[e - 9]!, lastRoundId: ids[e]!, startedAt: T0 + (e - 9) * MIN, endedAt: T0 + e * MIN, processId, score: 9, threshold: 5, anomalous: true, heldOut: false, features: new Float32Array([processId, e]),
    }))));
    // slack's incident covers its first windows; python3's runs at the same time and stays unjudged.
    const incident = (processId: number, lastEnd: number) =>
      traffic.insertIncident(run, {
        startRoundId: ids[0]!, endRoundId: ids[lastEnd]!, startedAt: T0, endedAt: T0 + lastEnd * MIN, rounds: lastEnd + 1, peakScore: 9, threshold: 5,
        sentence: 'talked out', processId, trafficKind: 'volume-out', endpoints: [], features: [],
      });
    const slackIncident = incident(slack, ends[1]!);
    incident(exfil, 59);
    store.markIncidentExpected(slackIncident, T0 + 61 * MIN);

    const learned = traffic.approvedSince(0).map((w) => [w.processId, w.lastRoundId]);
    expect(learned).toEqual(ends.slice(0, 2).map((e) => [slack, ids[e]]));
    // Replay draws the same way: python3's anomalous windows are never drawn for training.
    const drawn = traffic.replay(20, ids[59]! + 1, seededRandom(3), 'train');
    expect(drawn.every((w) => w.processId === slack && ends.slice(0, 2).some((e) => ids[e] === w.lastRoundId))).toBe(true);
    expect(drawn.length).toBeGreaterThan(0);
  });
});
