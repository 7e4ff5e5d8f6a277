import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../../src/main/engine/store/database';
import { selectDetectionBackend } from '../../../../src/main/engine/detect/backendChoice';
import { runDetection } from '../../../../src/main/engine/detect/detector';
import { runCleanup } from '../../../../src/main/engine/maintain/cleanup';
import { silentLogger } from '../../../../src/main/engine/log';
import { defaultSettings } from '../../../../src/shared/settings';
import { seededRandom } from '../../../../src/shared/random';
import { openTestDb } from '../../../support/db';
import { tempDir } from '../../../support/tmp';
import { listener, MIN, recordRounds, SMALL } from './support';

/**
 * Forty days of a machine, detected every twelve hours and cleaned every night with the default
 * retention (socket detail kept 30 days, 2 GB cap), as the monitor does: after day 30 the
 * oldest rounds keep their scores but lose their sockets. sshd vanishes for half an hour on three
 * days of the first week and three days of the last; detection must hold (every one named, and
 * no more false alerts in the last week than in the first). Rounds are two minutes apart, to
 * keep the test to a couple of minutes; a window still spans consecutive rounds (maxStepMs 2.5 min).
 */
const DAY = 1440 * MIN;
const STEP = 2 * MIN;
const START = new Date(2026, 2, 2).getTime(); // a Monday, local midnight
const VANISHED_DAYS = [4, 5, 6, 35, 36, 37];
const VANISH_AT = 11 * 60; // 11:00 local
const VANISH_FOR = 30;

let db: Db;
let file: string;
let backend: string;
beforeAll(async () => {
  backend = (await selectDetectionBackend('wasm')).name;
});
beforeEach(() => ({ db, file } = openTestDb()));
afterEach(() => db.close());

function machine(t: number) {
  const day = Math.floor((t - START) / DAY);
  const minute = new Date(t).getHours() * 60 + new Date(t).getMinutes();
  const sshdGone = VANISHED_DAYS.includes(day) && minute >= VANISH_AT && minute < VANISH_AT + VANISH_FOR;
  const session = minute >= 9 * 60 && minute < 17 * 60;
  return [
    ...(sshdGone ? [] : [listener(22)]),
    listener(631, '/usr/sbin/cupsd', 822),
    listener(80, '/usr/sbin/nginx', 900),
    ...(session ? [listener(3000, '/usr/bin/node', 3100)] : []),
  ];
}

describe('forty days with the default retention', () => {
  it('names every vanished sshd, and raises no more false alerts on days 33-40 than on days 1-8', async () => {
    const modelDir = path.join(tempDir(), 'model');
    const settings = defaultSettings();
    for (let half = 0; half < 80; half++) {
      const from = START + half * (DAY / 2);
      recordRounds(db, from, DAY / 2 / STEP, (i) => machine(from + i * STEP), STEP);
      const now = from + DAY / 2;
      await runDetection({ db, modelDir, backend, config: SMALL, minTrainingRounds: 360, maxStepMs: 150_000, random: seededRandom(half + 1), now: () => now, log: silentLogger });
      if (half % 2 === 1) await runCleanup(db, { retention: settings, trigger: 'schedule', dbPath: file, log: silentLogger, now: () => now });
    }
    // Detail of the first ten days is gone, their scores stay.
    const emptied = db.prepare('SELECT count(*) FROM rounds WHERE started_at < ? AND id NOT IN (SELECT round_id FROM rounds_ports)').pluck().get(START + 9 * DAY) as number;
    expect(emptied).toBeGreaterThan(9 * (DAY / STEP) * 0.9);

    const incidents = db
      .prepare<[], { id: number; startedAt: number; endedAt: number }>('SELECT id, started_at AS startedAt, ended_at AS endedAt FROM incidents ORDER BY started_at')
      .all();
    const ports = db.prepare<[number], { port: number; direction: string }>('SELECT port, direction FROM incident_ports WHERE incident_id = ?');
    const events = VANISHED_DAYS.map((d) => ({ day: d, start: START + d * DAY + VANISH_AT * MIN, end: START + d * DAY + (VANISH_AT + VANISH_FOR + 10) * MIN }));
    const overlaps = (i: { startedAt: number; endedAt: number }, e: { start: number; end: number }) => i.startedAt <= e.end && i.endedAt >= e.start;
    const named = events.map((e) => incidents.some((i) => overlaps(i, e) && ports.all(i.id).some((p) => p.port === 22 && p.direction === 'vanished')));
    expect(named).toEqual([true, true, true, true, true, true]);
    const falseIn = (fromDay: number, toDay: number) =>
      incidents.filter((i) => i.startedAt >= START + fromDay * DAY && i.startedAt < START + toDay * DAY && !events.some((e) => overlaps(i, e))).length;
    const early = falseIn(1, 9);
    const late = falseIn(32, 40);
    expect(late).toBeLessThanOrEqual(early + 1);
  }, 600_000);
});
