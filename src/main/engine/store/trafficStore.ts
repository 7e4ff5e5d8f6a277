import type { Db } from './database';
import type { NewIncident } from './detectionStore';
import { isHeldOut } from '../detect/holdout';

/**
 * The traffic model's rows in SQLite (migration 009): scored windows with their features, and
 * the endpoints and features that explain a traffic incident. See docs/detection.md, "Traffic
 * model".
 */
export interface ScoredWindowRow {
  firstRoundId: number;
  lastRoundId: number;
  startedAt: number;
  endedAt: number;
  processId: number | null;
  score: number;
  threshold: number | null;
  anomalous: boolean;
  heldOut: boolean;
  features: Float32Array;
}

export interface ReplayedWindow {
  id: number;
  lastRoundId: number;
  processId: number | null;
  features: Float32Array;
}

export interface IncidentEndpointRow {
  proto: string;
  address: string;
  port: number;
  direction: 'out' | 'in';
  name: string | null;
  newForProcess: boolean;
  newAnywhere: boolean;
  firstSeenAt: number | null;
  heldSince: number | null;
  opened: number;
  bytesOut: number;
  bytesIn: number;
  periodMs: number | null;
}

export interface IncidentFeatureRow {
  feature: string;
  share: number;
  value: number;
  expected: number;
}

export type TrafficKind = 'new-destination' | 'beacon' | 'volume-out' | 'scan' | 'dns-tunnel' | 'unusual-traffic';

/** A traffic incident: an incident's own fields, with what the traffic explanation adds. */
export interface NewTrafficIncident extends Omit<NewIncident, 'ports'> {
  processId: number | null;
  trafficKind: TrafficKind;
  endpoints: readonly IncidentEndpointRow[];
  features: readonly IncidentFeatureRow[];
}

/** Which held-out set a window belongs to: the same rounds as the port model's hold-out. */
export const isHeldOutWindow = (lastRoundId: number) => isHeldOut(lastRoundId);

function toBlob(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

function fromBlob(b: Buffer): Float32Array {
  const copy = new Uint8Array(b.byteLength);
  copy.set(b);
  return new Float32Array(copy.buffer);
}

/**
 * A window the user approved: its process's traffic incident covering it was marked expected.
 * Approval is per process and per episode of that incident, never every window that ended in an
 * approved round (another program's exfiltration in the same hour stays unlearned).
 */
const APPROVED_WINDOW = `EXISTS (SELECT 1 FROM incidents i JOIN incident_episodes ep ON ep.incident_id = i.id
  WHERE i.status = 'expected' AND i.kind IN ('traffic', 'both') AND i.process_id IS w.process_id
    AND ep.started_at <= w.ended_at AND ep.ended_at >= w.started_at)`;

export class TrafficStore {
  constructor(private readonly db: Db) {}

  /** The newest round started by `until` (ok or not: windows are cut on ids), or null. */
  latestRoundId(until = Number.MAX_SAFE_INTEGER): number | null {
    return this.db.prepare<[number], number | null>('SELECT max(id) FROM rounds WHERE started_at <= ?').pluck().get(until) ?? null;
  }

  /** The last round of the newest window scored, or null: where a new model (or a rebuilt one) starts. */
  lastScoredRound(): number | null {
    return this.db.prepare<[], number | null>('SELECT max(last_round_id) FROM traffic_windows').pluck().get() ?? null;
  }

  saveWindows(runId: number, modelVersion: number, rows: readonly ScoredWindowRow[]): void {
    const insert = this.db.prepare(
      `INSERT OR REPLACE INTO traffic_windows (first_round_id, last_round_id, started_at, ended_at, process_id, run_id, model_version, score, threshold, anomalous, held_out, features)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      for (const r of rows) {
        insert.run(r.firstRoundId, r.lastRoundId, r.startedAt, r.endedAt, r.processId, runId, modelVersion, r.score, r.threshold, r.anomalous ? 1 : 0, r.heldOut ? 1 : 0, toBlob(r.features));
      }
    })();
  }

  /** Marks stored windows anomalous after the fact (a window an incident came to cover). */
  markAnomalous(lastRoundId: number, processId: number | null): void {
    this.db.prepare('UPDATE traffic_windows SET anomalous = 1 WHERE last_round_id = ? AND process_id IS ?').run(lastRoundId, processId);
  }

  /**
   * Older windows for a refit, drawn by rejection sampling on the primary key (O(sample), at most
   * 40 tries per window wanted): for training, windows that were normal (or whose rounds the user
   * marked expected) and not held out; for validation, normal held-out windows; none that started
   * before `notBefore` (the start of recording, which is never learned). With `width`, only windows
   * of that many features (a model built on other features cannot learn from the others).
   */
  replay(count: number, beforeRoundId: number, random: () => number, set: 'train' | 'holdout', notBefore = 0, width?: number): ReplayedWindow[] {
    if (count <= 0) return [];
    const range = this.db
      .prepare<[number], { lo: number | null; hi: number | null }>('SELECT min(id) AS lo, max(id) AS hi FROM traffic_windows WHERE last_round_id < ?')
      .get(beforeRoundId);
    if (!range || range.lo == null || range.hi == null) return [];
    const check = this.db.prepare<[number, number, number], { id: number; lastRoundId: number; processId: number | null; anomalous: number; heldOut: number; approved: number; features: Buffer }>(
      `SELECT w.id, w.last_round_id AS lastRoundId, w.process_id AS processId, w.anomalous, w.held_out AS heldOut,
              ${APPROVED_WINDOW} AS approved, w.features
       FROM traffic_windows w WHERE w.id = ? AND w.last_round_id < ? AND w.started_at >= ?`,
    );
    const chosen = new Map<number, ReplayedWindow>();
    const span = range.hi - range.lo + 1;
    for (let tries = 0; tries < count * 40 && chosen.size < Math.min(count, span); tries++) {
      const id = range.lo + Math.floor(random() * span);
      if (chosen.has(id)) continue;
      const r = check.get(id, beforeRoundId, notBefore);
      if (!r) continue;
      const ok = set === 'holdout' ? r.heldOut === 1 && r.anomalous === 0 : r.heldOut === 0 && (r.anomalous === 0 || r.approved === 1);
      if (ok && (width === undefined || r.features.byteLength === width * 4)) chosen.set(id, { id: r.id, lastRoundId: r.lastRoundId, processId: r.processId, features: fromBlob(r.features) });
    }
    return [...chosen.values()].sort((a, b) => a.id - b.id);
  }

  /**
   * Features of the normal windows ending after round `afterRoundId` and by round `throughRoundId`
   * (scored by 'score' runs, waiting for the next refit) that started at or after `notBefore`:
   * outside the hold-out for `train`, in it for `holdout`. Oldest first. With `width`, only windows
   * of that many features.
   */
  scoredBetween(afterRoundId: number, throughRoundId: number, notBefore: number, set: 'train' | 'holdout', width?: number): Float32Array[] {
    return this.db
      .prepare<[number, number, number, number, number | null, number | null], Buffer>(
        `SELECT features FROM traffic_windows WHERE last_round_id > ? AND last_round_id <= ? AND started_at >= ? AND anomalous = 0 AND held_out = ?
           AND (? IS NULL OR length(features) = ?) ORDER BY last_round_id, id`,
      )
      .pluck()
      .all(afterRoundId, throughRoundId, notBefore, set === 'holdout' ? 1 : 0, width === undefined ? null : width * 4, width === undefined ? null : width * 4)
      .map((b) => fromBlob(b));
  }

  /** Windows the user approved (APPROVED_WINDOW) whose rounds were marked since `since` (marked_at): learned at the next refit. */
  approvedSince(since: number, width?: number): ReplayedWindow[] {
    return this.db
      .prepare<[number, number | null, number | null], { id: number; lastRoundId: number; processId: number | null; features: Buffer }>(
        `SELECT w.id, w.last_round_id AS lastRoundId, w.process_id AS processId, w.features FROM traffic_windows w
         JOIN expected_rounds e ON e.round_id = w.last_round_id WHERE e.marked_at > ? AND w.anomalous = 1 AND w.held_out = 0
           AND (? IS NULL OR length(w.features) = ?) AND ${APPROVED_WINDOW}`,
      )
      .all(since, width === undefined ? null : width * 4, width === undefined ? null : width * 4)
      .map((r) => ({ ...r, features: fromBlob(r.features) }));
  }

  /** Scores of normal held-out windows scored by an alerting model since `since`: out of sample. */
  recentHoldoutScores(since: number): number[] {
    return this.db
      .prepare<[number], number>('SELECT score FROM traffic_windows WHERE held_out = 1 AND anomalous = 0 AND threshold IS NOT NULL AND started_at >= ?')
      .pluck()
      .all(since);
  }

  /** Windows scored per day, over the last `days` days of scored windows (for the alarm budget). */
  windowsPerDay(now: number, days = 7): number | null {
    const r = this.db
      .prepare<[number], { n: number; first: number | null; last: number | null }>('SELECT count(*) AS n, min(started_at) AS first, max(ended_at) AS last FROM traffic_windows WHERE started_at >= ?')
      .get(now - days * 86_400_000);
    if (!r || r.n === 0 || r.first === null || r.last === null) return null;
    const spanDays = Math.max((r.last - r.first) / 86_400_000, 1 / 24);
    return r.n / spanDays;
  }

  /**
   * The traffic incident of this process (or of the host-wide row) whose last window ended at
   * `previousLastRoundId`: the next anomalous window continues it.
   */
  continuing(processId: number | null, previousLastRoundId: number): { id: number; rounds: number; peakScore: number; startedAt: number; sentence: string; trafficKind: TrafficKind | null } | undefined {
    return this.db
      .prepare<[number | null, number], { id: number; rounds: number; peakScore: number; startedAt: number; sentence: string; trafficKind: TrafficKind | null }>(
        `SELECT id, rounds, peak_score AS peakScore, started_at AS startedAt, sentence, traffic_kind AS trafficKind FROM incidents
         WHERE kind IN ('traffic', 'both') AND process_id IS ? AND end_round_id = ? ORDER BY id DESC LIMIT 1`,
      )
      .get(processId, previousLastRoundId);
  }

  /**
   * Traffic incidents of a process that ran until `since` or later and began before `before`,
   * newest first, that the user has not judged yet ('new' or 'seen': what they called expected
   * is learned, and what they dismissed is told again): the incidents a later window may be a
   * recurrence of.
   */
  recentOf(processId: number | null, since: number, before: number): { id: number; rounds: number; peakScore: number; startedAt: number; sentence: string; trafficKind: TrafficKind | null }[] {
    return this.db
      .prepare<[number | null, number, number], { id: number; rounds: number; peakScore: number; startedAt: number; sentence: string; trafficKind: TrafficKind | null }>(
        `SELECT id, rounds, peak_score AS peakScore, started_at AS startedAt, sentence, traffic_kind AS trafficKind FROM incidents
         WHERE kind IN ('traffic', 'both') AND process_id IS ? AND ended_at >= ? AND started_at < ? AND status IN ('new', 'seen') ORDER BY ended_at DESC LIMIT 8`,
      )
      .all(processId, since, before);
  }

  /**
   * A port incident of one of these pids that overlaps [from, to] in time: a listener opened by a
   * process that also calls out is one story.
   */
  portIncidentOf(pids: readonly number[], from: number, to: number): { id: number; sentence: string; kind: 'ports' | 'both' } | undefined {
    if (pids.length === 0) return undefined;
    return this.db
      .prepare<[string, number, number], { id: number; sentence: string; kind: 'ports' | 'both' }>(
        `SELECT DISTINCT i.id, i.sentence, i.kind FROM incidents i JOIN incident_ports p ON p.incident_id = i.id
         WHERE i.kind IN ('ports', 'both') AND p.pid IN (SELECT value FROM json_each(?)) AND i.started_at <= ? AND i.ended_at >= ?
         ORDER BY i.id DESC LIMIT 1`,
      )
      .get(JSON.stringify(pids), to, from);
  }

  insertIncident(runId: number, i: NewTrafficIncident): number {
    return this.db.transaction(() => {
      const id = Number(
        this.db
          .prepare(
            `INSERT INTO incidents (run_id, start_round_id, end_round_id, started_at, ended_at, rounds, peak_score, threshold, sentence, kind, process_id, traffic_kind)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'traffic', ?, ?)`,
          )
          .run(runId, i.startRoundId, i.endRoundId, i.startedAt, i.endedAt, i.rounds, i.peakScore, i.threshold, i.sentence, i.processId, i.trafficKind).lastInsertRowid,
      );
      this.writeExplanation(id, i.endpoints, i.features);
      return id;
    })();
  }

  /** Continues a traffic incident into later windows; its explanation is replaced by the latest. */
  extendIncident(id: number, i: Pick<NewTrafficIncident, 'endRoundId' | 'endedAt' | 'rounds' | 'peakScore' | 'sentence' | 'endpoints' | 'features' | 'trafficKind'> & { recurrence?: number }): void {
    this.db.transaction(() => {
      // A recurrence after a pause is a new episode of the incident (migration 014).
      if (i.recurrence !== undefined) this.db.prepare('INSERT OR IGNORE INTO incident_episodes (incident_id, started_at, ended_at) VALUES (?, ?, ?)').run(id, i.recurrence, i.recurrence);
      this.db
        .prepare('UPDATE incidents SET end_round_id = ?, ended_at = ?, rounds = ?, peak_score = ?, sentence = ?, traffic_kind = ? WHERE id = ?')
        .run(i.endRoundId, i.endedAt, i.rounds, i.peakScore, i.sentence, i.trafficKind, id);
      this.writeExplanation(id, i.endpoints, i.features);
    })();
  }

  /** Adds a traffic explanation to a port incident of the same process: one incident, both stories. */
  attachToPortIncident(id: number, i: Pick<NewTrafficIncident, 'processId' | 'trafficKind' | 'endpoints' | 'features'> & { sentence: string }): void {
    this.db.transaction(() => {
      this.db.prepare("UPDATE incidents SET kind = 'both', process_id = ?, traffic_kind = ?, sentence = ? WHERE id = ?").run(i.processId, i.trafficKind, i.sentence, id);
      this.writeExplanation(id, i.endpoints, i.features);
    })();
  }

  private writeExplanation(id: number, endpoints: readonly IncidentEndpointRow[], features: readonly IncidentFeatureRow[]): void {
    this.db.prepare('DELETE FROM incident_endpoints WHERE incident_id = ?').run(id);
    this.db.prepare('DELETE FROM incident_features WHERE incident_id = ?').run(id);
    const ep = this.db.prepare(
      `INSERT INTO incident_endpoints (incident_id, rank, proto, address, port, direction, name, new_for_process, new_anywhere, first_seen_at, held_since, opened, bytes_out, bytes_in, period_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    endpoints.forEach((e, rank) =>
      ep.run(id, rank, e.proto, e.address, e.port, e.direction, e.name, e.newForProcess ? 1 : 0, e.newAnywhere ? 1 : 0, e.firstSeenAt, e.heldSince, e.opened, Math.round(e.bytesOut), Math.round(e.bytesIn), e.periodMs),
    );
    const ft = this.db.prepare('INSERT INTO incident_features (incident_id, feature, share, value, expected) VALUES (?, ?, ?, ?, ?)');
    for (const f of features) ft.run(id, f.feature, f.share, f.value, f.expected);
  }

  endpointsOf(incidentId: number): IncidentEndpointRow[] {
    return this.db
      .prepare<[number], Omit<IncidentEndpointRow, 'newForProcess' | 'newAnywhere'> & { newForProcess: number; newAnywhere: number }>(
        `SELECT proto, address, port, direction, name, new_for_process AS newForProcess, new_anywhere AS newAnywhere, first_seen_at AS firstSeenAt,
                held_since AS heldSince, opened, bytes_out AS bytesOut, bytes_in AS bytesIn, period_ms AS periodMs
         FROM incident_endpoints WHERE incident_id = ? ORDER BY rank`,
      )
      .all(incidentId)
      .map((r) => ({ ...r, newForProcess: r.newForProcess === 1, newAnywhere: r.newAnywhere === 1 }));
  }

  featuresOf(incidentId: number): IncidentFeatureRow[] {
    return this.db.prepare<[number], IncidentFeatureRow>('SELECT feature, share, value, expected FROM incident_features WHERE incident_id = ? ORDER BY share DESC').all(incidentId);
  }
}
