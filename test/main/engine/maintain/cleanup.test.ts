import fs from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, type LogFields, type Logger } from '../../../../src/main/engine/log';
import { lastCleanups, oldestRowsQuery, runCleanup, storedBytes, type CleanupOptions } from '../../../../src/main/engine/maintain/cleanup';
import { databaseFileBytes, openDatabase, type Db } from '../../../../src/main/engine/store/database';
import { defaultSettings, type Settings } from '../../../../src/shared/settings';
import { openTestDb } from '../../../support/db';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 2, 10, 3, 30);
const MB = 1024 * 1024;

let db: Db;
let file: string;
let lines: LogFields[];
let log: Logger;
beforeEach(() => {
  ({ db, file } = openTestDb());
  lines = [];
  log = createLogger((l) => lines.push(JSON.parse(l) as LogFields), 'debug');
});
afterEach(() => {
  if (db.open) db.close();
});

/** What a round holds in the seed: its sockets, packets and flows, all stamped inside it. */
interface SeedRound {
  startedAt: number;
  sockets?: number;
  packets?: number;
  flows?: number;
}

/** Writes rounds with their detail rows straight into the tables, in one transaction. */
function seed(rounds: SeedRound[], filler = ''): number[] {
  db.prepare("INSERT OR IGNORE INTO ports (proto, port, first_seen_at, last_seen_at) VALUES ('tcp', 22, 0, ?)").run(NOW);
  const portId = db.prepare("SELECT id FROM ports WHERE proto = 'tcp' AND port = 22").pluck().get() as number;
  const round = db.prepare("INSERT INTO rounds (started_at, ended_at, duration_ms, host, status) VALUES (?, ?, 10, 'box', 'ok')");
  const socket = db.prepare("INSERT INTO rounds_ports (round_id, port_id, family, address) VALUES (?, ?, 4, '0.0.0.0')");
  const packet = db.prepare("INSERT INTO packets (round_id, ts, protocols, length, dns_answer) VALUES (?, ?, 'eth:ip:tcp', 60, ?)");
  const flow = db.prepare(
    "INSERT INTO flows (round_id, proto, local_addr, local_port, remote_addr, remote_port, direction, packets, bytes, first_ts, last_ts) VALUES (?, 'tcp', '10.0.0.2', 22, ?, 50000, 'inbound', 1, 60, ?, ?)",
  );
  return db.transaction(() =>
    rounds.map((r) => {
      const id = Number(round.run(r.startedAt, r.startedAt + 10).lastInsertRowid);
      for (let i = 0; i < (r.sockets ?? 0); i++) socket.run(id, portId);
      for (let i = 0; i < (r.packets ?? 0); i++) packet.run(id, r.startedAt + i, filler || null);
      for (let i = 0; i < (r.flows ?? 0); i++) flow.run(id, `10.0.0.9${filler}`, r.startedAt + i, r.startedAt + i);
      return id;
    }),
  )();
}

/** A scored old round with an incident on it, as detection leaves them. */
function detectionHistory(roundId: number, startedAt: number): void {
  const run = Number(db.prepare("INSERT INTO detection_runs (trigger, started_at, ended_at, status) VALUES ('schedule', ?, ?, 'ok')").run(startedAt, startedAt).lastInsertRowid);
  db.prepare('INSERT INTO round_scores (round_id, run_id, score, threshold, anomalous, model_version) VALUES (?, ?, 9.5, 3, 1, 1)').run(roundId, run);
  db.prepare(
    "INSERT INTO incidents (run_id, start_round_id, end_round_id, started_at, ended_at, rounds, peak_score, threshold, sentence) VALUES (?, ?, ?, ?, ?, 1, 9.5, 3, 'tcp/22 appeared')",
  ).run(run, roundId, roundId, startedAt, startedAt);
  db.prepare("INSERT INTO models (version, created_at, backend, threshold, architecture, history, rounds_trained) VALUES (1, ?, 'cpu', 3, '{}', '[]', 360)").run(startedAt);
  db.prepare("INSERT INTO round_capture (round_id, iface, state) VALUES (?, 'eth0', 'on')").run(roundId);
}

function count(table: string): number {
  return db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number;
}

function options(over: Partial<CleanupOptions> & { settings?: Partial<Settings> } = {}): CleanupOptions {
  const { settings, ...rest } = over;
  return { retention: { ...defaultSettings(), 'retention.maxDatabaseMb': 0, ...settings }, trigger: 'manual', dbPath: file, log, now: () => NOW, ...rest };
}

/** A span from round `first` to round `last` of one process's sockets to 203.0.113.7:443. */
function span(first: number, last: number): void {
  db.prepare("INSERT OR IGNORE INTO remote_endpoints (id, proto, address, port, first_seen_at, last_seen_at) VALUES (1, 'tcp', '203.0.113.7', 443, 0, ?)").run(NOW);
  db.prepare("INSERT INTO connection_spans (first_round_id, last_round_id, endpoint_id, direction, state, count) VALUES (?, ?, 1, 'out', 'established', 1)").run(first, last);
}

describe('runCleanup of traffic windows', () => {
  it("removes the traffic model's windows with the flows' retention and counts them", async () => {
    const rounds = seed([0, 1].map((i) => ({ startedAt: NOW - 40 * DAY + i * 60_000 })));
    const recent = seed([0, 1].map((i) => ({ startedAt: NOW - DAY + i * 60_000 })));
    const insert = db.prepare('INSERT INTO traffic_windows (first_round_id, last_round_id, started_at, ended_at, process_id, score, held_out, features) VALUES (?, ?, ?, ?, NULL, 0.5, 0, ?)');
    const blob = Buffer.from(new Float32Array(31).buffer);
    insert.run(rounds[0], rounds[1], NOW - 40 * DAY, NOW - 40 * DAY + 60_000, blob);
    insert.run(recent[0], recent[1], NOW - DAY, NOW - DAY + 60_000, blob);
    const result = await runCleanup(db, options());
    expect(result.removed.trafficWindows).toBe(1);
    expect(db.prepare('SELECT started_at FROM traffic_windows').pluck().all()).toEqual([NOW - DAY]);
    expect(lastCleanups(db, 1)[0]?.removed.trafficWindows).toBe(1);
  });
});

describe('runCleanup of connection spans', () => {
  it('removes spans that ended past the rounds\' retention, keeps one that reaches into it, and counts them', async () => {
    const old = seed([0, 1, 2].map((i) => ({ startedAt: NOW - 40 * DAY + i * 60_000 })));
    const recent = seed([0, 1].map((i) => ({ startedAt: NOW - DAY + i * 60_000 })));
    span(old[0]!, old[1]!);
    span(old[2]!, old[2]!);
    span(old[2]!, recent[0]!);
    span(recent[0]!, recent[1]!);
    const result = await runCleanup(db, options());
    expect(result.removed).toEqual({ roundPorts: 0, connections: 2, packets: 0, flows: 0, trafficWindows: 0, forCap: 0 });
    expect(db.prepare('SELECT first_round_id, last_round_id FROM connection_spans ORDER BY id').all()).toEqual([
      { first_round_id: old[2], last_round_id: recent[0] },
      { first_round_id: recent[0], last_round_id: recent[1] },
    ]);
    expect(lastCleanups(db, 1)[0]?.removed.connections).toBe(2);
    // The endpoints stay: they are the machine's history of who it talked with.
    expect(count('remote_endpoints')).toBe(1);
  });
});

describe('runCleanup by age', () => {
  it('removes detail past its retention, keeps rounds, scores and incidents, and records exact counts', async () => {
    const old = seed([0, 1, 2].map((i) => ({ startedAt: NOW - 40 * DAY + i * 60_000, sockets: 4, packets: 5, flows: 2 })));
    const tenDays = seed([0, 1].map((i) => ({ startedAt: NOW - 10 * DAY + i * 60_000, sockets: 3, packets: 5, flows: 2 })));
    const fresh = seed([0, 1].map((i) => ({ startedAt: NOW - 3_600_000 + i * 60_000, sockets: 3, packets: 5, flows: 2 })));
    detectionHistory(old[0]!, NOW - 40 * DAY);
    const before = { rounds: count('rounds'), scores: count('round_scores'), incidents: count('incidents'), models: count('models'), capture: count('round_capture'), ports: count('ports') };

    const result = await runCleanup(db, options({ batchSize: 4 }));

    // Sockets and flows of the 40-day-old rounds; packets of those and the 10-day-old ones.
    expect(result).toMatchObject({ status: 'ok', startedAt: NOW, endedAt: NOW, removed: { roundPorts: 12, packets: 25, flows: 6, forCap: 0 } });
    expect(db.prepare('SELECT DISTINCT round_id FROM rounds_ports ORDER BY round_id').pluck().all()).toEqual([...tenDays, ...fresh]);
    expect(db.prepare('SELECT DISTINCT round_id FROM packets ORDER BY round_id').pluck().all()).toEqual(fresh);
    expect(db.prepare('SELECT DISTINCT round_id FROM flows ORDER BY round_id').pluck().all()).toEqual([...tenDays, ...fresh]);
    expect({ rounds: count('rounds'), scores: count('round_scores'), incidents: count('incidents'), models: count('models'), capture: count('round_capture'), ports: count('ports') }).toEqual(before);
    expect(db.pragma('foreign_key_check')).toEqual([]);

    const [run] = lastCleanups(db, 5);
    expect(run).toEqual({
      id: result.runId,
      trigger: 'manual',
      startedAt: NOW,
      endedAt: NOW,
      status: 'ok',
      error: null,
      removed: { roundPorts: 12, connections: 0, packets: 25, flows: 6, trafficWindows: 0, forCap: 0 },
      reportFiles: 0,
      bytesBefore: result.bytesBefore,
      bytesAfter: result.bytesAfter,
    });
    expect(result.bytesBefore).toBeGreaterThan(0);
    // Measured before the run's own record was written, which adds a page to the log.
    expect(databaseFileBytes(file) - result.bytesAfter).toBeGreaterThanOrEqual(0);
    expect(databaseFileBytes(file) - result.bytesAfter).toBeLessThan(16 * 1024);
    expect(lines.map((l) => l.msg)).toContain('cleanup finished');
  });

  it('follows the retention settings, and a second run finds nothing more to remove', async () => {
    seed([{ startedAt: NOW - 3 * DAY, sockets: 2, packets: 2, flows: 2 }]);
    const first = await runCleanup(db, options({ settings: { 'retention.roundPortsDays': 2, 'retention.packetsDays': 4, 'retention.flowsDays': 1 } }));
    expect(first.removed).toEqual({ roundPorts: 2, connections: 0, packets: 0, flows: 2, trafficWindows: 0, forCap: 0 });
    const second = await runCleanup(db, options({ trigger: 'schedule', settings: { 'retention.roundPortsDays': 2, 'retention.packetsDays': 4, 'retention.flowsDays': 1 } }));
    expect(second.removed).toEqual({ roundPorts: 0, connections: 0, packets: 0, flows: 0, trafficWindows: 0, forCap: 0 });
    expect(lastCleanups(db, 1)[0]).toMatchObject({ id: second.runId, trigger: 'schedule', status: 'ok' });
    expect(lastCleanups(db).map((r) => r.id)).toEqual([second.runId, first.runId]);
  });

  it('finds each batch through an index, never by scanning a table', () => {
    seed(Array.from({ length: 50 }, (_, i) => ({ startedAt: NOW - (60 - i) * DAY, sockets: 5, packets: 5, flows: 5 })));
    const plans = () =>
      (['roundPorts', 'packets', 'flows'] as const).map((t) => (db.prepare(`EXPLAIN QUERY PLAN ${oldestRowsQuery(t)}`).all({ before: NOW, limit: 10 }) as { detail: string }[]).map((r) => r.detail));
    for (const plan of [...plans(), ...(db.exec('ANALYZE'), plans())]) {
      expect(plan.filter((d) => /^SCAN /.test(d))).toEqual([]);
      expect(plan.join('\n')).toMatch(/USING (COVERING )?INDEX (rounds_started_at|packets_ts|flows_first_ts)/);
    }
  });

  it('hands the event loop back between batches, so the collector writes while it runs', async () => {
    seed(Array.from({ length: 30 }, (_, i) => ({ startedAt: NOW - 40 * DAY + i * 60_000, packets: 10 })));
    // The collector's stand-in: writes a round on the same connection whenever it gets a turn.
    const seen: number[] = [];
    let done = false;
    const tick = () => {
      if (done) return;
      seen.push(count('packets'));
      db.prepare("INSERT INTO rounds (started_at, host, status) VALUES (?, 'box', 'running')").run(NOW);
      setImmediate(tick);
    };
    setImmediate(tick);
    const result = await runCleanup(db, options({ batchSize: 10 }));
    done = true;
    expect(result.removed.packets).toBe(300);
    // It ran between the 30 batches and saw the packets go a batch at a time.
    expect(seen.length).toBeGreaterThanOrEqual(30);
    expect(new Set(seen.filter((n) => n > 0 && n < 300)).size).toBeGreaterThanOrEqual(25);
    expect(count("rounds WHERE status = 'running'")).toBe(seen.length);
  });
});

describe('runCleanup with a size cap', () => {
  // Rows padded to about 2 KB so that the 50 MB minimum cap is reached with few of them.
  const PAD = 'x'.repeat(2000);

  it('removes the oldest packets first until under the cap, then the file shrinks', async () => {
    // Rounds get older as their ids grow, so "oldest" can only mean by time.
    const packetRounds = Array.from({ length: 250 }, (_, i) => ({ startedAt: NOW - i * 60_000 - DAY, packets: 100 }));
    seed(packetRounds, PAD);
    seed(Array.from({ length: 60 }, (_, i) => ({ startedAt: NOW - 2 * DAY + i * 60_000, flows: 100, sockets: 5 })), PAD);
    const packetsBefore = count('packets');
    expect(storedBytes(db)).toBeGreaterThan(50 * MB);
    const sizeBefore = databaseFileBytes(file);

    const result = await runCleanup(db, options({ settings: { 'retention.maxDatabaseMb': 50 } }));

    expect(result.status).toBe('ok');
    expect(result.removed.flows).toBe(0);
    expect(result.removed.roundPorts).toBe(0);
    expect(result.removed.packets).toBeGreaterThan(0);
    expect(result.removed.packets).toBeLessThan(packetsBefore);
    expect(result.removed.forCap).toBe(result.removed.packets);
    expect(count('flows')).toBe(6000);
    // What is left is exactly the newest packets.
    const keptOldest = db.prepare('SELECT MIN(ts) FROM packets').pluck().get() as number;
    const newerThanKept = db.prepare('SELECT COUNT(*) FROM packets WHERE ts >= ?').pluck().get(keptOldest) as number;
    expect(newerThanKept).toBe(packetsBefore - result.removed.packets);
    // Under the cap, by less than one batch too much.
    expect(storedBytes(db)).toBeLessThanOrEqual(50 * MB);
    expect(storedBytes(db)).toBeGreaterThan(50 * MB - 5000 * 2200);
    // Incremental vacuum and the checkpoint gave the space back to the file system.
    expect(db.pragma('freelist_count', { simple: true })).toBe(0);
    expect(fs.statSync(`${file}-wal`).size).toBeLessThan(16 * 1024); // the run's own record only
    expect(result.bytesAfter).toBeLessThan(result.bytesBefore);
    expect(result.bytesBefore).toBe(sizeBefore);
    expect(databaseFileBytes(file)).toBeLessThanOrEqual(50 * MB + 64 * 1024);
    expect(lastCleanups(db, 1)[0]).toMatchObject({ status: 'ok', removed: { ...result.removed }, bytesBefore: result.bytesBefore, bytesAfter: result.bytesAfter });
  });

  it('goes on to the oldest flows once no packets are left, and keeps rounds and incidents', async () => {
    const ids = seed(Array.from({ length: 300 }, (_, i) => ({ startedAt: NOW - DAY + i * 60_000, flows: 100, sockets: 2 })), PAD);
    seed([{ startedAt: NOW - 2 * DAY, packets: 50 }]);
    detectionHistory(ids[0]!, NOW - DAY);

    const result = await runCleanup(db, options({ settings: { 'retention.maxDatabaseMb': 50 } }));

    expect(result.removed.packets).toBe(50);
    expect(result.removed.flows).toBeGreaterThan(0);
    expect(result.removed.roundPorts).toBe(0);
    expect(result.removed.forCap).toBe(50 + result.removed.flows);
    const keptOldest = db.prepare('SELECT MIN(first_ts) FROM flows').pluck().get() as number;
    expect(db.prepare('SELECT COUNT(*) FROM flows WHERE first_ts >= ?').pluck().get(keptOldest)).toBe(30_000 - result.removed.flows);
    expect([count('rounds'), count('incidents'), count('round_scores'), count('rounds_ports')]).toEqual([301, 1, 1, 600]);
    expect(storedBytes(db)).toBeLessThanOrEqual(50 * MB);
  });
});

describe('runCleanup when things go wrong', () => {
  it('records a failure with its message, keeps the counts of what went before it, and rethrows', async () => {
    seed(Array.from({ length: 4 }, (_, i) => ({ startedAt: NOW - 40 * DAY + i * 60_000, sockets: 2, packets: 3, flows: 3 })));
    db.exec("CREATE TEMP TRIGGER refuse BEFORE DELETE ON flows BEGIN SELECT RAISE(ABORT, 'flows are read-only today'); END");

    await expect(runCleanup(db, options({ batchSize: 5 }))).rejects.toThrow('flows are read-only today');

    expect(lastCleanups(db, 1)[0]).toMatchObject({ status: 'failed', error: 'flows are read-only today', endedAt: NOW, removed: { roundPorts: 8, packets: 12, flows: 0, forCap: 0 } });
    expect(count('flows')).toBe(12);
    expect(count('rounds')).toBe(4);
  });

  it('rejects cleanly when its connection is closed under it', async () => {
    seed(Array.from({ length: 4 }, (_, i) => ({ startedAt: NOW - 40 * DAY + i * 60_000, packets: 5 })));
    let asked = 0;
    const shouldStop = () => {
      asked += 1;
      // Asked before the (empty) socket, run and connection batches, then two packet batches.
      if (asked === 6) db.close();
      return false;
    };
    await expect(runCleanup(db, options({ batchSize: 5, shouldStop }))).rejects.toThrow(/not open/);
    expect(lines.find((l) => l.level === 'error')).toMatchObject({ msg: 'cleanup failed and could not record its failure' });
    // The batches that committed stay removed and counted.
    const reopened = openDatabase(file);
    expect(lastCleanups(reopened, 1)[0]).toMatchObject({ status: 'running', removed: { packets: 10 } });
    expect(reopened.prepare('SELECT COUNT(*) FROM packets').pluck().get()).toBe(10);
    reopened.close();
  });

  it('stops between batches when asked, recorded as cancelled with what it removed so far', async () => {
    seed(Array.from({ length: 10 }, (_, i) => ({ startedAt: NOW - 40 * DAY + i * 60_000, packets: 10, flows: 10 })));
    let batches = 0;
    // The (empty) socket, run and connection batches, then three packet batches.
    const result = await runCleanup(db, options({ batchSize: 10, shouldStop: () => ++batches > 6 }));
    expect(result).toMatchObject({ status: 'cancelled', removed: { roundPorts: 0, packets: 30, flows: 0, forCap: 0 } });
    expect(lastCleanups(db, 1)[0]).toMatchObject({ status: 'cancelled', error: null, endedAt: NOW, removed: { packets: 30 } });
    expect([count('packets'), count('flows')]).toEqual([70, 100]);
    expect(lines.map((l) => l.msg)).toContain('cleanup cancelled');
  });

  it('refuses bad settings and options with a clear message before writing anything', async () => {
    await expect(runCleanup(db, options({ settings: { 'retention.packetsDays': 0 } }))).rejects.toThrow(/^retention\.packetsDays must be a whole number of days from 1 to 3650; got 0$/);
    await expect(runCleanup(db, options({ settings: { 'retention.maxDatabaseMb': 20 } }))).rejects.toThrow(/retention\.maxDatabaseMb must be 0 \(no cap\) or at least 50 megabytes/);
    await expect(runCleanup(db, options({ batchSize: 0 }))).rejects.toThrow(/batch size must be a whole number of rows of at least 1; got 0/);
    await expect(runCleanup(db, options({ dbPath: '' }))).rejects.toThrow(/database file path/);
    await expect(runCleanup(db, options({ trigger: 'hourly' as never }))).rejects.toThrow(/trigger must be 'schedule' or 'manual'; got hourly/);
    expect(count('cleanup_runs')).toBe(0);
    expect(() => lastCleanups(db, 0)).toThrow(/at least 1; got 0/);
  });

  it('does not wait for a checkpoint another connection keeps busy: it logs it and succeeds', async () => {
    seed([{ startedAt: NOW - 40 * DAY, packets: 5 }]);
    const reader = new Database(file);
    reader.exec('BEGIN');
    reader.prepare('SELECT COUNT(*) FROM rounds').get(); // holds a read snapshot open
    try {
      const started = Date.now();
      const result = await runCleanup(db, options());
      expect(result.status).toBe('ok');
      expect(Date.now() - started).toBeLessThan(2000); // not the 5 s busy timeout
      expect(lines.find((l) => /WAL checkpoint skipped/.test(String(l.msg)))).toBeDefined();
      expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    } finally {
      reader.exec('COMMIT');
      reader.close();
    }
  });
});
