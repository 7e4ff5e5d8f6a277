import fs from 'node:fs';
import { spawn } from 'node:child_process';
import * as tf from '../../../../src/main/engine/detect/tf';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../../src/main/engine/store/database';
import { DetectionStore } from '../../../../src/main/engine/store/detectionStore';
import { selectDetectionBackend } from '../../../../src/main/engine/detect/backendChoice';
import { runDetection, trainingWindows, type DetectorOptions } from '../../../../src/main/engine/detect/detector';
import { seededRandom } from '../../../../src/shared/random';
import { isHeldOut } from '../../../../src/main/engine/detect/holdout';
import { createLogger } from '../../../../src/main/engine/log';
import { openTestDb } from '../../../support/db';
import { tempDir } from '../../../support/tmp';
import { listener, MIN, recordRounds, SMALL, T0 } from './support';

let db: Db;
let modelDir: string;
let backend: string;
let logs: { level: string; msg: string; reason?: string }[];

beforeAll(async () => {
  backend = (await selectDetectionBackend('wasm')).name;
});
beforeEach(() => {
  db = openTestDb().db;
  modelDir = path.join(tempDir(), 'model');
  logs = [];
});
afterEach(() => db.close());

const normal = () => [listener(22), listener(631, '/usr/sbin/cupsd', 822), listener(80, '/usr/sbin/nginx', 900)];
const run = (over: Partial<DetectorOptions> = {}, now = T0 + 1_000 * MIN) =>
  runDetection({
    db, modelDir, backend, config: SMALL, minTrainingRounds: 100, initialEpochs: 12, maxEpochs: 6, random: seededRandom(1), now: () => now,
    log: createLogger((l) => logs.push(JSON.parse(l) as (typeof logs)[number]), 'debug'), ...over,
  });

describe('runDetection', () => {
  it('is "learning" until it has trained on the minimum history, scoring but never alerting', async () => {
    const ids = recordRounds(db, T0, 60, (i) => (i === 30 ? [...normal(), listener(444, '/tmp/x', 3121)] : normal()));
    const first = await run();
    expect(first.learning).toEqual({ learning: true, roundsSeen: 60, roundsNeeded: 100 });
    // What it trained on: one window per round outside the hold-out (the first rounds' windows are
    // padded, so every one is a target); what it has seen: all 60.
    const learnable = ids.filter((id) => !isHeldOut(id)).length;
    expect(learnable).toBeLessThan(60);
    expect(db.prepare('SELECT rounds_trained AS trained, rounds_seen AS seen FROM models').get()).toEqual({ trained: learnable, seen: 60 });
    expect(first.roundsScored).toBe(60);
    expect(first.incidents).toEqual([]);
    expect(db.prepare('SELECT count(*) AS n, sum(anomalous) AS a, count(threshold) AS t FROM round_scores').get()).toEqual({ n: 60, a: 0, t: 0 });
    expect(first.backend).toBe(backend);
    expect(db.prepare('SELECT backend, status, rounds_scored FROM detection_runs').get()).toEqual({ backend, status: 'ok', rounds_scored: 60 });
  });

  it('asks for a full collection between its phases (before and after the refit, before the traffic model), and learns the same', async () => {
    recordRounds(db, T0, 120, () => normal());
    let calls = 0;
    const collected = await run({ collectGarbage: () => calls++ });
    expect(calls).toBe(3);
    const scores = (d: Db) => d.prepare('SELECT round_id, score, threshold, anomalous FROM round_scores ORDER BY round_id').all();
    const other = openTestDb().db;
    try {
      recordRounds(other, T0, 120, () => normal());
      const plain = await run({ db: other, modelDir: path.join(tempDir(), 'model') });
      expect(plain.threshold).toBe(collected.threshold);
      expect(scores(other)).toEqual(scores(db));
    } finally {
      other.close();
    }
  });

  it('after learning, raises an explained incident for a new listener and never learns it as normal', async () => {
    recordRounds(db, T0, 120, () => normal());
    const learned = await run();
    expect(learned.learning.learning).toBe(false);
    expect(learned.threshold).toBeGreaterThan(0);
    const ids = recordRounds(db, T0 + 120 * MIN, 30, (i) => (i >= 10 && i < 16 ? [...normal(), listener(444, '/tmp/x', 3121)] : normal()));
    const second = await run({}, T0 + 2_000 * MIN);
    expect(second.roundsScored).toBe(30);
    expect(second.incidents).toHaveLength(1);
    const [incident] = second.incidents;
    expect(incident).toMatchObject({ startRoundId: ids[10], status: 'new' });
    expect(incident!.endRoundId).toBeGreaterThanOrEqual(ids[10]!);
    expect(incident!.ports[0]).toMatchObject({ proto: 'tcp', port: 444, direction: 'appeared', exe: '/tmp/x', pid: 3121 });
    expect(incident!.sentence).toMatch(/^Port 444\/tcp started listening: \/tmp\/x \(pid 3121\), never seen before/);
    const flagged = db.prepare('SELECT round_id FROM round_scores WHERE anomalous = 1').pluck().all() as number[];
    expect(flagged).toContain(ids[10]);
    // Refit exclusion: no training window contains a flagged round.
    const store = new DetectionStore(db);
    const targets = ids.map((id, i) => ({ id, startedAt: T0 + (120 + i) * MIN }));
    const windows = trainingWindows(store, db, targets, new Map(), 3, 150_000, { ports: 1024 });
    expect(windows.length).toBeGreaterThan(0);
    expect(windows.flat().some((id) => flagged.includes(id))).toBe(false);
    // Once the user says it was expected, its rounds become training data.
    store.markIncidentExpected(incident!.id, T0 + 3_000 * MIN);
    const approved = trainingWindows(store, db, targets, new Map(), 3, 150_000, { ports: 1024 });
    expect(approved.flat()).toContain(ids[10]);
    expect(store.incident(incident!.id)!.status).toBe('expected');
  });

  it('raises a known service opening at an hour it never runs, as "unusual-hour"', async () => {
    // Three days: nginx on 80/tcp from 09:00 to 17:00 only; sshd and cupsd always.
    const dayStart = new Date(2026, 2, 2).getTime();
    const office = (i: number) => {
      const minute = i % 1440;
      return minute >= 540 && minute < 1020;
    };
    const always = () => [listener(22), listener(631, '/usr/sbin/cupsd', 822)];
    recordRounds(db, dayStart, 3 * 1440, (i) => (office(i) ? [...always(), listener(80, '/usr/sbin/nginx', 900)] : always()));
    const learned = await run({ maxFreshRounds: 600 }, dayStart + 3 * 1440 * MIN);
    expect(learned.learning.learning).toBe(false);
    // The fourth night, 03:00: nginx starts.
    const night = dayStart + (3 * 1440 + 180) * MIN;
    const ids = recordRounds(db, night, 30, (i) => (i >= 10 ? [...always(), listener(80, '/usr/sbin/nginx', 901)] : always()));
    const result = await run({}, night + 30 * MIN);
    expect(result.incidents).toHaveLength(1);
    expect(result.incidents[0]).toMatchObject({ startRoundId: ids[10] });
    expect(result.incidents[0]!.ports[0]).toMatchObject({ port: 80, direction: 'unusual-hour', pid: 901 });
    expect(result.incidents[0]!.sentence).toMatch(/^Port 80\/tcp is open at an unusual time/);
  });

  it('does not call a nightly job at its usual time "unusual" on its second and third nights', async () => {
    const dayStart = new Date(2026, 2, 2).getTime();
    const backupOpen = (i: number) => {
      const minute = i % 1440;
      return minute >= 120 && minute < 140; // 02:00-02:20 every night
    };
    const at = (i: number) => (backupOpen(i) ? [...normal(), listener(8200, '/opt/backup/bin/backup-agent', 4100 + Math.floor(i / 1440))] : normal());
    // The first night and day learned in one go, then hourly detections, as the monitor runs them.
    // The port model's alone: the rounds hold listeners and no connection, so the traffic model
    // would learn nothing here, and its 49 fits would only make the test slower.
    recordRounds(db, dayStart, 1440, at);
    expect((await run({ minTrainingRounds: 1440, traffic: false }, dayStart + 1440 * MIN)).learning.learning).toBe(false);
    for (let hour = 24; hour < 72; hour++) {
      recordRounds(db, dayStart + hour * 60 * MIN, 60, (i) => at(hour * 60 + i));
      await run({ minTrainingRounds: 1440, traffic: false }, dayStart + (hour + 1) * 60 * MIN);
    }
    const flagged = db.prepare('SELECT i.started_at AS t, i.sentence FROM incidents i ORDER BY i.started_at').all() as { t: number; sentence: string }[];
    expect(flagged.filter((f) => f.sentence.includes('8200'))).toEqual([]);
  }, 120_000);

  it('extends a running incident across hours; the same process adding a listener makes it news again', async () => {
    recordRounds(db, T0, 120, () => normal());
    await run();
    const intruder = listener(444, '/tmp/x', 3121);
    recordRounds(db, T0 + 120 * MIN, 30, (i) => (i >= 20 ? [...normal(), intruder] : normal()));
    const first = await run({}, T0 + 2_000 * MIN);
    expect(first.incidents).toHaveLength(1);
    const id = first.incidents[0]!.id;
    new DetectionStore(db).setIncidentStatus(id, 'seen');
    // Next hour: 444 is still open, and the same process opens 555.
    const later = recordRounds(db, T0 + 150 * MIN, 30, (i) => (i >= 5 ? [...normal(), intruder, listener(555, '/tmp/x', 3121)] : [...normal(), intruder]));
    const second = await run({}, T0 + 2_100 * MIN);
    expect(second.incidents).toHaveLength(1);
    const grown = second.incidents[0]!;
    expect(grown).toMatchObject({ id, grew: true, status: 'new', endRoundId: later[29] });
    expect(grown.ports.map((p) => `${p.port}:${p.direction}`)).toEqual(['444:appeared', '555:appeared']);
    // The sentence describes the whole incident, and both were new when it began.
    expect(grown.sentence).toBe('2 new TCP listeners by /tmp/x (pid 3121), ports 444 and 555, never seen before.');
    // Every round since 444 opened is part of the incident, so none of them is trained on.
    const normalSince = db.prepare('SELECT count(*) FROM round_scores WHERE round_id >= ? AND anomalous = 0').pluck().get(later[0]);
    expect(normalSince).toBe(0);
  });

  it('gives a second process opening a listener during a running incident an incident of its own, announced', async () => {
    recordRounds(db, T0, 120, () => normal());
    await run();
    const first = listener(444, '/tmp/x', 3121);
    recordRounds(db, T0 + 120 * MIN, 30, (i) => (i >= 20 ? [...normal(), first] : normal()));
    const one = await run({}, T0 + 2_000 * MIN);
    expect(one.incidents).toHaveLength(1);
    new DetectionStore(db).setIncidentStatus(one.incidents[0]!.id, 'seen');
    const later = recordRounds(db, T0 + 150 * MIN, 30, (i) => (i >= 5 ? [...normal(), first, listener(555, '/tmp/y', 3200)] : [...normal(), first]));
    const two = await run({}, T0 + 2_100 * MIN);
    expect(two.incidents).toHaveLength(2);
    const [running, second] = two.incidents;
    expect(running).toMatchObject({ id: one.incidents[0]!.id, grew: false, status: 'seen' });
    expect(running!.ports.map((p) => p.port)).toEqual([444]);
    expect(second).toMatchObject({ status: 'new', startRoundId: later[5] });
    expect(second!.ports.map((p) => p.port)).toEqual([555]);
    expect(second!.sentence).toBe('Port 555/tcp started listening: /tmp/y (pid 3200), never seen before.');
  });

  it('tells a listener it never learned, opened again after a pause by the same program, as an episode of its first incident, not news; another program or a dismissal is told again', async () => {
    recordRounds(db, T0, 120, () => normal());
    await run();
    const store = new DetectionStore(db);
    const x = (pid: number) => listener(444, '/tmp/x', pid);
    // Monday's hour: /tmp/x listens on 444 for ten minutes.
    recordRounds(db, T0 + 120 * MIN, 30, (i) => (i >= 10 && i < 20 ? [...normal(), x(3121)] : normal()));
    const first = await run({}, T0 + 2_000 * MIN);
    expect(first.incidents).toHaveLength(1);
    const id = first.incidents[0]!.id;
    // The next hour, the same program (a new pid) opens it again.
    const again = recordRounds(db, T0 + 150 * MIN, 30, (i) => (i >= 5 && i < 15 ? [...normal(), x(3300)] : normal()));
    const second = await run({}, T0 + 2_100 * MIN);
    expect(second.incidents.map((i) => ({ id: i.id, grew: i.grew, news: i.runId === second.runId }))).toEqual([{ id, grew: false, news: false }]);
    expect(store.incidents()).toHaveLength(1);
    const episodes = store.episodesOf(id);
    expect(episodes).toHaveLength(2);
    expect(episodes[1]!.startedAt).toBe(T0 + 155 * MIN);
    expect(episodes[0]!.endedAt).toBeLessThan(episodes[1]!.startedAt);
    expect(store.incident(id)).toMatchObject({ endRoundId: again[14], rounds: 20 });
    // Still never learned: the rounds of both episodes stay out of training.
    expect(db.prepare('SELECT count(*) FROM round_scores WHERE round_id >= ? AND round_id <= ? AND anomalous = 1').pluck().get(again[5], again[14])).toBe(10);
    // Another program on the same port is another cause.
    recordRounds(db, T0 + 180 * MIN, 30, (i) => (i >= 5 && i < 15 ? [...normal(), listener(444, '/tmp/y', 3400)] : normal()));
    const third = await run({}, T0 + 2_200 * MIN);
    expect(third.incidents).toHaveLength(1);
    expect(third.incidents[0]).toMatchObject({ runId: third.runId, status: 'new' });
    expect(third.incidents[0]!.ports[0]).toMatchObject({ port: 444, exe: '/tmp/y' });
    // What the user dismissed is told again when it comes back.
    store.setIncidentStatus(id, 'dismissed');
    store.setIncidentStatus(third.incidents[0]!.id, 'dismissed');
    recordRounds(db, T0 + 210 * MIN, 30, (i) => (i >= 5 && i < 15 ? [...normal(), x(3500)] : normal()));
    const fourth = await run({}, T0 + 2_300 * MIN);
    expect(fourth.incidents).toHaveLength(1);
    expect(fourth.incidents[0]).toMatchObject({ runId: fourth.runId, status: 'new' });
    expect(fourth.incidents[0]!.id).not.toBe(id);
  });

  it('finds the incident a listener comes back to among many unjudged others, within a week of its last episode and not after', async () => {
    const DAY = 1_440 * MIN;
    recordRounds(db, T0, 120, () => normal());
    await run();
    const store = new DetectionStore(db);
    const x = (pid: number) => listener(444, '/tmp/x', pid);
    recordRounds(db, T0 + 120 * MIN, 30, (i) => (i >= 10 && i < 20 ? [...normal(), x(3121)] : normal()));
    const id = (await run({}, T0 + 2_000 * MIN)).incidents[0]!.id;
    // Nine other causes, one after another, each an incident no one judges, end after it.
    recordRounds(db, T0 + 150 * MIN, 30, (i) => [...normal(), ...Array.from({ length: 9 }, (_, k) => k).filter((k) => i >= 3 * k + 1 && i <= 3 * k + 3).map((k) => listener(600 + 7 * k, `/tmp/p${k}`, 4000 + k))]);
    await run({}, T0 + 2_100 * MIN);
    expect(store.incidents().filter((i) => i.id !== id).length).toBeGreaterThanOrEqual(9);
    // Six days later /tmp/x listens again: an episode of its incident, not news.
    recordRounds(db, T0 + 6 * DAY, 30, (i) => (i >= 5 && i < 15 ? [...normal(), x(3300)] : normal()));
    const back = await run({}, T0 + 6 * DAY + 40 * MIN);
    expect(back.incidents.map((i) => ({ id: i.id, news: i.runId === back.runId }))).toEqual([{ id, news: false }]);
    expect(store.episodesOf(id)).toHaveLength(2);
    // Eight days after that episode it is news again: a week is as long as an unjudged incident waits.
    recordRounds(db, T0 + 14 * DAY, 30, (i) => (i >= 5 && i < 15 ? [...normal(), x(3500)] : normal()));
    const later = await run({}, T0 + 14 * DAY + 40 * MIN);
    expect(later.incidents).toHaveLength(1);
    expect(later.incidents[0]).toMatchObject({ runId: later.runId, status: 'new' });
    expect(later.incidents[0]!.id).not.toBe(id);
  });

  it('tells a known service vanishing each time it vanishes, not as a recurrence', async () => {
    recordRounds(db, T0, 120, () => normal());
    await run();
    recordRounds(db, T0 + 120 * MIN, 30, (i) => (i >= 10 && i < 20 ? normal().filter((s) => s.port !== 80) : normal()));
    const first = await run({}, T0 + 2_000 * MIN);
    const vanished = first.incidents.filter((i) => i.ports.some((p) => p.port === 80 && p.direction === 'vanished'));
    expect(vanished).toHaveLength(1);
    recordRounds(db, T0 + 150 * MIN, 30, (i) => (i >= 10 && i < 20 ? normal().filter((s) => s.port !== 80) : normal()));
    const second = await run({}, T0 + 2_100 * MIN);
    const again = second.incidents.filter((i) => i.ports.some((p) => p.port === 80 && p.direction === 'vanished'));
    expect(again).toHaveLength(1);
    expect(again[0]!.runId).toBe(second.runId);
  });

  it('names a port missing from a program that still runs for as long as it is missing, though the model is surprised by its first round only', async () => {
    const syncthing = (port: number) => listener(port, '/usr/bin/syncthing', 950);
    // It stops and starts again several times (a logout, a restart): both ports close together.
    recordRounds(db, T0, 600, (i) => (i % 100 < 80 ? [...normal(), syncthing(384), syncthing(500)] : normal()));
    const learned = await run();
    expect(learned.learning.learning).toBe(false);
    // Its sync port (500 in the small model) goes for fifteen minutes; its GUI (384) stays.
    const sync = 500;
    const ids = recordRounds(db, T0 + 600 * MIN, 30, (i) => [...normal(), syncthing(384), ...(i >= 10 && i < 25 ? [] : [syncthing(sync)])]);
    const result = await run({}, T0 + 2_000 * MIN);
    const gone = result.incidents.filter((i) => i.ports.some((p) => p.port === sync && p.direction === 'vanished'));
    expect(gone).toHaveLength(1);
    expect(gone[0]!.ports[0]).toMatchObject({ port: sync, direction: 'vanished', exe: '/usr/bin/syncthing' });
    // From its second round missing to its last: the rule holds it, round by round.
    expect(gone[0]!.endRoundId).toBe(ids[24]);
    expect(gone[0]!.rounds).toBeGreaterThanOrEqual(14);
    expect(gone[0]!.sentence).toMatch(/stopped listening \(last held by \/usr\/bin\/syncthing/);
    // Those rounds are not learned as normal.
    expect(db.prepare('SELECT count(*) FROM round_scores WHERE round_id BETWEEN ? AND ? AND anomalous = 0').pluck().get(ids[11], ids[24])).toBe(0);
  });

  it('learns the rounds an expected incident goes on into, as it learned those the user approved', async () => {
    recordRounds(db, T0, 120, () => normal());
    await run();
    const store = new DetectionStore(db);
    const intruder = listener(444, '/opt/tool/bin/tool', 3121);
    recordRounds(db, T0 + 120 * MIN, 30, (i) => (i >= 20 ? [...normal(), intruder] : normal()));
    const first = await run({}, T0 + 2_000 * MIN);
    expect(first.incidents).toHaveLength(1);
    const id = first.incidents[0]!.id;
    store.markIncidentExpected(id, T0 + 2_001 * MIN);
    // The next hour the tool still listens: the rounds its incident covers are approved as well.
    const later = recordRounds(db, T0 + 150 * MIN, 30, () => [...normal(), intruder]);
    const second = await run({}, T0 + 2_100 * MIN);
    // Held open by the listener, the incident goes on through the hour (scored before the refit learns it).
    expect(second.incidents.map((i) => i.id)).toEqual([id]);
    const covered = db.prepare('SELECT s.round_id FROM round_scores s WHERE s.round_id >= ? AND s.anomalous = 1').pluck().all(later[0]) as number[];
    expect(covered).toEqual(later);
    const approved = new Set(db.prepare('SELECT round_id FROM expected_rounds').pluck().all() as number[]);
    expect(later.filter((r) => !approved.has(r))).toEqual([]);
    expect(store.incident(id)!.status).toBe('expected');
  });

  it('explains a burst of listeners by all of them', async () => {
    recordRounds(db, T0, 120, () => normal());
    await run();
    const burst = Array.from({ length: 30 }, (_, k) => listener(700 + k, '/tmp/x', 3121));
    recordRounds(db, T0 + 120 * MIN, 30, (i) => (i >= 10 && i < 20 ? [...normal(), ...burst] : normal()));
    const result = await run({}, T0 + 2_000 * MIN);
    expect(result.incidents).toHaveLength(1);
    expect(result.incidents[0]!.ports).toHaveLength(30);
    expect(result.incidents[0]!.sentence).toBe('30 new TCP listeners by /tmp/x (pid 3121), ports 700–729, never seen before.');
  });

  it('raises an owner change on a known port as "new-owner", with the old and new program; a restart with a new pid is not one', async () => {
    recordRounds(db, T0, 120, (i) => [listener(22, '/usr/sbin/sshd', i < 60 ? 801 : 802), listener(631, '/usr/sbin/cupsd', 822), listener(80, '/usr/sbin/nginx', 900)]);
    const learned = await run();
    expect(learned.learning.learning).toBe(false);
    // sshd restarts with another pid: the same program, nothing to say.
    recordRounds(db, T0 + 120 * MIN, 20, () => [listener(22, '/usr/sbin/sshd', 5555), listener(631, '/usr/sbin/cupsd', 822), listener(80, '/usr/sbin/nginx', 900)]);
    expect((await run({}, T0 + 2_000 * MIN)).incidents).toEqual([]);
    // Then python takes 22 for ten minutes while sshd is gone, and sshd comes back.
    const ids = recordRounds(db, T0 + 140 * MIN, 30, (i) => [
      i >= 10 && i < 20 ? listener(22, '/usr/bin/python3.11', 6000) : listener(22, '/usr/sbin/sshd', 5555),
      listener(631, '/usr/sbin/cupsd', 822),
      listener(80, '/usr/sbin/nginx', 900),
    ]);
    const result = await run({}, T0 + 2_100 * MIN);
    expect(result.incidents).toHaveLength(1);
    const [incident] = result.incidents;
    expect(incident).toMatchObject({ startRoundId: ids[10], endRoundId: ids[19], rounds: 10 });
    expect(incident!.ports).toEqual([
      expect.objectContaining({ proto: 'tcp', port: 22, direction: 'new-owner', exe: '/usr/bin/python3.11', pid: 6000, usualExe: '/usr/sbin/sshd', usualProcess: 'sshd' }),
    ]);
    expect(incident!.sentence).toBe('Port 22/tcp is held by a new program: /usr/bin/python3.11 (pid 6000), where it is usually /usr/sbin/sshd.');
    // The newcomer is never learned as an owner of 22.
    const owners = db.prepare("SELECT pr.exe FROM port_owners po JOIN processes pr ON pr.id = po.process_id JOIN ports p ON p.id = po.port_id WHERE p.port = 22").pluck().all();
    expect(owners).toEqual(['/usr/sbin/sshd']);
    // Across an hourly run: python holds 22 from the last minutes of one hour into the next, then
    // sshd is back; the incident ends there, though 22 stays open.
    const others = () => [listener(631, '/usr/sbin/cupsd', 822), listener(80, '/usr/sbin/nginx', 900)];
    recordRounds(db, T0 + 170 * MIN, 30, (i) => [i >= 25 ? listener(22, '/usr/bin/python3.11', 6001) : listener(22, '/usr/sbin/sshd', 5555), ...others()]);
    // An impostor coming back is told again, though the first incident was not judged yet.
    const before = await run({}, T0 + 2_200 * MIN);
    expect(before.incidents).toHaveLength(1);
    expect(before.incidents[0]!.id).not.toBe(incident!.id);
    expect(before.incidents[0]!.runId).toBe(before.runId);
    const next = recordRounds(db, T0 + 200 * MIN, 30, (i) => [i < 5 ? listener(22, '/usr/bin/python3.11', 6001) : listener(22, '/usr/sbin/sshd', 5555), ...others()]);
    const after = await run({}, T0 + 2_300 * MIN);
    expect(after.incidents).toHaveLength(1);
    expect(after.incidents[0]).toMatchObject({ id: before.incidents[0]!.id, endRoundId: next[4], rounds: 10 });
  });

  it('sees a program binding a high UDP port, while a client binding random ones there stays a count', async () => {
    // In this small model the "ephemeral" range is 600-1023: a browser binds three random ports
    // there every minute (600-999); nothing else binds there until a stranger takes 1010.
    const random = seededRandom(11);
    const udp = (port: number, exe: string, pid: number) => ({ ...listener(port, exe, pid), proto: 'udp' as const });
    const browser = () => Array.from({ length: 3 }, () => udp(600 + Math.floor(random() * 400), '/usr/lib/firefox/firefox', 4000));
    recordRounds(db, T0, 120, () => [...normal(), ...browser()]);
    const features = { ephemeralUdp: [600, 1023] as const };
    expect((await run({ features })).learning.learning).toBe(false);
    const ids = recordRounds(db, T0 + 120 * MIN, 30, (i) => (i >= 10 && i < 20 ? [...normal(), ...browser(), udp(1010, '/tmp/x', 3121)] : [...normal(), ...browser()]));
    const result = await run({ features }, T0 + 2_000 * MIN);
    expect(result.incidents).toHaveLength(1);
    expect(result.incidents[0]).toMatchObject({ startRoundId: ids[10] });
    expect(result.incidents[0]!.ports.map((p) => `${p.port}/${p.proto}`)).toEqual(['1010/udp']);
    expect(result.incidents[0]!.sentence).toBe('Port 1010/udp started receiving: /tmp/x (pid 3121), never seen before.');
  });

  it('learns the same model from the same data and seed, however busy the machine: identical scores and incidents', async () => {
    /** A fresh database and model folder, the same history, two hourly runs; what they stored. */
    const history = async () => {
      const { db: own } = openTestDb();
      const dir = path.join(tempDir(), 'model');
      try {
        const detect = (now: number) => runDetection({ db: own, modelDir: dir, backend, config: SMALL, minTrainingRounds: 100, random: seededRandom(5), now: () => now, log: createLogger(() => {}, 'error') });
        recordRounds(own, T0, 150, (i) => (i % 90 < 60 ? normal() : [listener(22)]));
        await detect(T0 + 1_000 * MIN);
        recordRounds(own, T0 + 150 * MIN, 60, (i) => (i >= 20 && i < 35 ? [...normal(), listener(444, '/tmp/x', 3121)] : normal()));
        const second = await detect(T0 + 2_000 * MIN);
        return {
          epochs: second.epochs,
          scores: own.prepare('SELECT round_id, score, threshold, anomalous FROM round_scores ORDER BY round_id').all(),
          incidents: own.prepare('SELECT started_at, ended_at, rounds, peak_score, threshold, sentence FROM incidents ORDER BY id').all(),
        };
      } finally {
        own.close();
      }
    };
    const quiet = await history();
    // The second run shares the machine with a process that keeps a core busy the whole time.
    const hog = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
    let busy: Awaited<ReturnType<typeof history>>;
    try {
      busy = await history();
    } finally {
      hog.kill('SIGKILL');
    }
    expect(quiet.incidents.length).toBeGreaterThan(0);
    expect(busy.scores).toEqual(quiet.scores);
    expect(busy.incidents).toEqual(quiet.incidents);
    expect(busy.epochs).toBe(quiet.epochs);
  });

  it('scores each changed round as it comes, with the stored model, and refits on all of them at the hour: the same as one hourly run', async () => {
    /** The same history in a fresh database; `scoreAfter`: rounds after which a 'score' run is made. */
    const history = async (scoreAfter: number[]) => {
      const { db: own } = openTestDb();
      const dir = path.join(tempDir(), 'model');
      try {
        const detect = (now: number, scope: 'full' | 'score' = 'full') =>
          runDetection({ db: own, modelDir: dir, backend, config: SMALL, minTrainingRounds: 100, random: seededRandom(5), now: () => now, scope, log: createLogger(() => {}, 'error') });
        recordRounds(own, T0, 150, () => normal());
        await detect(T0 + 1_000 * MIN);
        const early: Awaited<ReturnType<typeof detect>>[] = [];
        let recorded = 0;
        const upTo = (n: number) => {
          recordRounds(own, T0 + (150 + recorded) * MIN, n - recorded, (k) => (recorded + k >= 10 && recorded + k < 25 ? [...normal(), listener(444, '/tmp/x', 3121)] : normal()));
          recorded = n;
        };
        for (const n of scoreAfter) {
          upTo(n);
          early.push(await detect(T0 + 1_500 * MIN, 'score'));
        }
        upTo(60);
        const hourly = await detect(T0 + 2_000 * MIN);
        return {
          early,
          hourly,
          scores: own.prepare('SELECT round_id, score, threshold, anomalous FROM round_scores ORDER BY round_id').all(),
          incidents: own.prepare('SELECT started_at, ended_at, rounds, peak_score, sentence FROM incidents ORDER BY id').all(),
          model: own.prepare('SELECT rounds_seen, rounds_trained, threshold FROM models ORDER BY version DESC LIMIT 1').get(),
          runs: own.prepare('SELECT scope, rounds_scored FROM detection_runs ORDER BY id').all(),
        };
      } finally {
        own.close();
      }
    };
    const asItComes = await history([11, 12, 30]);
    // The listener opened in the eleventh round: the run right after it tells it.
    expect(asItComes.early[0]!.incidents).toHaveLength(1);
    expect(asItComes.early[0]!.incidents[0]!.sentence).toMatch(/^Port 444\/tcp started listening/);
    expect(asItComes.early[0]).toMatchObject({ roundsScored: 11, epochs: 0 });
    expect(asItComes.early[1]!.incidents[0]!.id).toBe(asItComes.early[0]!.incidents[0]!.id); // extended, not a second
    expect(asItComes.hourly.roundsScored).toBe(30);
    expect(asItComes.runs).toEqual([
      { scope: 'full', rounds_scored: 150 },
      { scope: 'score', rounds_scored: 11 },
      { scope: 'score', rounds_scored: 1 },
      { scope: 'score', rounds_scored: 18 },
      { scope: 'full', rounds_scored: 30 },
    ]);
    // Scored as they came or all at the hour, the scores, incidents and refit are the same.
    const atTheHour = await history([]);
    expect(asItComes.scores).toEqual(atTheHour.scores);
    expect(asItComes.incidents).toEqual(atTheHour.incidents);
    expect(asItComes.model).toEqual(atTheHour.model);
    expect(atTheHour.incidents).toHaveLength(1);
  });

  it('does nothing on a "score" run while learning', async () => {
    recordRounds(db, T0, 40, () => normal());
    const r = await run({ scope: 'score' });
    expect(r).toMatchObject({ roundsScored: 0, learning: { learning: true } });
    expect(db.prepare('SELECT count(*) FROM round_scores').pluck().get()).toBe(0);
  });

  it('leaves no tensors behind, run after run (an hourly job must not leak)', async () => {
    recordRounds(db, T0, 40, () => normal());
    await run();
    const before = tf.memory().numTensors;
    recordRounds(db, T0 + 40 * MIN, 20, () => normal());
    await run();
    recordRounds(db, T0 + 60 * MIN, 20, () => normal());
    await run();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('counts a rebuilt model\'s hours of day from the stored history it learned from, not from nothing', async () => {
    const meta = () => (JSON.parse(fs.readFileSync(path.join(modelDir, 'model.json'), 'utf8')) as { meta: { hourCounts: { rounds: number[]; cells: Record<string, number[]> } } }).meta.hourCounts;
    const total = (rows: number[]) => rows.reduce((a, b) => a + b, 0);
    // Two hours of sshd; cupsd in the second hour only.
    const first = recordRounds(db, T0, 120, (i) => (i >= 60 ? [listener(22), listener(631, '/usr/sbin/cupsd', 822)] : [listener(22)]));
    await run();
    const before = meta();
    const learnable = first.filter((id) => !isHeldOut(id)).length;
    expect(total(before.rounds)).toBeCloseTo(learnable, 0);
    // The model file is damaged: a new one is built and its counts start from what is stored.
    fs.truncateSync(path.join(modelDir, 'weights.bin'), 1000);
    const later = recordRounds(db, T0 + 120 * MIN, 20, () => [listener(22)]);
    await run({}, T0 + 2_000 * MIN);
    expect(logs.find((l) => l.msg === 'hour-of-day counts rebuilt from stored history')).toMatchObject({ rounds: learnable });
    const after = meta();
    expect(total(after.rounds)).toBeCloseTo(learnable + later.filter((id) => !isHeldOut(id)).length, 0);
    // Each hour's counts of each cell came back, as they were before the damage (up to the decay of 20 rounds).
    for (const [cell, row] of Object.entries(before.cells)) row.forEach((n, h) => expect(after.cells[cell]![h]).toBeGreaterThanOrEqual(n * 0.999));
    expect(Object.keys(after.cells).sort()).toEqual(Object.keys(before.cells).sort());
  });

  it('discards a corrupt saved model with a log message and trains a new one', async () => {
    recordRounds(db, T0, 40, () => normal());
    const first = await run();
    const weights = path.join(modelDir, 'weights.bin');
    fs.truncateSync(weights, 1000);
    recordRounds(db, T0 + 40 * MIN, 20, () => normal());
    const second = await run();
    expect(logs.find((l) => l.level === 'warn')).toMatchObject({ msg: expect.stringMatching(/discarding/), reason: expect.stringMatching(/weights.bin/) });
    expect(second.learning.roundsSeen).toBe(20); // started over
    expect(second.modelVersion).toBeGreaterThan(first.modelVersion);
    expect(fs.statSync(weights).size).toBeGreaterThan(1000);
  });
});
