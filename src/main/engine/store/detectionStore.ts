import type { Db } from './database';
import { isHeldOut } from '../detect/holdout';
import { LATEST_HOLDER_SQL, oldestRoundWithSockets } from './roundSockets';

/** Reads and writes what the detector produces (migration 003). */
export interface RoundRef {
  id: number;
  startedAt: number;
}

export interface ScoreRow {
  roundId: number;
  score: number;
  threshold: number | null;
  anomalous: boolean;
}

export interface IncidentPortRow {
  proto: 'tcp' | 'udp';
  port: number;
  direction: 'appeared' | 'vanished' | 'unusual-hour' | 'new-owner';
  share: number;
  expected: number;
  process: string | null;
  exe: string | null;
  pid: number | null;
  firstSeenAt: number | null;
  /** For 'new-owner': who usually holds the port (null otherwise). */
  usualProcess: string | null;
  usualExe: string | null;
}

/** A process as the scanner saw it; null where it could not see. */
export interface Identity {
  name: string | null;
  exe: string | null;
  user: string | null;
}

/** A known port held, in a round, by a process never seen holding it in a learnable round. */
export interface OwnerChange {
  roundId: number;
  proto: 'tcp' | 'udp';
  port: number;
  pid: number | null;
  holder: Identity;
  /** The port's usual owners (learned), most rounds first. */
  usual: Identity[];
}

/**
 * Whether two sightings can be the same program: every field both sides saw is equal. A process
 * whose executable could not be read (no privileges) is not a new program for that alone.
 */
export function sameProgram(a: Identity, b: Identity): boolean {
  const agree = (x: string | null, y: string | null) => x === null || y === null || x === y;
  return agree(a.name, b.name) && agree(a.exe, b.exe) && agree(a.user, b.user) && (a.name !== null || a.exe !== null) && (b.name !== null || b.exe !== null);
}

export interface IncidentRow {
  id: number;
  runId: number | null;
  startRoundId: number;
  endRoundId: number;
  startedAt: number;
  endedAt: number;
  rounds: number;
  peakScore: number;
  threshold: number;
  status: 'new' | 'seen' | 'expected' | 'dismissed';
  sentence: string;
  ports: IncidentPortRow[];
}

export type NewIncident = Omit<IncidentRow, 'id' | 'runId' | 'status'>;

export interface ModelRecord {
  version: number;
  createdAt: number;
  backend: string;
  threshold: number | null;
  architecture: unknown;
  history: unknown;
  /** Training windows over the model's life. */
  roundsTrained: number;
  /** Rounds of history taken in: what the learning period counts. */
  roundsSeen: number;
}

const INCIDENT_COLUMNS = `SELECT id, run_id AS runId, start_round_id AS startRoundId, end_round_id AS endRoundId, started_at AS startedAt,
  ended_at AS endedAt, rounds, peak_score AS peakScore, threshold, status, sentence FROM incidents`;

/**
 * Round `r` lies inside no episode of another port incident the user has not called expected: a
 * round is learned whole, so approving one incident must not approve another's rounds.
 */
const outsideOtherIncidents = (self: string) => `NOT EXISTS (SELECT 1 FROM incident_episodes o JOIN incidents oi ON oi.id = o.incident_id
  WHERE o.incident_id != ${self} AND oi.status != 'expected' AND oi.kind IN ('ports', 'both') AND r.started_at BETWEEN o.started_at AND o.ended_at)`;

/** A port missing from a program that still runs (DetectionStore.missingPorts). */
export interface MissingPort {
  roundId: number;
  processId: number;
  proto: 'tcp' | 'udp';
  port: number;
  /** The pid that held the port last, before this round. */
  pid: number | null;
  program: Identity;
  /** How often the program held the port in the rounds it ran in, as estimated. */
  usual: number;
}

export class DetectionStore {
  constructor(private readonly db: Db) {}

  startRun(trigger: 'schedule' | 'manual', startedAt: number, backend: string | null, scope: 'full' | 'score' = 'full'): number {
    return Number(this.db.prepare('INSERT INTO detection_runs (trigger, started_at, backend, scope) VALUES (?, ?, ?, ?)').run(trigger, startedAt, backend, scope).lastInsertRowid);
  }

  /**
   * What listens in a round, as sorted (port, owner) pairs, leaving out UDP ports in [lo, hi]
   * bound by the known UDP clients `clients` (their kernel-numbered ports change every minute).
   * Two consecutive rounds with different signatures: something opened, closed or changed hands.
   */
  listeningSignature(roundId: number, lo: number, hi: number, clients: ReadonlySet<number>): string {
    return this.db
      .prepare<[number], { portId: number; proto: string; port: number; owner: number | null }>(
        `SELECT DISTINCT rp.port_id AS portId, p.proto, p.port, rp.process_id AS owner FROM round_sockets rp JOIN ports p ON p.id = rp.port_id
         WHERE rp.round_id = ? ORDER BY rp.port_id, rp.process_id`,
      )
      .all(roundId)
      .filter((r) => !(r.proto === 'udp' && r.port >= lo && r.port <= hi && (r.owner === null || clients.has(r.owner))))
      .map((r) => `${r.portId}:${r.owner ?? ''}`)
      .join(',');
  }

  /** Whether any round was scored after round `afterId`: one index probe, nothing loaded. */
  hasScoredAfter(afterId: number): boolean {
    return this.db.prepare<[number], number>('SELECT EXISTS (SELECT 1 FROM round_scores WHERE round_id > ?)').pluck().get(afterId) === 1;
  }

  /** Rounds scored after round `afterId` (by id), oldest first: what the next refit learns from. */
  scoredAfter(afterId: number): (RoundRef & { anomalous: boolean })[] {
    return this.db
      .prepare<[number], { id: number; startedAt: number; anomalous: number }>(
        `SELECT r.id, r.started_at AS startedAt, s.anomalous FROM round_scores s JOIN rounds r ON r.id = s.round_id
         WHERE s.round_id > ? ORDER BY r.started_at, r.id`,
      )
      .all(afterId)
      .map((r) => ({ id: r.id, startedAt: r.startedAt, anomalous: r.anomalous === 1 }));
  }

  finishRun(id: number, r: { endedAt: number; status: 'ok' | 'failed' | 'cancelled'; roundsScored: number; incidents: number; modelVersion: number | null; error?: string | null }): void {
    this.db
      .prepare('UPDATE detection_runs SET ended_at = ?, status = ?, rounds_scored = ?, incidents = ?, model_version = ?, error = ? WHERE id = ?')
      .run(r.endedAt, r.status, r.roundsScored, r.incidents, r.modelVersion, r.error ?? null, id);
  }

  /** Successful rounds without a score, oldest first. */
  unscoredRounds(limit = -1, until = Number.MAX_SAFE_INTEGER): RoundRef[] {
    return this.db
      .prepare<[number, number], RoundRef>(
        `SELECT r.id, r.started_at AS startedAt FROM rounds r
         WHERE r.status = 'ok' AND r.started_at <= ? AND NOT EXISTS (SELECT 1 FROM round_scores s WHERE s.round_id = r.id)
         ORDER BY r.started_at, r.id LIMIT ?`,
      )
      .all(until, limit);
  }

  /** The `count` successful rounds just before `startedAt` (oldest first), for window context. */
  roundsBefore(startedAt: number, count: number): RoundRef[] {
    if (count <= 0) return [];
    return this.db
      .prepare<[number, number], RoundRef>(
        `SELECT id, started_at AS startedAt FROM rounds WHERE status = 'ok' AND started_at < ? ORDER BY started_at DESC, id DESC LIMIT ?`,
      )
      .all(startedAt, count)
      .reverse();
  }

  saveScores(runId: number, modelVersion: number, rows: readonly ScoreRow[]): void {
    const insert = this.db.prepare('INSERT INTO round_scores (round_id, run_id, score, threshold, anomalous, model_version) VALUES (?, ?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const r of rows) insert.run(r.roundId, runId, r.score, r.threshold, r.anomalous ? 1 : 0, modelVersion);
    })();
  }

  /** Rounds that must never be learned as normal: anomalous and not approved by the user. */
  unapprovedAnomalous(roundIds: readonly number[]): Set<number> {
    const rows = this.db
      .prepare<[string], { round_id: number }>(
        `SELECT s.round_id FROM round_scores s WHERE s.anomalous = 1 AND s.round_id IN (SELECT value FROM json_each(?))
         AND NOT EXISTS (SELECT 1 FROM expected_rounds e WHERE e.round_id = s.round_id)`,
      )
      .all(JSON.stringify(roundIds));
    return new Set(rows.map((r) => r.round_id));
  }

  /**
   * Rounds the user approved that the model has not trained on yet: approved at or after `since`
   * (the last refit's time; a mark in the same millisecond is trained on, perhaps twice, never
   * lost).
   */
  expectedSince(since: number): RoundRef[] {
    return this.db
      .prepare<[number], RoundRef>(
        `SELECT r.id, r.started_at AS startedAt FROM expected_rounds e JOIN rounds r ON r.id = e.round_id WHERE e.marked_at >= ? ORDER BY r.started_at`,
      )
      .all(since);
  }

  /**
   * Every stored round before `beforeRoundId` a model may learn from (normal outside the
   * hold-out, or approved by the user), oldest first: what a rebuilt model's hour-of-day counts
   * are counted from. Only rounds whose sockets are still stored, as for replay.
   */
  learnableRounds(beforeRoundId: number): RoundRef[] {
    const lo = oldestRoundWithSockets(this.db);
    if (lo == null || lo >= beforeRoundId) return [];
    return this.db
      .prepare<[number, number], { id: number; startedAt: number; anomalous: number; approved: number }>(
        `SELECT r.id, r.started_at AS startedAt, s.anomalous, EXISTS (SELECT 1 FROM expected_rounds e WHERE e.round_id = r.id) AS approved
         FROM rounds r JOIN round_scores s ON s.round_id = r.id WHERE r.id >= ? AND r.id < ? AND r.status = 'ok' ORDER BY r.started_at, r.id`,
      )
      .all(lo, beforeRoundId)
      .filter((r) => r.approved === 1 || (r.anomalous === 0 && !isHeldOut(r.id)))
      .map((r) => ({ id: r.id, startedAt: r.startedAt }));
  }

  /**
   * A uniform random sample of older rounds the model may learn from, for replay during refit:
   * `train`, normal or approved rounds outside the hold-out; `holdout`, normal hold-out rounds
   * (the validation windows). Only rounds whose sockets are still stored count: cleanup removes
   * the detail of old rounds but keeps their scores, and an emptied round replayed as normal
   * would teach the model that every port vanishing is normal.
   *
   * O(count), not O(history): ids are drawn uniformly between the oldest round with detail and
   * `beforeRoundId` and each is checked by primary key (ids that are gaps, failed rounds,
   * anomalous or of the other set are drawn again, at most 40 tries per round wanted).
   */
  replaySample(count: number, beforeRoundId: number, random: () => number = Math.random, set: 'train' | 'holdout' = 'train'): RoundRef[] {
    if (count <= 0) return [];
    const lo = oldestRoundWithSockets(this.db);
    if (lo == null || lo >= beforeRoundId) return [];
    const check = this.db.prepare<[number], { id: number; startedAt: number; anomalous: number; approved: number }>(
      `SELECT r.id, r.started_at AS startedAt, s.anomalous, EXISTS (SELECT 1 FROM expected_rounds e WHERE e.round_id = r.id) AS approved
       FROM rounds r JOIN round_scores s ON s.round_id = r.id WHERE r.id = ? AND r.status = 'ok'`,
    );
    const chosen = new Map<number, RoundRef>();
    const span = beforeRoundId - lo;
    for (let tries = 0; tries < count * 40 && chosen.size < Math.min(count, span); tries++) {
      const id = lo + Math.floor(random() * span);
      if (chosen.has(id)) continue;
      const r = check.get(id);
      if (!r) continue;
      const held = isHeldOut(id);
      const ok = set === 'holdout' ? held && r.anomalous === 0 && !r.approved : r.approved === 1 || (!held && r.anomalous === 0);
      if (ok) chosen.set(id, { id: r.id, startedAt: r.startedAt });
    }
    return [...chosen.values()].sort((a, b) => a.startedAt - b.startedAt || a.id - b.id);
  }

  /**
   * Scores of normal hold-out rounds scored by an alerting (non-learning) model since `since`:
   * each was scored by the model of its hour, and no model ever trained on it.
   *
   * Read from the rounds since `since` (rounds_started_at), then each one's score by primary key:
   * the work is the calibration period's, whatever the length of the history. Left to itself the
   * planner takes round_scores_anomalous and reads every normal score ever stored.
   */
  recentHoldoutScores(since: number): number[] {
    return this.db
      .prepare<[number], { id: number; score: number }>(
        `SELECT s.round_id AS id, s.score FROM rounds r CROSS JOIN round_scores s ON s.round_id = r.id
         WHERE r.started_at >= ? AND s.anomalous = 0 AND s.threshold IS NOT NULL`,
      )
      .all(since)
      .filter((r) => isHeldOut(r.id))
      .map((r) => r.score);
  }

  /** The incidents that end at `roundId` (so the next anomalous round may continue them), oldest first. */
  incidentsEndingAt(roundId: number): { id: number; startedAt: number; rounds: number; peakScore: number }[] {
    return this.db
      .prepare<[number], { id: number; startedAt: number; rounds: number; peakScore: number }>(
        'SELECT id, started_at AS startedAt, rounds, peak_score AS peakScore FROM incidents WHERE end_round_id = ? ORDER BY id',
      )
      .all(roundId);
  }

  insertIncident(runId: number, i: NewIncident): number {
    return this.db.transaction(() => {
      const id = Number(
        this.db
          .prepare(
            `INSERT INTO incidents (run_id, start_round_id, end_round_id, started_at, ended_at, rounds, peak_score, threshold, sentence)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(runId, i.startRoundId, i.endRoundId, i.startedAt, i.endedAt, i.rounds, i.peakScore, i.threshold, i.sentence).lastInsertRowid,
      );
      this.writePorts(id, i.ports);
      return id;
    })();
  }

  /**
   * Continues an incident into this run's rounds; its explanation is replaced by the wider one.
   * `recurrence`: the cause came back after a pause, and a new episode of the incident starts
   * then (migration 014); otherwise its latest episode is extended.
   */
  extendIncident(id: number, i: Pick<NewIncident, 'endRoundId' | 'endedAt' | 'rounds' | 'peakScore' | 'sentence' | 'ports'> & { recurrence?: number }): void {
    this.db.transaction(() => {
      if (i.recurrence !== undefined) this.db.prepare('INSERT OR IGNORE INTO incident_episodes (incident_id, started_at, ended_at) VALUES (?, ?, ?)').run(id, i.recurrence, i.recurrence);
      this.db
        .prepare('UPDATE incidents SET end_round_id = ?, ended_at = ?, rounds = ?, peak_score = ?, sentence = ? WHERE id = ?')
        .run(i.endRoundId, i.endedAt, i.rounds, i.peakScore, i.sentence, id);
      this.db.prepare('DELETE FROM incident_ports WHERE incident_id = ?').run(id);
      this.writePorts(id, i.ports);
    })();
  }

  private writePorts(id: number, ports: readonly IncidentPortRow[]): void {
    const insert = this.db.prepare(
      `INSERT INTO incident_ports (incident_id, rank, proto, port, direction, share, expected, process, exe, pid, first_seen_at, usual_process, usual_exe)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    ports.forEach((p, rank) => insert.run(id, rank, p.proto, p.port, p.direction, p.share, p.expected, p.process, p.exe, p.pid, p.firstSeenAt, p.usualProcess, p.usualExe));
  }

  incident(id: number): IncidentRow | undefined {
    return this.withPorts(this.db.prepare<[number], Omit<IncidentRow, 'ports'>>(`${INCIDENT_COLUMNS} WHERE id = ?`).all(id))[0];
  }

  incidents(options: { limit?: number; since?: number } = {}): IncidentRow[] {
    const rows = this.db
      .prepare<[number, number], Omit<IncidentRow, 'ports'>>(`${INCIDENT_COLUMNS} WHERE started_at >= ? ORDER BY started_at DESC LIMIT ?`)
      .all(options.since ?? 0, options.limit ?? -1);
    return this.withPorts(rows);
  }

  private withPorts(rows: Omit<IncidentRow, 'ports'>[]): IncidentRow[] {
    const ports = this.db.prepare<[number], IncidentPortRow>(
      `SELECT proto, port, direction, share, expected, process, exe, pid, first_seen_at AS firstSeenAt, usual_process AS usualProcess, usual_exe AS usualExe
       FROM incident_ports WHERE incident_id = ? ORDER BY rank`,
    );
    return rows.map((r) => ({ ...r, ports: ports.all(r.id) }));
  }

  /** The stretches of time an incident covered, oldest first (one, unless its cause came back after a pause). */
  episodesOf(id: number): { startedAt: number; endedAt: number }[] {
    return this.db
      .prepare<[number], { startedAt: number; endedAt: number }>('SELECT started_at AS startedAt, ended_at AS endedAt FROM incident_episodes WHERE incident_id = ? ORDER BY started_at')
      .all(id);
  }

  /**
   * Recent port incidents that may have a recurrence starting at `at`: ended within `withinMs`
   * before it, and not yet judged by the user ('new' or 'seen'; what they called expected is
   * learned, and what they dismissed is told again) that name `port`. Newest first. Filtered by
   * the port, not cut to the newest few of all: on a week no one judged, eight other incidents
   * may well have ended since a service last ran.
   */
  recentPortIncidents(at: number, withinMs: number, port: { proto: 'tcp' | 'udp'; port: number }): { id: number; startedAt: number; endedAt: number; rounds: number; peakScore: number }[] {
    return this.db
      .prepare<[number, number, string, number], { id: number; startedAt: number; endedAt: number; rounds: number; peakScore: number }>(
        `SELECT id, started_at AS startedAt, ended_at AS endedAt, rounds, peak_score AS peakScore FROM incidents i
         WHERE kind IN ('ports', 'both') AND status IN ('new', 'seen') AND ended_at >= ? AND ended_at < ?
           AND EXISTS (SELECT 1 FROM incident_ports p WHERE p.incident_id = i.id AND p.proto = ? AND p.port = ?)
         ORDER BY ended_at DESC LIMIT 8`,
      )
      .all(at - withinMs, at, port.proto, port.port);
  }

  /**
   * The user says an incident was expected: the rounds of its episodes become training data at
   * the next refit, except those inside an episode of another port incident the user has not
   * called expected. A round is learned whole, so approving it would teach the model that other
   * incident too (a backdoor that opened while an approved dev server ran).
   */
  markIncidentExpected(id: number, at: number): void {
    this.db.transaction(() => {
      if (!this.db.prepare('SELECT 1 FROM incidents WHERE id = ?').get(id)) throw new Error(`no incident ${id}`);
      this.db.prepare("UPDATE incidents SET status = 'expected' WHERE id = ?").run(id);
      this.db
        .prepare(
          `INSERT OR IGNORE INTO expected_rounds (round_id, marked_at)
           SELECT r.id, ? FROM incident_episodes ep JOIN rounds r ON r.started_at BETWEEN ep.started_at AND ep.ended_at
           WHERE ep.incident_id = ? AND r.status = 'ok'
             AND ${outsideOtherIncidents('ep.incident_id')}`,
        )
        .run(at, id);
    })();
  }

  /**
   * Rounds an expected incident went on into, approved as its earlier ones were, except those
   * inside an episode of another port incident the user has not called expected.
   */
  approveRounds(incidentId: number, roundIds: readonly number[], at: number): void {
    if (roundIds.length === 0) return;
    this.db
      .prepare(
        `INSERT OR IGNORE INTO expected_rounds (round_id, marked_at)
         SELECT r.id, ? FROM rounds r WHERE r.id IN (SELECT value FROM json_each(?)) AND r.status = 'ok'
           AND ${outsideOtherIncidents('?')}`,
      )
      .run(at, JSON.stringify(roundIds), incidentId);
  }

  markRoundsExpected(roundIds: readonly number[], at: number): void {
    const insert = this.db.prepare('INSERT OR IGNORE INTO expected_rounds (round_id, marked_at) VALUES (?, ?)');
    this.db.transaction(() => roundIds.forEach((id) => insert.run(id, at)))();
  }

  /**
   * Any other verdict. An incident taken back from 'expected' gives its rounds back too: they are
   * no longer approved, so later refits leave them out again (a refit that already ran on them
   * cannot be undone; the hours they were in keep the training they got). Rounds that another
   * expected incident also covers stay approved.
   */
  setIncidentStatus(id: number, status: 'new' | 'seen' | 'dismissed'): void {
    this.db.transaction(() => {
      const inc = this.db.prepare<[number], { status: string }>('SELECT status FROM incidents WHERE id = ?').get(id);
      if (inc?.status === 'expected') {
        this.db
          .prepare(
            `DELETE FROM expected_rounds WHERE round_id IN (
               SELECT r.id FROM incident_episodes ep JOIN rounds r ON r.started_at BETWEEN ep.started_at AND ep.ended_at
               WHERE ep.incident_id = ?
                 AND NOT EXISTS (SELECT 1 FROM incident_episodes o JOIN incidents oi ON oi.id = o.incident_id
                                 WHERE o.incident_id != ep.incident_id AND oi.status = 'expected' AND r.started_at BETWEEN o.started_at AND o.ended_at))`,
          )
          .run(id);
      }
      this.db.prepare('UPDATE incidents SET status = ? WHERE id = ?').run(status, id);
    })();
  }

  /** What the explanation needs to know about a port, from its history. */
  portFacts(proto: 'tcp' | 'udp', port: number, atRoundId: number): { normalRounds: number; firstSeenAt: number | null; process: string | null; exe: string | null; pid: number | null } {
    const p = this.db.prepare<[string, number], { id: number; firstSeenAt: number }>('SELECT id, first_seen_at AS firstSeenAt FROM ports WHERE proto = ? AND port = ?').get(proto, port);
    if (!p) return { normalRounds: 0, firstSeenAt: null, process: null, exe: null, pid: null };
    const normalRounds = this.db
      .prepare<[number, number], number>(
        `SELECT count(DISTINCT rp.round_id) FROM round_sockets rp JOIN round_scores s ON s.round_id = rp.round_id
         WHERE rp.port_id = ? AND rp.round_id < ? AND s.anomalous = 0`,
      )
      .pluck()
      .get(p.id, atRoundId)!;
    return { normalRounds, firstSeenAt: p.firstSeenAt, ...this.holder(p.id, atRoundId) };
  }

  /** Who holds a port as of a round, or for a port that vanished, who held it last. */
  holderAt(proto: 'tcp' | 'udp', port: number, atRoundId: number): { process: string | null; exe: string | null; pid: number | null } {
    const id = this.db.prepare<[string, number], number>('SELECT id FROM ports WHERE proto = ? AND port = ?').pluck().get(proto, port);
    return id === undefined ? { process: null, exe: null, pid: null } : this.holder(id, atRoundId);
  }

  /** Who held a port in a round (or last before it), as the allow rules match it: name, executable and user. */
  holderIdentity(proto: 'tcp' | 'udp', port: number, atRoundId: number): Identity {
    const id = this.db.prepare<[string, number], number>('SELECT id FROM ports WHERE proto = ? AND port = ?').pluck().get(proto, port);
    const h =
      id === undefined
        ? undefined
        : this.db
            .prepare<{ port: number; at: number }, Identity>(`SELECT pr.name, pr.exe, pr.user FROM (${LATEST_HOLDER_SQL}) h LEFT JOIN processes pr ON pr.id = h.process_id`)
            .get({ port: id, at: atRoundId });
    return { name: h?.name ?? null, exe: h?.exe ?? null, user: h?.user ?? null };
  }

  private holder(portId: number, atRoundId: number): { process: string | null; exe: string | null; pid: number | null } {
    const h = this.db
      .prepare<{ port: number; at: number }, { pid: number | null; process: string | null; exe: string | null }>(
        `SELECT h.pid, pr.name AS process, pr.exe FROM (${LATEST_HOLDER_SQL}) h LEFT JOIN processes pr ON pr.id = h.process_id`,
      )
      .get({ port: portId, at: atRoundId });
    return { process: h?.process ?? null, exe: h?.exe ?? null, pid: h?.pid ?? null };
  }

  /**
   * Learns who held each port in these rounds (normal ones, or approved by the user): port_owners
   * counts, per (port, process), the rounds it held the port.
   */
  learnOwners(roundIds: readonly number[]): void {
    if (roundIds.length === 0) return;
    this.db
      .prepare(
        `INSERT INTO port_owners (port_id, process_id, rounds, first_round_id, last_round_id)
         SELECT port_id, process_id, count(DISTINCT round_id), min(round_id), max(round_id) FROM round_sockets
         WHERE round_id IN (SELECT value FROM json_each(?)) AND process_id IS NOT NULL GROUP BY port_id, process_id
         ON CONFLICT (port_id, process_id) DO UPDATE SET rounds = rounds + excluded.rounds,
           first_round_id = min(first_round_id, excluded.first_round_id), last_round_id = max(last_round_id, excluded.last_round_id)`,
      )
      .run(JSON.stringify(roundIds));
    // Which ports each program holds whenever it runs (migration 015): the same rounds, by program.
    this.db
      .prepare(
        `INSERT INTO program_rounds (process_id, rounds)
         SELECT process_id, count(DISTINCT round_id) FROM round_sockets
         WHERE round_id IN (SELECT value FROM json_each(?)) AND process_id IS NOT NULL GROUP BY process_id
         ON CONFLICT (process_id) DO UPDATE SET rounds = rounds + excluded.rounds`,
      )
      .run(JSON.stringify(roundIds));
    this.db
      .prepare(
        `INSERT INTO program_ports (process_id, port_id, rounds)
         SELECT process_id, port_id, count(DISTINCT round_id) FROM round_sockets
         WHERE round_id IN (SELECT value FROM json_each(?)) AND process_id IS NOT NULL GROUP BY process_id, port_id
         ON CONFLICT (process_id, port_id) DO UPDATE SET rounds = rounds + excluded.rounds`,
      )
      .run(JSON.stringify(roundIds));
  }

  /**
   * Ports missing from a running process in these rounds: in each round, every (program, port)
   * where the process that held the port last still holds some socket but not that port, though
   * its program held the port in at least `minShare` of the at least `minRounds` learnable rounds
   * it ran in (program_rounds, program_ports). `usual` is that estimate, (held + ½) / (ran + 1).
   * The same process, not only the same program: a program of many processes (a docker-proxy per
   * published port) whose one process ended has not dropped a port, it has one process fewer,
   * and that is the model's to judge. Ports in `numbered` (the kernel-numbered UDP range) are
   * left out: a client's random port is not one it keeps.
   */
  missingPorts(roundIds: readonly number[], o: { minRounds: number; minShare: number; numbered?: { proto: 'tcp' | 'udp'; lo: number; hi: number } }): MissingPort[] {
    if (roundIds.length === 0) return [];
    // The ports each program holds whenever it runs (a few per program), then the batch's sockets
    // of those programs, read once: the comparison is set lookups, not a query per round and port.
    const usual = this.db
      .prepare<[number, number], { processId: number; portId: number; proto: 'tcp' | 'udp'; port: number; held: number; ran: number; name: string | null; exe: string | null; user: string | null }>(
        `SELECT g.process_id AS processId, pp.port_id AS portId, p.proto, p.port, pp.rounds AS held, g.rounds AS ran, c.name, c.exe, c.user
         FROM program_rounds g JOIN program_ports pp ON pp.process_id = g.process_id AND pp.rounds >= ? * g.rounds
         JOIN ports p ON p.id = pp.port_id JOIN processes c ON c.id = g.process_id WHERE g.rounds >= ?`,
      )
      .all(o.minShare, o.minRounds)
      .filter((u) => !(o.numbered && u.proto === o.numbered.proto && u.port >= o.numbered.lo && u.port <= o.numbered.hi));
    if (usual.length === 0) return [];
    const byProgram = new Map<number, typeof usual>();
    for (const u of usual) {
      const list = byProgram.get(u.processId);
      if (list) list.push(u);
      else byProgram.set(u.processId, [u]);
    }
    // By round only: asked for by program as well, SQLite reads every socket those programs ever held.
    const sockets = this.db
      .prepare<[string], { roundId: number; processId: number | null; portId: number; pid: number | null }>(
        `SELECT round_id AS roundId, process_id AS processId, port_id AS portId, pid FROM round_sockets WHERE round_id IN (SELECT value FROM json_each(?))`,
      )
      .all(JSON.stringify(roundIds));
    const held = new Set<string>();
    const pids = new Map<string, Set<number>>();
    for (const x of sockets) {
      if (x.processId === null || !byProgram.has(x.processId)) continue;
      held.add(`${x.roundId}:${x.processId}:${x.portId}`);
      if (x.pid === null) continue;
      const key = `${x.roundId}:${x.processId}`;
      const set = pids.get(key) ?? new Set<number>();
      set.add(x.pid);
      pids.set(key, set);
    }
    const out: MissingPort[] = [];
    for (const roundId of roundIds) {
      for (const [processId, ports] of byProgram) {
        const running = pids.get(`${roundId}:${processId}`);
        if (!running) continue;
        for (const u of ports) {
          if (held.has(`${roundId}:${processId}:${u.portId}`)) continue;
          const last = this.holder(u.portId, roundId).pid;
          if (last === null || !running.has(last)) continue;
          out.push({ roundId, processId, proto: u.proto, port: u.port, pid: last, program: { name: u.name, exe: u.exe, user: u.user }, usual: (u.held + 0.5) / (u.ran + 1) });
        }
      }
    }
    return out;
  }

  /**
   * Owner changes in these rounds: a port held, in at least `knownRounds` learnable rounds, by
   * programs the scanner could name, now held by one it can name that is none of them (a new
   * executable path, process name or user; a new pid alone is a restart, not a change). Ports in
   * `numbered` (the kernel-numbered UDP range) are left out: a client socket's random port is
   * anybody's next time, and a browser taking a number a chat app had is no change of owner.
   */
  ownerChanges(roundIds: readonly number[], knownRounds: number, numbered?: { proto: 'tcp' | 'udp'; lo: number; hi: number }): OwnerChange[] {
    if (roundIds.length === 0) return [];
    const rows = this.db
      .prepare<[string], { roundId: number; portId: number; proto: 'tcp' | 'udp'; port: number; pid: number | null; name: string | null; exe: string | null; user: string | null }>(
        `SELECT DISTINCT rp.round_id AS roundId, rp.port_id AS portId, p.proto, p.port, rp.pid, pr.name, pr.exe, pr.user
         FROM round_sockets rp JOIN ports p ON p.id = rp.port_id JOIN processes pr ON pr.id = rp.process_id
         WHERE rp.round_id IN (SELECT value FROM json_each(?)) AND (pr.name IS NOT NULL OR pr.exe IS NOT NULL)
           AND NOT EXISTS (SELECT 1 FROM port_owners po WHERE po.port_id = rp.port_id AND po.process_id = rp.process_id)`,
      )
      .all(JSON.stringify(roundIds));
    if (rows.length === 0) return [];
    const usualOf = this.db.prepare<[number, number], Identity>(
      `SELECT pr.name, pr.exe, pr.user FROM port_owners po JOIN processes pr ON pr.id = po.process_id
       WHERE po.port_id = ? AND po.rounds >= ? ORDER BY po.rounds DESC`,
    );
    const usual = new Map<number, Identity[]>();
    const out: OwnerChange[] = [];
    for (const r of rows) {
      if (numbered && r.proto === numbered.proto && r.port >= numbered.lo && r.port <= numbered.hi) continue;
      if (!usual.has(r.portId)) usual.set(r.portId, usualOf.all(r.portId, knownRounds).filter((u) => u.name !== null || u.exe !== null));
      const owners = usual.get(r.portId)!;
      const holder = { name: r.name, exe: r.exe, user: r.user };
      if (owners.length === 0 || owners.some((u) => sameProgram(u, holder))) continue;
      out.push({ roundId: r.roundId, proto: r.proto, port: r.port, pid: r.pid, holder, usual: owners });
    }
    return out;
  }

  /**
   * Processes that have bound at least `minPorts` distinct UDP ports in [lo, hi] in learnable
   * rounds: clients (browsers, resolvers, games) whose kernel-numbered ports are counted, not
   * placed, in the model's input.
   */
  clientUdpOwners(lo: number, hi: number, minPorts: number): Set<number> {
    return new Set(
      this.db
        .prepare<[number, number, number], number>(
          `SELECT po.process_id FROM port_owners po JOIN ports p ON p.id = po.port_id
           WHERE p.proto = 'udp' AND p.port BETWEEN ? AND ? GROUP BY po.process_id HAVING count(*) >= ?`,
        )
        .pluck()
        .all(lo, hi, minPorts),
    );
  }

  /** The newest model's state, without its architecture and history (status, and every round's check). */
  latestModelState(): { version: number; backend: string; threshold: number | null; roundsSeen: number } | undefined {
    return this.db
      .prepare<[], { version: number; backend: string; threshold: number | null; roundsSeen: number }>(
        'SELECT version, backend, threshold, rounds_seen AS roundsSeen FROM models ORDER BY version DESC LIMIT 1',
      )
      .get();
  }

  latestModel(): ModelRecord | undefined {
    const r = this.db
      .prepare<[], { version: number; createdAt: number; backend: string; threshold: number | null; architecture: string; history: string; roundsTrained: number; roundsSeen: number }>(
        `SELECT version, created_at AS createdAt, backend, threshold, architecture, history, rounds_trained AS roundsTrained, rounds_seen AS roundsSeen
         FROM models ORDER BY version DESC LIMIT 1`,
      )
      .get();
    return r ? { ...r, architecture: JSON.parse(r.architecture), history: JSON.parse(r.history) } : undefined;
  }

  recordModel(m: ModelRecord): void {
    this.db
      .prepare('INSERT OR REPLACE INTO models (version, created_at, backend, threshold, architecture, history, rounds_trained, rounds_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(m.version, m.createdAt, m.backend, m.threshold, JSON.stringify(m.architecture), JSON.stringify(m.history), m.roundsTrained, m.roundsSeen);
  }
}
