import net from 'node:net';
import type { Db } from '../store/database';
import { DetectionStore } from '../store/detectionStore';
import type { FlowSummary, IncidentDetail, IncidentSummary, MethodArgs, ScorePoint } from '../../../shared/contract';

export type ListIncidentsArgs = MethodArgs<'listIncidents'>[0];

/** Scored rounds shown on each side of an incident, for context. */
export const CONTEXT_ROUNDS = 30;
/** Flows listed in an incident's detail, largest first. */
export const MAX_FLOWS = 200;
/** DNS names listed in an incident's detail. */
export const MAX_DNS_NAMES = 500;

const SUMMARY_COLUMNS = `SELECT id, started_at AS startedAt, ended_at AS endedAt, rounds, peak_score AS peakScore, threshold, status, sentence FROM incidents`;

/** Loads the ports of many incidents in one query and attaches them, most contributing first. */
function withPorts(db: Db, rows: Omit<IncidentSummary, 'ports'>[]): IncidentSummary[] {
  if (rows.length === 0) return [];
  const ports = db
    .prepare<[string], IncidentSummary['ports'][number] & { incidentId: number }>(
      `SELECT incident_id AS incidentId, proto, port, direction, share, expected, process, exe, pid, first_seen_at AS firstSeenAt,
              usual_process AS usualProcess, usual_exe AS usualExe
       FROM incident_ports WHERE incident_id IN (SELECT value FROM json_each(?)) ORDER BY incident_id, rank`,
    )
    .all(JSON.stringify(rows.map((r) => r.id)));
  const byIncident = new Map<number, IncidentSummary['ports']>();
  for (const { incidentId, ...p } of ports) {
    const list = byIncident.get(incidentId) ?? [];
    list.push(p);
    byIncident.set(incidentId, list);
  }
  return rows.map((r) => ({ ...r, ports: byIncident.get(r.id) ?? [] }));
}

function summary(db: Db, id: number): IncidentSummary {
  const row = db.prepare<[number], Omit<IncidentSummary, 'ports'>>(`${SUMMARY_COLUMNS} WHERE id = ?`).get(id);
  if (!row) throw new Error(`no incident ${id}`);
  return withPorts(db, [row])[0]!;
}

/** Incidents newest first; `beforeId` pages on from the last one shown, `unseenOnly` keeps the new ones. */
export function listIncidents(db: Db, args: ListIncidentsArgs): IncidentSummary[] {
  const rows = db
    .prepare<{ before: number; unseen: number; limit: number }, Omit<IncidentSummary, 'ports'>>(
      `${SUMMARY_COLUMNS} WHERE id < @before AND (@unseen = 0 OR status = 'new') ORDER BY id DESC LIMIT @limit`,
    )
    .all({ before: args.beforeId ?? Number.MAX_SAFE_INTEGER, unseen: args.unseenOnly ? 1 : 0, limit: args.limit });
  return withPorts(db, rows);
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

const INCIDENT_ROUNDS = 'SELECT id FROM rounds WHERE started_at BETWEEN @from AND @to';

/**
 * Traffic of the incident's rounds, one row per conversation (a flow seen in several rounds is
 * summed), largest first, with the program that owned the local end.
 */
function flowsOf(db: Db, startedAt: number, endedAt: number): FlowSummary[] {
  return db
    .prepare<{ from: number; to: number; limit: number }, FlowSummary>(
      `SELECT f.proto, f.local_addr AS localAddr, f.local_port AS localPort, f.remote_addr AS remoteAddr, f.remote_port AS remotePort,
         f.direction, sum(f.packets) AS packets, sum(f.bytes) AS bytes, min(f.first_ts) AS firstAt, max(f.last_ts) AS lastAt, p.name AS process
       FROM flows f LEFT JOIN processes p ON p.id = f.process_id
       WHERE f.round_id IN (${INCIDENT_ROUNDS})
       GROUP BY f.proto, f.local_addr, f.local_port, f.remote_addr, f.remote_port, f.direction, f.process_id
       ORDER BY bytes DESC, packets DESC LIMIT @limit`,
    )
    .all({ from: startedAt, to: endedAt, limit: MAX_FLOWS });
}

/**
 * Names asked for and CNAME targets answered in the incident's rounds, sorted. Answers also
 * carry addresses, which are not names and are left out.
 */
function dnsNamesOf(db: Db, startedAt: number, endedAt: number): string[] {
  const rows = db
    .prepare<{ from: number; to: number }, { dns_query: string | null; dns_answer: string | null }>(
      `SELECT DISTINCT dns_query, dns_answer FROM packets
       WHERE round_id IN (${INCIDENT_ROUNDS}) AND (dns_query IS NOT NULL OR dns_answer IS NOT NULL)`,
    )
    .all({ from: startedAt, to: endedAt });
  const names = new Set<string>();
  for (const r of rows) {
    for (const part of `${r.dns_query ?? ''},${r.dns_answer ?? ''}`.split(',')) {
      const name = part.trim().replace(/\.$/, '').toLowerCase();
      if (name !== '' && net.isIP(name) === 0) names.add(name);
    }
  }
  return [...names].sort().slice(0, MAX_DNS_NAMES);
}

/** One incident with what the detail view shows: scores around it, its traffic and DNS names. */
export function getIncident(db: Db, id: number): IncidentDetail {
  const s = summary(db, id);
  return { ...s, scores: scoresAround(db, s.startedAt, s.endedAt), flows: flowsOf(db, s.startedAt, s.endedAt), dns: dnsNamesOf(db, s.startedAt, s.endedAt) };
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
