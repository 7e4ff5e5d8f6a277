import net from 'node:net';
import type { Db } from '../store/database';
import { DetectionStore } from '../store/detectionStore';
import { ActionStore } from '../store/actionStore';
import type { FlowSummary, IncidentDetail, IncidentSummary, MethodArgs, ScorePoint } from '../../../shared/contract';

export type ListIncidentsArgs = MethodArgs<'listIncidents'>[0];

/** Scored rounds shown on each side of an incident, for context. */
export const CONTEXT_ROUNDS = 30;
/** A traffic incident's program's scored windows (ten rounds each) shown on each side of it. */
export const CONTEXT_WINDOWS = 12;
/** Flows listed in an incident's detail, largest first. */
export const MAX_FLOWS = 200;
/** DNS names listed in an incident's detail. */
export const MAX_DNS_NAMES = 500;

const SUMMARY_COLUMNS = `SELECT id, started_at AS startedAt, ended_at AS endedAt, rounds, peak_score AS peakScore, threshold, status, sentence FROM incidents`;

type BaseSummary = Omit<IncidentSummary, 'ports' | keyof TrafficExplanation>;

/** What the traffic model says of an incident; empty (kind 'ports', no endpoints) for a port incident. */
export type TrafficExplanation = Pick<IncidentSummary, 'kind' | 'trafficKind' | 'program' | 'endpoints' | 'features'>;

function groupBy<R extends { incidentId: number }>(rows: R[]): Map<number, Omit<R, 'incidentId'>[]> {
  const by = new Map<number, Omit<R, 'incidentId'>[]>();
  for (const { incidentId, ...rest } of rows) {
    const list = by.get(incidentId) ?? [];
    list.push(rest);
    by.set(incidentId, list);
  }
  return by;
}

/** Loads the ports of many incidents in one query and attaches them, most contributing first. */
function withPorts<T extends { id: number }>(db: Db, rows: T[]): (T & Pick<IncidentSummary, 'ports'>)[] {
  if (rows.length === 0) return [];
  const ports = db
    .prepare<[string], IncidentSummary['ports'][number] & { incidentId: number }>(
      `SELECT incident_id AS incidentId, proto, port, direction, share, expected, process, exe, pid, first_seen_at AS firstSeenAt,
              usual_process AS usualProcess, usual_exe AS usualExe
       FROM incident_ports WHERE incident_id IN (SELECT value FROM json_each(?)) ORDER BY incident_id, rank`,
    )
    .all(JSON.stringify(rows.map((r) => r.id)));
  const byIncident = groupBy(ports);
  return rows.map((r) => ({ ...r, ports: byIncident.get(r.id) ?? [] }));
}

/**
 * Attaches the traffic model's explanation to many incidents in three queries whatever their
 * number: kind and program, the remote ends (most telling first) and the driving features
 * (largest share first). Used by the window's list and detail and by `portent anomalies`.
 */
export function withTraffic<T extends { id: number }>(db: Db, rows: T[]): (T & TrafficExplanation)[] {
  if (rows.length === 0) return [];
  const ids = JSON.stringify(rows.map((r) => r.id));
  const heads = db
    .prepare<[string], { id: number; kind: IncidentSummary['kind']; trafficKind: IncidentSummary['trafficKind']; processId: number | null; name: string | null; exe: string | null; user: string | null }>(
      `SELECT i.id, i.kind, i.traffic_kind AS trafficKind, i.process_id AS processId, p.name, p.exe, p.user
       FROM incidents i LEFT JOIN processes p ON p.id = i.process_id WHERE i.id IN (SELECT value FROM json_each(?))`,
    )
    .all(ids);
  const endpoints = groupBy(
    db
      .prepare<[string], Omit<IncidentSummary['endpoints'][number], 'newForProcess' | 'newAnywhere'> & { incidentId: number; newForProcess: number; newAnywhere: number }>(
        `SELECT incident_id AS incidentId, proto, address, port, direction, name, new_for_process AS newForProcess, new_anywhere AS newAnywhere,
                first_seen_at AS firstSeenAt, held_since AS heldSince, opened, bytes_out AS bytesOut, bytes_in AS bytesIn, period_ms AS periodMs
         FROM incident_endpoints WHERE incident_id IN (SELECT value FROM json_each(?)) ORDER BY incident_id, rank`,
      )
      .all(ids),
  );
  const features = groupBy(
    db
      .prepare<[string], IncidentSummary['features'][number] & { incidentId: number }>(
        // A share is a fraction of the gradient; clamped so float rounding never reads as 101 %.
        `SELECT incident_id AS incidentId, feature, min(max(share, 0.0), 1.0) AS share, value, expected
         FROM incident_features WHERE incident_id IN (SELECT value FROM json_each(?)) ORDER BY incident_id, share DESC, feature`,
      )
      .all(ids),
  );
  const byId = new Map(heads.map((h) => [h.id, h]));
  return rows.map((r) => {
    const h = byId.get(r.id);
    const kind = h?.kind ?? 'ports';
    return {
      ...r,
      kind,
      trafficKind: kind === 'ports' ? null : (h?.trafficKind ?? null),
      program: h && h.processId !== null ? { name: h.name, exe: h.exe, user: h.user } : null,
      endpoints: (endpoints.get(r.id) ?? []).map((e) => ({ ...e, newForProcess: e.newForProcess === 1, newAnywhere: e.newAnywhere === 1 })),
      features: features.get(r.id) ?? [],
    };
  });
}

function summaries(db: Db, rows: BaseSummary[]): IncidentSummary[] {
  return withTraffic(db, withPorts(db, rows));
}

function summary(db: Db, id: number): IncidentSummary {
  const row = db.prepare<[number], BaseSummary>(`${SUMMARY_COLUMNS} WHERE id = ?`).get(id);
  if (!row) throw new Error(`no incident ${id}`);
  return summaries(db, [row])[0]!;
}

/** Incidents newest first; `beforeId` pages on from the last one shown, `unseenOnly` keeps the new ones. */
export function listIncidents(db: Db, args: ListIncidentsArgs): IncidentSummary[] {
  const rows = db
    .prepare<{ before: number; unseen: number; limit: number }, BaseSummary>(
      `${SUMMARY_COLUMNS} WHERE id < @before AND (@unseen = 0 OR status = 'new') ORDER BY id DESC LIMIT @limit`,
    )
    .all({ before: args.beforeId ?? Number.MAX_SAFE_INTEGER, unseen: args.unseenOnly ? 1 : 0, limit: args.limit });
  return summaries(db, rows);
}

type ScoreRow = Omit<ScorePoint, 'anomalous'> & { anomalous: number };
const SCORE_COLUMNS = 'SELECT r.id AS roundId, r.started_at AS at, s.score, s.threshold, s.anomalous FROM rounds r JOIN round_scores s ON s.round_id = r.id';

/** Scores of the incident's rounds and of up to CONTEXT_ROUNDS scored rounds either side, oldest first. */
function scoresAround(db: Db, startedAt: number, endedAt: number): ScorePoint[] {
  const before = db.prepare<[number, number], ScoreRow>(`${SCORE_COLUMNS} WHERE r.started_at < ? ORDER BY r.started_at DESC, r.id DESC LIMIT ?`).all(startedAt, CONTEXT_ROUNDS);
  const during = db.prepare<[number, number], ScoreRow>(`${SCORE_COLUMNS} WHERE r.started_at BETWEEN ? AND ? ORDER BY r.started_at, r.id`).all(startedAt, endedAt);
  const after = db.prepare<[number, number], ScoreRow>(`${SCORE_COLUMNS} WHERE r.started_at > ? ORDER BY r.started_at, r.id LIMIT ?`).all(endedAt, CONTEXT_ROUNDS);
  return [...before.reverse(), ...during, ...after].map((r) => ({ ...r, anomalous: r.anomalous === 1 }));
}

const WINDOW_SCORE_COLUMNS = 'SELECT last_round_id AS roundId, started_at AS at, score, threshold, anomalous FROM traffic_windows';

/**
 * A traffic incident is the traffic model's: its score and threshold are that model's, so its
 * chart is its program's (or the host-wide row's) window scores, those of the incident and up to
 * CONTEXT_WINDOWS either side, oldest first; the port model's round scores are another scale.
 */
function trafficScoresAround(db: Db, processId: number | null, startedAt: number, endedAt: number): ScorePoint[] {
  const args = { pid: processId, from: startedAt, to: endedAt, n: CONTEXT_WINDOWS };
  const before = db.prepare<typeof args, ScoreRow>(`${WINDOW_SCORE_COLUMNS} WHERE process_id IS @pid AND started_at < @from ORDER BY started_at DESC LIMIT @n`).all(args);
  const during = db.prepare<typeof args, ScoreRow>(`${WINDOW_SCORE_COLUMNS} WHERE process_id IS @pid AND started_at BETWEEN @from AND @to ORDER BY started_at`).all(args);
  const after = db.prepare<typeof args, ScoreRow>(`${WINDOW_SCORE_COLUMNS} WHERE process_id IS @pid AND started_at > @to ORDER BY started_at LIMIT @n`).all(args);
  return [...before.reverse(), ...during, ...after].map((r) => ({ ...r, anomalous: r.anomalous === 1 }));
}

const INCIDENT_ROUNDS = 'SELECT id FROM rounds WHERE started_at BETWEEN @from AND @to';

/**
 * Whose traffic an incident's detail lists (shared/incidentText.ts, trafficScope, says so to the
 * user). A port incident: the whole machine's, since who talked to the port and what else
 * happened meanwhile is the story. A traffic incident: its program's, and the flows to its remote
 * ends that capture named no program for (capture names a process only for connections a scan
 * saw open, so a program's short ones often go unnamed); the rest of the machine's traffic in
 * those hours is not about it. Traffic no program owns (a scan of this machine): the flows and
 * lookups no program was named for.
 */
interface TrafficScope {
  whole: boolean;
  processId: number | null;
  /** The incident's remote addresses, as written and in the IPv4-mapped form a dual-stack socket gives. */
  addresses: string[];
  /** The names its remote ends were reached by. */
  names: string[];
}

const processIdOf = (db: Db, id: number): number | null => db.prepare<[number], number | null>('SELECT process_id FROM incidents WHERE id = ?').pluck().get(id) ?? null;

function scopeOf(db: Db, s: IncidentSummary): TrafficScope {
  if (s.kind === 'ports') return { whole: true, processId: null, addresses: [], names: [] };
  return {
    whole: false,
    processId: processIdOf(db, s.id),
    addresses: s.endpoints.flatMap((e) => (e.address.includes(':') ? [e.address] : [e.address, `::ffff:${e.address}`])),
    names: s.endpoints.flatMap((e) => (e.name === null ? [] : [e.name])),
  };
}

/**
 * Traffic of the incident's rounds in its scope, one row per conversation (a flow seen in several
 * rounds is summed), largest first, with the program that owned the local end.
 */
function flowsOf(db: Db, startedAt: number, endedAt: number, scope: TrafficScope): FlowSummary[] {
  return db
    .prepare<{ from: number; to: number; limit: number; whole: number; pid: number | null; addresses: string }, FlowSummary>(
      `SELECT f.proto, f.local_addr AS localAddr, f.local_port AS localPort, f.remote_addr AS remoteAddr, f.remote_port AS remotePort,
         f.direction, sum(f.packets) AS packets, sum(f.bytes) AS bytes, min(f.first_ts) AS firstAt, max(f.last_ts) AS lastAt, p.name AS process
       FROM flows f LEFT JOIN processes p ON p.id = f.process_id
       WHERE f.round_id IN (${INCIDENT_ROUNDS})
         AND (@whole = 1 OR f.process_id = @pid
              OR (f.process_id IS NULL AND (@pid IS NULL OR f.remote_addr IN (SELECT value FROM json_each(@addresses)))))
       GROUP BY f.proto, f.local_addr, f.local_port, f.remote_addr, f.remote_port, f.direction, f.process_id
       ORDER BY bytes DESC, packets DESC LIMIT @limit`,
    )
    .all({ from: startedAt, to: endedAt, limit: MAX_FLOWS, whole: scope.whole ? 1 : 0, pid: scope.processId, addresses: JSON.stringify(scope.addresses) });
}

/**
 * Names asked for and CNAME targets answered in the incident's rounds, in its scope (for a
 * program: its own lookups, and the names its remote ends were reached by), sorted. Answers also
 * carry addresses, which are not names and are left out.
 */
function dnsNamesOf(db: Db, startedAt: number, endedAt: number, scope: TrafficScope): string[] {
  const rows = db
    .prepare<{ from: number; to: number; whole: number; pid: number | null }, { dns_query: string | null; dns_answer: string | null }>(
      `SELECT DISTINCT dns_query, dns_answer FROM packets
       WHERE round_id IN (${INCIDENT_ROUNDS}) AND (dns_query IS NOT NULL OR dns_answer IS NOT NULL)
         AND (@whole = 1 OR process_id = @pid OR (@pid IS NULL AND process_id IS NULL))`,
    )
    .all({ from: startedAt, to: endedAt, whole: scope.whole ? 1 : 0, pid: scope.processId });
  const names = new Set<string>();
  const add = (part: string) => {
    const name = part.trim().replace(/\.$/, '').toLowerCase();
    if (name !== '' && net.isIP(name) === 0) names.add(name);
  };
  for (const r of rows) for (const part of `${r.dns_query ?? ''},${r.dns_answer ?? ''}`.split(',')) add(part);
  scope.names.forEach(add);
  return [...names].sort().slice(0, MAX_DNS_NAMES);
}

/** One incident with what the detail view shows: its processes and what was done about them, scores around it, its traffic and DNS names. */
export function getIncident(db: Db, id: number): IncidentDetail {
  const s = summary(db, id);
  const actions = new ActionStore(db);
  const episodes = new DetectionStore(db).episodesOf(id);
  const scope = scopeOf(db, s);
  return {
    ...s, episodes: episodes.length > 0 ? episodes : [{ startedAt: s.startedAt, endedAt: s.endedAt }], processes: actions.processes(id), actions: actions.actions(id),
    scores: s.kind === 'traffic' ? trafficScoresAround(db, scope.processId, s.startedAt, s.endedAt) : scoresAround(db, s.startedAt, s.endedAt),
    flows: flowsOf(db, s.startedAt, s.endedAt, scope),
    dns: dnsNamesOf(db, s.startedAt, s.endedAt, scope),
  };
}

/**
 * The user's verdict on an incident. 'expected' also marks its rounds as normal for the next
 * refit (DetectionStore.markIncidentExpected), so the same thing is not alerted again.
 */
export function setIncidentStatus(db: Db, id: number, status: 'seen' | 'expected' | 'dismissed', now = Date.now()): IncidentSummary {
  summary(db, id); // an unknown id fails here with "no incident N"
  const store = new DetectionStore(db);
  if (status === 'expected') store.markIncidentExpected(id, now);
  else store.setIncidentStatus(id, status);
  return summary(db, id);
}
