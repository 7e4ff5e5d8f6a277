import os from 'node:os';
import type { Db } from '../store/database';
import { databaseFileBytes } from '../store/database';
import { recordingGaps } from '../queries/gaps';
import { plainAddress } from '../store/resolvedNames';
import { lastCleanupsBetween } from '../maintain/cleanup';
import { PORTENT_VERSION } from '../../../shared/version';
import type { DailyReport } from '../../../shared/contract';
import type { ReportPeriod } from './reportPeriod';

/**
 * The daily report's content, read from the database for one period: what happened (incidents),
 * what is new (ports, listening programs, programs talking out, remote ends), who was busiest,
 * and how well Portent itself watched (capture, the model, the database and its cleanup).
 */

export interface BuildReportOptions {
  /** The database file, to measure it. */
  dbPath: string;
  /** Rounds the model needs before it alerts (from `detection.learningHours`). */
  roundsNeeded: number;
  now: number;
  host?: string;
}

const HOUR_MS = 3_600_000;
/** A round stands for one minute of the machine's life. */
const ROUND_MS = 60_000;
const TOP = 10;
/** Remote ends listed per program that talked out for the first time. */
const ENDPOINTS_PER_TALKER = 5;

type Owner = { process: string | null; exe: string | null; user: string | null };

export function buildReport(db: Db, period: ReportPeriod, o: BuildReportOptions): DailyReport {
  const { from, to } = period;
  const range = db.prepare<{ from: number; to: number }, { lo: number | null; hi: number | null }>('SELECT min(id) AS lo, max(id) AS hi FROM rounds WHERE started_at >= @from AND started_at < @to').get({ from, to })!;
  // No round in the period: an empty id range, so the per-round queries find nothing.
  const lo = range.lo ?? 0;
  const hi = range.hi ?? -1;
  const p = { from, to, lo, hi };

  const incidents = db
    .prepare<typeof p, DailyReport['incidents'][number]>(
      `SELECT id, started_at AS startedAt, ended_at AS endedAt, status, kind, sentence FROM incidents
       WHERE started_at < @to AND ended_at >= @from ORDER BY started_at, id`,
    )
    .all(p);

  // A port's first holder: the first round it was seen in (a run's first round, for history
  // kept as runs), a named owner before an unknown one.
  const firstHolder = db.prepare<{ port: number }, Pick<DailyReport['newPorts'][number], 'pid' | 'process' | 'exe' | 'user'>>(
    `SELECT f.pid, pr.name AS process, pr.exe, pr.user
     FROM (SELECT first_round_id AS round_id, pid, process_id FROM rounds_ports_runs WHERE port_id = @port
           UNION ALL SELECT round_id, pid, process_id FROM rounds_ports WHERE port_id = @port) f
     JOIN rounds r ON r.id = f.round_id LEFT JOIN processes pr ON pr.id = f.process_id
     ORDER BY r.started_at, f.process_id IS NULL, f.round_id LIMIT 1`,
  );
  const newPorts = db
    .prepare<typeof p, { id: number; proto: 'tcp' | 'udp'; port: number; firstSeenAt: number }>(
      `SELECT pt.id, pt.proto, pt.port, pt.first_seen_at AS firstSeenAt FROM ports pt
       WHERE pt.first_seen_at >= @from AND pt.first_seen_at < @to
       ORDER BY pt.first_seen_at, pt.proto, pt.port`,
    )
    .all(p)
    .map(({ id, ...pt }) => ({ ...pt, ...(firstHolder.get({ port: id }) ?? { pid: null, process: null, exe: null, user: null }) }));

  // A program is a new listener when it held a listening socket in the period and never before:
  // not in a round still kept, nor among the owners learned from rounds since removed.
  const newListeningProcesses = db
    .prepare<typeof p, Owner & { firstSeenAt: number; ports: string }>(
      `WITH held AS (
         SELECT rp.process_id AS pk, min(r.started_at) AS firstSeenAt, json_group_array(DISTINCT pt.proto || '/' || pt.port) AS ports
         FROM round_sockets rp JOIN rounds r ON r.id = rp.round_id JOIN ports pt ON pt.id = rp.port_id
         WHERE rp.round_id BETWEEN @lo AND @hi AND r.started_at >= @from AND r.started_at < @to AND rp.process_id IS NOT NULL
         GROUP BY rp.process_id)
       SELECT pr.name AS process, pr.exe, pr.user, held.firstSeenAt, held.ports
       FROM held JOIN processes pr ON pr.id = held.pk
       WHERE NOT EXISTS (SELECT 1 FROM rounds_ports x JOIN rounds xr ON xr.id = x.round_id WHERE x.process_id = held.pk AND xr.started_at < @from)
         AND NOT EXISTS (SELECT 1 FROM rounds_ports_runs u JOIN rounds ur ON ur.id = u.first_round_id WHERE u.process_id = held.pk AND ur.started_at < @from)
         AND NOT EXISTS (SELECT 1 FROM port_owners o JOIN rounds orr ON orr.id = o.first_round_id WHERE o.process_id = held.pk AND orr.started_at < @from)
       ORDER BY held.firstSeenAt, pr.name`,
    )
    .all(p)
    .map((r) => ({ ...r, ports: (JSON.parse(r.ports) as string[]).sort(byPort) }));

  // endpoint_owners keeps each program's first round with each remote end for good (migration
  // 008), so "first time ever" outlives the connection spans the cleanup removes. A remote end
  // with port 0 is a peer a local listener accepted: talking out is a port above 0.
  const talkers = db
    .prepare<typeof p, Owner & { pk: number; firstSeenAt: number }>(
      `SELECT o.process_id AS pk, pr.name AS process, pr.exe, pr.user, min(o.first_seen_at) AS firstSeenAt
       FROM endpoint_owners o JOIN remote_endpoints e ON e.id = o.endpoint_id JOIN processes pr ON pr.id = o.process_id
       WHERE e.port > 0
       GROUP BY o.process_id HAVING min(o.first_seen_at) >= @from AND min(o.first_seen_at) < @to
       ORDER BY firstSeenAt, pr.name`,
    )
    .all(p);
  const talkerEndpoints = db.prepare<{ pk: number; from: number; to: number }, { proto: 'tcp' | 'udp'; address: string; port: number; name: string | null }>(
    `SELECT e.proto, e.address, e.port, e.name FROM endpoint_owners o JOIN remote_endpoints e ON e.id = o.endpoint_id
     WHERE o.process_id = @pk AND e.port > 0 AND o.first_seen_at >= @from AND o.first_seen_at < @to
     ORDER BY o.first_seen_at, e.address, e.port`,
  );
  const newTalkers = talkers.map(({ pk, ...t }) => {
    const endpoints = talkerEndpoints.all({ pk, from, to }).map((e) => ({ ...e, address: plainAddress(e.address) }));
    return { ...t, endpoints: endpoints.slice(0, ENDPOINTS_PER_TALKER), moreEndpoints: Math.max(0, endpoints.length - ENDPOINTS_PER_TALKER) };
  });

  const newEndpoints = db.prepare<typeof p, number>('SELECT count(*) FROM remote_endpoints WHERE first_seen_at >= @from AND first_seen_at < @to').pluck().get(p)!;

  const busiestProcesses = busiestProcessesOf(db, p);
  const busiestEndpoints = db
    .prepare<typeof p, { proto: string; address: string; port: number | null; name: string | null; bytesOut: number; bytesIn: number; processes: string }>(
      `SELECT f.proto, f.remote_addr AS address, f.remote_port AS port,
              (SELECT e.name FROM remote_endpoints e WHERE e.address IN (f.remote_addr, '::ffff:' || f.remote_addr) AND e.name IS NOT NULL ORDER BY e.name_at DESC LIMIT 1) AS name,
              sum(CASE WHEN f.direction = 'outbound' THEN f.bytes ELSE 0 END) AS bytesOut,
              sum(CASE WHEN f.direction = 'inbound' THEN f.bytes ELSE 0 END) AS bytesIn,
              json_group_array(DISTINCT pr.name) FILTER (WHERE pr.name IS NOT NULL) AS processes
       FROM flows f LEFT JOIN processes pr ON pr.id = f.process_id
       WHERE f.first_ts >= @from AND f.first_ts < @to AND f.direction IN ('outbound', 'inbound')
       GROUP BY f.proto, f.remote_addr, f.remote_port
       ORDER BY bytesOut + bytesIn DESC, f.remote_addr, f.remote_port LIMIT ${TOP}`,
    )
    .all(p)
    .map((r) => ({ ...r, processes: (JSON.parse(r.processes) as string[]).sort() }));

  const hours = hoursOf(db, p);
  const capture = captureOf(db, p);
  const model = modelOf(db, p, o.roundsNeeded);
  const cleanups = lastCleanupsBetween(db, from, to).map((c) => ({
    at: c.startedAt,
    status: c.status,
    removed: { ...c.removed, reportFiles: c.reportFiles },
    bytesBefore: c.bytesBefore,
    bytesAfter: c.bytesAfter,
  }));

  return {
    day: period.day,
    from,
    to,
    builtAt: o.now,
    host: o.host ?? os.hostname(),
    version: PORTENT_VERSION,
    summary: { incidents: incidents.length, newListeners: newPorts.length, newTalkers: newTalkers.length },
    incidents,
    newPorts,
    newListeningProcesses,
    newTalkers,
    newEndpoints,
    busiestProcesses,
    busiestEndpoints,
    hours,
    capture,
    model,
    database: { bytes: databaseFileBytes(o.dbPath), cleanups },
  };
}

function byPort(a: string, b: string): number {
  const [pa, na] = a.split('/');
  const [pb, nb] = b.split('/');
  return pa === pb ? Number(na) - Number(nb) : pa! < pb! ? -1 : 1;
}

interface Range {
  from: number;
  to: number;
  lo: number;
  hi: number;
}

/**
 * Per program: the bytes capture counted each way and the remote ends it held connections to.
 * Loopback traffic counts as sent by its local end. Busiest by bytes, then by remote ends.
 */
function busiestProcessesOf(db: Db, p: Range): DailyReport['busiestProcesses'] {
  const rows = db
    .prepare<Range, Owner & { bytesOut: number; bytesIn: number; endpoints: number }>(
      `WITH traffic AS (
         SELECT coalesce(f.process_id, 0) AS pk,
                sum(CASE WHEN f.direction IN ('outbound', 'local') THEN f.bytes ELSE 0 END) AS bytesOut,
                sum(CASE WHEN f.direction = 'inbound' THEN f.bytes ELSE 0 END) AS bytesIn
         FROM flows f WHERE f.first_ts >= @from AND f.first_ts < @to AND f.direction <> 'transit'
         GROUP BY coalesce(f.process_id, 0)),
       talk AS (
         SELECT coalesce(cs.process_id, 0) AS pk, count(DISTINCT cs.endpoint_id) AS endpoints
         FROM connection_spans cs WHERE cs.last_round_id >= @lo AND cs.first_round_id <= @hi
         GROUP BY coalesce(cs.process_id, 0)),
       owners AS (SELECT pk FROM traffic UNION SELECT pk FROM talk)
       SELECT pr.name AS process, pr.exe, pr.user, coalesce(t.bytesOut, 0) AS bytesOut, coalesce(t.bytesIn, 0) AS bytesIn, coalesce(k.endpoints, 0) AS endpoints
       FROM owners o LEFT JOIN traffic t ON t.pk = o.pk LEFT JOIN talk k ON k.pk = o.pk LEFT JOIN processes pr ON pr.id = o.pk
       ORDER BY bytesOut + bytesIn DESC, endpoints DESC, pr.name IS NULL, pr.name LIMIT ${TOP}`,
    )
    .all(p);
  return rows;
}

function hoursOf(db: Db, p: Range): DailyReport['hours'] {
  const n = Math.max(1, Math.ceil((p.to - p.from) / HOUR_MS));
  const hours = Array.from({ length: n }, (_, i) => ({ at: p.from + i * HOUR_MS, rounds: 0, bytes: 0, incidents: 0 }));
  const bucket = (at: number) => hours[Math.min(n - 1, Math.floor((at - p.from) / HOUR_MS))]!;
  for (const r of db.prepare<Range, { b: number; n: number }>(`SELECT (started_at - @from) / ${HOUR_MS} AS b, count(*) AS n FROM rounds WHERE started_at >= @from AND started_at < @to AND status = 'ok' GROUP BY b`).all(p)) {
    bucket(p.from + r.b * HOUR_MS).rounds += r.n;
  }
  for (const r of db.prepare<Range, { b: number; n: number }>(`SELECT (first_ts - @from) / ${HOUR_MS} AS b, sum(bytes) AS n FROM flows WHERE first_ts >= @from AND first_ts < @to AND direction <> 'transit' GROUP BY b`).all(p)) {
    bucket(p.from + r.b * HOUR_MS).bytes += r.n;
  }
  for (const r of db.prepare<Range, { at: number }>('SELECT started_at AS at FROM incidents WHERE started_at >= @from AND started_at < @to').all(p)) {
    bucket(r.at).incidents += 1;
  }
  return hours;
}

function captureOf(db: Db, p: Range): DailyReport['capture'] {
  const rounds = db
    .prepare<Range, { rounds: number; captured: number; packets: number; drops: number | null }>(
      `SELECT count(*) AS rounds, coalesce(sum(c.state = 'on'), 0) AS captured, coalesce(sum(c.packets_seen), 0) AS packets, sum(c.kernel_drops) AS drops
       FROM rounds r LEFT JOIN round_capture c ON c.round_id = r.id
       WHERE r.started_at >= @from AND r.started_at < @to AND r.status = 'ok'`,
    )
    .get(p)!;
  const offReasons = db
    .prepare<Range, { message: string; rounds: number }>(
      `SELECT coalesce(c.message, CASE WHEN c.state IS NULL THEN 'packet capture was not running' ELSE 'packet capture was ' || c.state END) AS message, count(*) AS rounds
       FROM rounds r LEFT JOIN round_capture c ON c.round_id = r.id
       WHERE r.started_at >= @from AND r.started_at < @to AND r.status = 'ok' AND (c.state IS NULL OR c.state <> 'on')
       GROUP BY 1 ORDER BY rounds DESC, message`,
    )
    .all(p);
  const gaps = recordingGaps(db, p.from, p.to);
  return {
    rounds: rounds.rounds,
    roundsCaptured: rounds.captured,
    monitorOffMs: gaps.reduce((sum, g) => sum + (g.to - g.from), 0),
    gaps,
    captureOffMs: (rounds.rounds - rounds.captured) * ROUND_MS,
    offReasons,
    packetsSeen: rounds.packets,
    kernelDrops: rounds.drops,
  };
}

/** The model as it stood at the period's end, and what detection did during it. */
function modelOf(db: Db, p: Range, roundsNeeded: number): DailyReport['model'] {
  const model = db
    .prepare<Range, { version: number; backend: string; threshold: number | null; roundsSeen: number }>(
      'SELECT version, backend, threshold, rounds_seen AS roundsSeen FROM models WHERE created_at < @to ORDER BY version DESC LIMIT 1',
    )
    .get(p);
  const runs = db
    .prepare<Range, { refits: number; detections: number; failed: number }>(
      `SELECT (SELECT count(*) FROM models WHERE created_at >= @from AND created_at < @to) AS refits,
              count(*) AS detections, coalesce(sum(status = 'failed'), 0) AS failed
       FROM detection_runs WHERE started_at >= @from AND started_at < @to`,
    )
    .get(p)!;
  const learning = !model || model.threshold === null || model.roundsSeen < roundsNeeded;
  return {
    state: !model ? 'none' : learning ? 'learning' : 'ready',
    backend: model?.backend ?? null,
    version: model?.version ?? null,
    threshold: learning ? null : (model?.threshold ?? null),
    roundsSeen: model?.roundsSeen ?? 0,
    roundsNeeded,
    refits: runs.refits,
    detections: runs.detections,
    failedDetections: runs.failed,
  };
}
