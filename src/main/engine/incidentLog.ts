/**
 * Every incident event as one JSON line, in a rotating file that log shippers (Vector, Fluent
 * Bit, Filebeat, rsyslog's imfile) tail: `logs/incidents.jsonl` beside the database. Field names
 * follow the Elastic Common Schema where it has one (`@timestamp`, `event.*`, `host.name`,
 * `process.*`, `destination.port`, `network.transport`, `observer.*`), so the lines land in
 * Elasticsearch, OpenSearch or Loki without a mapping of their own; what ECS has no field for
 * is under `portent.incident`. docs/fleet.md lists every field. The fields are stable: a change
 * comes as a new `portent.schema` version.
 *
 * Events: `incident-opened` (a detection opened it), `incident-extended` (a later round of the
 * same cause; `portent.incident.grew` when a new listener joined it), `incident-resolved` (a
 * detection scored rounds past it and it did not continue), `incident-marked` (the user set its
 * status).
 */
import os from 'node:os';
import path from 'node:path';
import { PORTENT_VERSION } from '../../shared/version';
import { RotatingFile } from './logFile';
import type { IncidentRow } from './store/detectionStore';

export const INCIDENT_LOG_SCHEMA = 1;
export type IncidentAction = 'incident-opened' | 'incident-extended' | 'incident-resolved' | 'incident-marked';

const EVENT_TYPE: Record<IncidentAction, string[]> = {
  'incident-opened': ['start'],
  'incident-extended': ['change'],
  'incident-resolved': ['end'],
  'incident-marked': ['change'],
};

/** The file of the database at `dbPath`. */
export function incidentLogFileOf(dbPath: string): string {
  return path.join(path.dirname(dbPath), 'logs', 'incidents.jsonl');
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** One incident event as its JSON line's object. */
export function incidentEvent(action: IncidentAction, incident: IncidentRow, at: number, host: string, extra: { grew?: boolean } = {}): Record<string, unknown> {
  const first = incident.ports[0];
  return {
    '@timestamp': iso(at),
    message: incident.sentence,
    ecs: { version: '8.11.0' },
    event: {
      kind: 'alert',
      category: ['network', 'intrusion_detection'],
      type: EVENT_TYPE[action],
      action,
      dataset: 'portent.incident',
      module: 'portent',
      start: iso(incident.startedAt),
      end: iso(incident.endedAt),
      // How far past the threshold the incident's worst round went (nats).
      risk_score: Math.round(incident.peakScore * 1000) / 1000,
    },
    host: { name: host },
    observer: { vendor: 'Portent', product: 'Portent', type: 'host-monitor', version: PORTENT_VERSION },
    ...(first
      ? {
          network: { transport: first.proto },
          destination: { port: first.port },
          ...(first.pid !== null || first.process !== null || first.exe !== null
            ? { process: { ...(first.pid !== null ? { pid: first.pid } : {}), ...(first.process !== null ? { name: first.process } : {}), ...(first.exe !== null ? { executable: first.exe } : {}) } }
            : {}),
          rule: { name: first.direction },
        }
      : {}),
    portent: {
      schema: INCIDENT_LOG_SCHEMA,
      incident: {
        id: incident.id,
        status: incident.status,
        rounds: incident.rounds,
        peak_score: incident.peakScore,
        threshold: incident.threshold,
        ...(extra.grew ? { grew: true } : {}),
        ports: incident.ports.map((p) => ({
          proto: p.proto,
          port: p.port,
          change: p.direction,
          share: Math.round(p.share * 1000) / 1000,
          pid: p.pid,
          process: p.process,
          executable: p.exe,
          ...(p.direction === 'new-owner' ? { usual_process: p.usualProcess, usual_executable: p.usualExe } : {}),
        })),
      },
    },
  };
}

/**
 * Writes the events and remembers which incidents are open, to say when one is resolved: an
 * incident a detection opened or extended is open until a later detection scores rounds and
 * does not extend it. (What was open when the monitor stopped is not resolved after a restart:
 * its last line is its last extension.)
 */
export class IncidentLog {
  private readonly file: RotatingFile;
  private open = new Map<number, IncidentRow>();

  constructor(
    file: string,
    private readonly host: string = os.hostname(),
    private readonly now: () => number = Date.now,
  ) {
    this.file = new RotatingFile(file);
  }

  /** After a detection run: its opened and extended incidents, and those it did not continue. */
  detection(runId: number, incidents: readonly (IncidentRow & { grew?: boolean })[], roundsScored: number): void {
    const at = this.now();
    const seen = new Map<number, IncidentRow>();
    for (const i of incidents) {
      this.write(incidentEvent(i.runId === runId ? 'incident-opened' : 'incident-extended', i, at, this.host, { grew: i.grew === true }));
      seen.set(i.id, i);
    }
    if (roundsScored > 0) {
      for (const [id, i] of this.open) if (!seen.has(id)) this.write(incidentEvent('incident-resolved', i, at, this.host));
      this.open = seen;
    } else {
      for (const [id, i] of seen) this.open.set(id, i);
    }
  }

  /** The user set an incident's status. */
  marked(incident: IncidentRow): void {
    this.write(incidentEvent('incident-marked', incident, this.now(), this.host));
    if (this.open.has(incident.id)) this.open.set(incident.id, incident);
  }

  close(): void {
    this.file.close();
  }

  private write(event: Record<string, unknown>): void {
    this.file.write(JSON.stringify(event));
  }
}
