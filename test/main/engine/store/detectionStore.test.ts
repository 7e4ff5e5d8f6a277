import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../../src/main/engine/store/database';
import { DetectionStore, sameProgram } from '../../../../src/main/engine/store/detectionStore';
import { runCleanup } from '../../../../src/main/engine/maintain/cleanup';
import { isHeldOut } from '../../../../src/main/engine/detect/holdout';
import { silentLogger } from '../../../../src/main/engine/log';
import { defaultSettings } from '../../../../src/shared/settings';
import { seededRandom } from '../../../../src/shared/random';
import { openTestDb } from '../../../support/db';
import { listener, MIN, recordRounds, T0 } from '../detect/support';

let db: Db;
let file: string;
beforeEach(() => ({ db, file } = openTestDb()));
afterEach(() => db.close());

/** `n` rounds a minute apart from T0, all scored: those in `anomalous` as anomalous. */
function scoredHistory(n: number, anomalous: (i: number) => boolean = () => false): { store: DetectionStore; ids: number[] } {
  const ids = recordRounds(db, T0, n, () => [listener(22)]);
  const store = new DetectionStore(db);
  const run = store.startRun('schedule', T0, 'cpu');
  store.saveScores(run, 1, ids.map((roundId, i) => ({ roundId, score: 1, threshold: 5, anomalous: anomalous(i) })));
  return { store, ids };
}

describe('DetectionStore.replaySample', () => {
  it('draws only rounds whose sockets are still stored: emptied rounds are never replayed as normal', async () => {
    const { store, ids } = scoredHistory(3 * 1440);
    // The real daily cleanup with one day of socket detail kept: the first day and a half goes.
    const now = T0 + 2.5 * 1440 * MIN;
    const settings = { ...defaultSettings(), 'retention.roundPortsDays': 1 };
    const removed = await runCleanup(db, { retention: settings, trigger: 'manual', dbPath: file, log: silentLogger, now: () => now });
    // Older history is kept as runs of unchanged rounds (migration 012): a few rows stand for a day.
    expect(removed.removed.roundPorts).toBeGreaterThan(0);
    const withDetail = new Set(db.prepare('SELECT DISTINCT round_id FROM round_sockets').pluck().all() as number[]);
    expect(withDetail.size).toBeGreaterThan(1000);
    expect(withDetail.size).toBeLessThan(ids.length);
    const random = seededRandom(4);
    for (let k = 0; k < 5; k++) {
      for (const set of ['train', 'holdout'] as const) {
        const drawn = store.replaySample(60, ids.at(-1)! + 1, random, set);
        expect(drawn.length).toBeGreaterThan(set === 'train' ? 50 : 30);
        expect(drawn.every((r) => withDetail.has(r.id))).toBe(true);
      }
    }
  });

  it('keeps the hold-out apart: training replay never draws a hold-out round, validation only those', () => {
    const { store, ids } = scoredHistory(2000, (i) => i % 50 === 7);
    const anomalous = new Set(ids.filter((_, i) => i % 50 === 7));
    const random = seededRandom(9);
    const train = store.replaySample(200, ids.at(-1)! + 1, random, 'train');
    const holdout = store.replaySample(100, ids.at(-1)! + 1, random, 'holdout');
    expect(train).toHaveLength(200);
    expect(holdout).toHaveLength(100);
    expect(train.some((r) => isHeldOut(r.id))).toBe(false);
    expect(holdout.every((r) => isHeldOut(r.id))).toBe(true);
    expect([...train, ...holdout].some((r) => anomalous.has(r.id))).toBe(false);
    // Sorted by time, each round once.
    expect(new Set(train.map((r) => r.id)).size).toBe(train.length);
    expect(train.map((r) => r.startedAt)).toEqual([...train.map((r) => r.startedAt)].sort((a, b) => a - b));
    // An anomalous round the user approved is learned, whichever set its id falls in.
    const approvedId = [...anomalous][0]!;
    store.markRoundsExpected([approvedId], T0);
    const again = store.replaySample(2000, ids.at(-1)! + 1, seededRandom(1), 'train');
    expect(again.map((r) => r.id)).toContain(approvedId);
  });

  it('costs O(sample), not O(history): a bounded number of point lookups however long the history', () => {
    const { store, ids } = scoredHistory(6000);
    let lookups = 0;
    const prepare = db.prepare.bind(db);
    (db as { prepare: Db['prepare'] }).prepare = ((sql: string) => {
      const stmt = prepare(sql);
      const { get, all } = stmt;
      stmt.get = (...a: unknown[]) => (lookups++, get.apply(stmt, a as never));
      stmt.all = (...a: unknown[]) => {
        const rows = all.apply(stmt, a as never);
        lookups += rows.length;
        return rows;
      };
      return stmt;
    }) as Db['prepare'];
    const drawn = store.replaySample(60, ids.at(-1)! + 1, seededRandom(3), 'holdout');
    expect(drawn).toHaveLength(60);
    expect(lookups).toBeLessThanOrEqual(60 * 40 + 1);
    expect(lookups).toBeLessThan(ids.length / 4);
  });

  it('returns nothing when there is nothing older with detail', () => {
    const { store, ids } = scoredHistory(10);
    expect(store.replaySample(5, ids[0]!, Math.random)).toEqual([]);
    expect(store.replaySample(0, ids.at(-1)! + 1, Math.random)).toEqual([]);
  });
});

describe('DetectionStore.recentHoldoutScores', () => {
  it('gives the stored scores of normal hold-out rounds only', () => {
    const { store, ids } = scoredHistory(800, (i) => i % 3 === 0);
    const expected = ids.filter((id, i) => isHeldOut(id) && i % 3 !== 0).length;
    expect(expected).toBeGreaterThan(20);
    expect(store.recentHoldoutScores(T0)).toHaveLength(expected);
    expect(store.recentHoldoutScores(T0 + 10_000 * MIN)).toEqual([]);
  });

  it('reads the rounds of the period only, by time, and gives what a scan of every score gave', () => {
    const { store, ids } = scoredHistory(3000, (i) => i % 5 === 0);
    // Some rounds scored while learning (no threshold): never in the pool.
    db.prepare('UPDATE round_scores SET threshold = NULL WHERE round_id % 7 = 0').run();
    const plan = db
      .prepare<[number], { detail: string }>(
        `EXPLAIN QUERY PLAN SELECT s.round_id AS id, s.score FROM rounds r CROSS JOIN round_scores s ON s.round_id = r.id
         WHERE r.started_at >= ? AND s.anomalous = 0 AND s.threshold IS NOT NULL`,
      )
      .all(T0)
      .map((r) => r.detail);
    expect(plan[0]).toMatch(/rounds_started_at \(started_at>\?\)/);
    // The query it replaces, which read every normal score ever stored.
    const scan = (since: number) =>
      db
        .prepare<[number], { id: number; score: number }>(
          `SELECT s.round_id AS id, s.score FROM round_scores s JOIN rounds r ON r.id = s.round_id WHERE s.anomalous = 0 AND s.threshold IS NOT NULL AND r.started_at >= ?`,
        )
        .all(since)
        .filter((r) => isHeldOut(r.id))
        .map((r) => r.score);
    db.prepare('UPDATE round_scores SET score = round_id / 10.0').run();
    for (const since of [T0, T0 + 1000 * MIN, T0 + 2999 * MIN, T0 + 3000 * MIN]) expect([...store.recentHoldoutScores(since)].sort()).toEqual(scan(since).sort());
    expect(ids.length).toBe(3000);
  });
});

describe('owners of ports', () => {
  it('treats sightings as one program when every field both saw agrees', () => {
    const sshd = { name: 'sshd', exe: '/usr/sbin/sshd', user: 'root' };
    expect(sameProgram(sshd, { ...sshd })).toBe(true);
    // Without the rights to read it, the executable is unknown: not a new program for that alone.
    expect(sameProgram(sshd, { name: 'sshd', exe: null, user: 'root' })).toBe(true);
    expect(sameProgram(sshd, { name: 'sshd', exe: '/tmp/.x/sshd', user: 'root' })).toBe(false);
    expect(sameProgram(sshd, { name: 'python3', exe: '/usr/bin/python3.11', user: 'root' })).toBe(false);
    expect(sameProgram(sshd, { ...sshd, user: 'nobody' })).toBe(false);
    // Nothing seen at all is nobody's match.
    expect(sameProgram(sshd, { name: null, exe: null, user: null })).toBe(false);
  });

  it('finds a known port held by a program never seen holding it, and never one it cannot name', () => {
    const ids = recordRounds(db, T0, 10, (i) => [
      i < 6 ? listener(22, '/usr/sbin/sshd', 801) : i < 8 ? listener(22, '/usr/bin/python3.11', 900) : { ...listener(22, '/usr/sbin/sshd', 801), exe: null, process: null, user: null },
      listener(4444, '/tmp/x', 3121),
    ]);
    const store = new DetectionStore(db);
    store.learnOwners(ids.slice(0, 6));
    const changes = store.ownerChanges(ids, 3);
    expect(changes.map((c) => [c.roundId, c.port, c.holder.exe, c.usual[0]!.exe])).toEqual([
      [ids[6], 22, '/usr/bin/python3.11', '/usr/sbin/sshd'],
      [ids[7], 22, '/usr/bin/python3.11', '/usr/sbin/sshd'],
    ]);
    // 4444 had its owner in every learned round: known, the same program, no change.
    // A port seen fewer than `knownRounds` times has no usual owner to compare with.
    expect(store.ownerChanges(ids, 7)).toEqual([]);
    store.learnOwners(ids.slice(6, 8));
    expect(store.ownerChanges(ids, 3)).toEqual([]);
  });

  it('names as UDP clients the programs that bound several high UDP ports', () => {
    const udp = (port: number, exe: string, pid: number) => ({ ...listener(port, exe, pid), proto: 'udp' as const });
    const ids = recordRounds(db, T0, 4, (i) => [udp(40000 + i, '/usr/lib/firefox/firefox', 4000), udp(51820, '/usr/bin/wireguard', 50)]);
    const store = new DetectionStore(db);
    store.learnOwners(ids);
    const firefox = db.prepare("SELECT id FROM processes WHERE exe = '/usr/lib/firefox/firefox'").pluck().get();
    expect([...store.clientUdpOwners(32768, 65535, 3)]).toEqual([firefox]);
    expect(store.clientUdpOwners(32768, 65535, 5).size).toBe(0);
  });
});

describe('owner changes on kernel-numbered UDP ports', () => {
  it('are no change: a browser taking a number a chat app had is nobody new', () => {
    const udp = (port: number, exe: string, pid: number) => ({ ...listener(port, exe, pid), proto: 'udp' as const });
    const ids = recordRounds(db, T0, 8, (i) => [udp(42921, i < 5 ? '/usr/share/discord/Discord' : '/usr/lib/firefox/firefox', i < 5 ? 2450 : 4000)]);
    const store = new DetectionStore(db);
    store.learnOwners(ids.slice(0, 5));
    expect(store.ownerChanges(ids, 3)).toHaveLength(3); // without the range: three "changes"
    expect(store.ownerChanges(ids, 3, { proto: 'udp', lo: 32768, hi: 65535 })).toEqual([]);
  });
});

describe('approving an incident ("expected")', () => {
  const port = (n: number, exe: string) => ({ proto: 'tcp' as const, port: n, direction: 'appeared' as const, share: 1, expected: 0, process: exe.split('/').pop()!, exe, pid: 1, firstSeenAt: null, usualProcess: null, usualExe: null });
  const incidentOver = (store: DetectionStore, ids: number[], from: number, to: number, exe: string, n: number) =>
    store.insertIncident(store.startRun('schedule', T0, 'cpu'), {
      startRoundId: ids[from]!, endRoundId: ids[to]!, startedAt: T0 + from * MIN, endedAt: T0 + to * MIN, rounds: to - from + 1, peakScore: 9, threshold: 5,
      sentence: `Port ${n}/tcp started listening: ${exe}`, ports: [port(n, exe)],
    });
  const approved = () => new Set(db.prepare('SELECT round_id FROM expected_rounds').pluck().all() as number[]);

  it('approves the rounds of its episodes only: never the rounds of another port incident inside it, nor the pause between episodes', () => {
    const { store, ids } = scoredHistory(60, (i) => (i >= 0 && i < 30) || i >= 40);
    // A dev server the user knows (rounds 0-29, then back at 40-59), and a backdoor that opened while it ran (10-14).
    const dev = incidentOver(store, ids, 0, 29, '/usr/bin/node', 3000);
    store.extendIncident(dev, { endRoundId: ids[59]!, endedAt: T0 + 59 * MIN, rounds: 50, peakScore: 9, sentence: 'Port 3000/tcp started listening: /usr/bin/node', ports: [port(3000, '/usr/bin/node')], recurrence: T0 + 40 * MIN });
    const backdoor = incidentOver(store, ids, 10, 14, '/tmp/.x/x', 4444);
    expect(store.episodesOf(dev)).toEqual([{ startedAt: T0, endedAt: T0 + 29 * MIN }, { startedAt: T0 + 40 * MIN, endedAt: T0 + 59 * MIN }]);
    expect(store.episodesOf(backdoor)).toEqual([{ startedAt: T0 + 10 * MIN, endedAt: T0 + 14 * MIN }]);

    store.markIncidentExpected(dev, T0 + 61 * MIN);
    const dev0 = [...ids.slice(0, 10), ...ids.slice(15, 30), ...ids.slice(40, 60)];
    expect([...approved()].sort((a, b) => a - b)).toEqual(dev0);
    // Nothing of the backdoor's is learned: every window holding one of its rounds stays out.
    expect(store.unapprovedAnomalous(ids.slice(10, 15))).toEqual(new Set(ids.slice(10, 15)));

    // Once the backdoor's incident is called expected too, its rounds are learned as well ...
    store.markIncidentExpected(backdoor, T0 + 62 * MIN);
    expect(approved()).toEqual(new Set([...dev0, ...ids.slice(10, 15)]));
    // ... and taking the dev server's verdict back leaves the backdoor's rounds approved.
    store.setIncidentStatus(dev, 'seen');
    expect(approved()).toEqual(new Set(ids.slice(10, 15)));
  });
});

describe('DetectionStore.missingPorts', () => {
  it('finds a port missing from a process that still runs, only where its program held it in nearly every round it ran, and never for a process that ended', () => {
    const prog = (port: number, exe: string, pid: number) => listener(port, exe, pid);
    // Learned: syncthing always holds 8384 and 22000; a dev tool holds 9229 half the time it runs;
    // docker-proxy, one process per published port, always holds 8080 and 8081.
    const learned = recordRounds(db, T0, 100, (i) => [
      prog(8384, '/usr/bin/syncthing', 950), prog(22000, '/usr/bin/syncthing', 950), prog(3000, '/usr/bin/devtool', 970), ...(i % 2 ? [prog(9229, '/usr/bin/devtool', 970)] : []),
      prog(8080, '/usr/bin/docker-proxy', 1100), prog(8081, '/usr/bin/docker-proxy', 1101),
    ]);
    const store = new DetectionStore(db);
    store.learnOwners(learned);
    const later = recordRounds(db, T0 + 100 * MIN, 4, (i) => [
      // 22000 gone while syncthing runs; then syncthing stops; then it is back as a new process without 22000.
      ...(i < 2 ? [prog(8384, '/usr/bin/syncthing', 950)] : i === 3 ? [prog(8384, '/usr/bin/syncthing', 990)] : []),
      prog(3000, '/usr/bin/devtool', 970), // 9229 gone: it never held it always
      prog(8080, '/usr/bin/docker-proxy', 1100), // the proxy of 8081 ended: one process fewer, not a port dropped
    ]);
    const found = store.missingPorts(later, { minRounds: 60, minShare: 0.99 });
    expect(found.map((m) => [later.indexOf(m.roundId), m.port, m.program.exe, m.pid])).toEqual([
      [0, 22000, '/usr/bin/syncthing', 950],
      [1, 22000, '/usr/bin/syncthing', 950],
    ]);
    expect(found[0]!.usual).toBeCloseTo(100.5 / 101, 6);
    // Not judged before the program has run long enough.
    expect(store.missingPorts(later, { minRounds: 101, minShare: 0.99 })).toEqual([]);
  });
});
