/**
 * Portent's health and incidents in the Prometheus text format, for the systems fleets already
 * run. Read at each scrape from the engine's status and database (a few indexed counts), so
 * nothing is kept in memory between scrapes and a restart loses nothing: totals are counts of
 * rows that are never deleted (rounds, detection runs, incidents, capture state per round).
 *
 * Names follow Prometheus practice: the `portent_` prefix, base units (seconds, bytes, nats for
 * scores), `_total` for counters, and labels of a handful of values only (never one per incident,
 * port or process). Process metrics (resident memory, CPU seconds, ...) are prom-client's
 * standard ones.
 */
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import type { Status } from '../../shared/contract';
import type { Db } from './store/database';

export interface MetricsSource {
  db: Db;
  status(): Status;
  /** Per receiver of incident events: what it took, and rotated files of them lost unsent, since start. */
  forwardingStats?(): { receiver: string; sent: number; dropped: number }[];
}

export interface EngineMetrics {
  contentType: string;
  /** The exposition text, read now. */
  text(): Promise<string>;
}

/**
 * prom-client, loaded at the first scrape rather than at every start: most monitors serve no
 * metrics, and loading it costs a resident process a few MB. It is a CommonJS package, so a
 * require is how Node loads it anyway, and keeps createMetrics synchronous.
 */
export function promClient(): typeof PromClient {
  return createRequire(import.meta.url)('prom-client') as typeof PromClient;
}

const seconds = (ms: number | null | undefined): number | null => (ms === null || ms === undefined ? null : ms / 1000);

export function createMetrics(source: MetricsSource): EngineMetrics {
  const { collectDefaultMetrics, Counter, Gauge, Registry } = promClient();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const { db } = source;
  const statements = {
    rounds: db.prepare<[], { status: string; n: number }>("SELECT status, count(*) AS n FROM rounds WHERE status <> 'running' GROUP BY status"),
    lastOk: db.prepare<[], { started_at: number; duration_ms: number | null }>("SELECT started_at, duration_ms FROM rounds WHERE status = 'ok' ORDER BY id DESC LIMIT 1"),
    capture: db.prepare<[], { seen: number | null; drops: number | null }>('SELECT sum(packets_seen) AS seen, sum(kernel_drops) AS drops FROM round_capture'),
    runs: db.prepare<[], { scope: string; status: string; n: number }>("SELECT scope, status, count(*) AS n FROM detection_runs WHERE status <> 'running' GROUP BY scope, status"),
    lastRun: db.prepare<[], { started_at: number; ended_at: number }>(
      "SELECT started_at, ended_at FROM detection_runs WHERE scope = 'full' AND status = 'ok' AND ended_at IS NOT NULL ORDER BY id DESC LIMIT 1",
    ),
    lastScore: db.prepare<[], number>('SELECT score FROM round_scores ORDER BY round_id DESC LIMIT 1').pluck(),
    incidentsByStatus: db.prepare<[], { status: string; n: number }>('SELECT status, count(*) AS n FROM incidents GROUP BY status'),
    // An incident's kind is its first-ranked port's change.
    // (A traffic incident, which has no port, by its traffic kind: beacon, scan, ...)
    incidentsByKind: db.prepare<[], { change: string | null; n: number }>(
      `SELECT coalesce((SELECT direction FROM incident_ports p WHERE p.incident_id = i.id ORDER BY rank LIMIT 1), i.traffic_kind) AS change, count(*) AS n
       FROM incidents i GROUP BY change`,
    ),
  };

  let status: Status | null = null;
  /** One status per scrape, read by the first collector that needs it. */
  const current = (): Status => (status ??= source.status());
  /** Rows read by two collectors (the last round, the capture totals): once per scrape. */
  let lastOk: { started_at: number; duration_ms: number | null } | undefined | null = null;
  let captureTotals: { seen: number | null; drops: number | null } | undefined | null = null;
  const lastOkRound = () => (lastOk === null ? (lastOk = statements.lastOk.get()) : lastOk);
  const capture = () => (captureTotals === null ? (captureTotals = statements.capture.get()) : captureTotals);
  const setOrReset = (g: PromClient.Gauge, value: number | null, labels?: Record<string, string>): void => {
    if (value === null) {
      if (labels) g.remove(labels);
      else g.reset();
    } else if (labels) g.set(labels, value);
    else g.set(value);
  };
  /** A counter whose value is a count read from the database: set to it at each scrape. */
  const countFrom = (c: PromClient.Counter, rows: { labels: Record<string, string>; n: number }[]): void => {
    c.reset();
    for (const r of rows) c.inc(r.labels, r.n);
  };

  new Gauge({
    name: 'portent_info',
    help: 'Always 1; the version of Portent as a label',
    labelNames: ['version'],
    registers: [registry],
    collect() {
      this.reset();
      this.set({ version: current().version }, 1);
    },
  });
  new Gauge({ name: 'portent_paused', help: '1 while monitoring is paused by the user', registers: [registry], collect() { this.set(current().paused ? 1 : 0); } });
  new Counter({
    name: 'portent_rounds_total',
    help: 'Port-occupancy rounds recorded, by outcome (ok, failed)',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      countFrom(this, statements.rounds.all().map((r) => ({ labels: { status: r.status }, n: r.n })));
    },
  });
  new Gauge({
    name: 'portent_recording',
    help: '1 while rounds are stored, 0 while a fault (full disk, database locked elsewhere, clock set back) skips them',
    registers: [registry],
    collect() {
      const r = current().recording;
      setOrReset(this, r ? (r.state === 'recording' ? 1 : 0) : null);
    },
  });
  new Counter({
    name: 'portent_rounds_skipped_total',
    help: 'Rounds skipped for a fault (full disk, database locked elsewhere, clock set back) since the monitor started',
    registers: [registry],
    collect() {
      countFrom(this, [{ labels: {}, n: current().recording?.skippedTotal ?? 0 }]);
    },
  });
  new Gauge({
    name: 'portent_last_round_timestamp_seconds',
    help: 'Start of the last successful round, Unix time',
    registers: [registry],
    collect() {
      setOrReset(this, seconds(lastOkRound()?.started_at));
    },
  });
  new Gauge({
    name: 'portent_round_duration_seconds',
    help: 'How long the last successful round took (scan and store)',
    registers: [registry],
    collect() {
      setOrReset(this, seconds(lastOkRound()?.duration_ms));
    },
  });
  new Gauge({
    name: 'portent_listening_sockets',
    help: 'Listening and bound sockets in the last round',
    registers: [registry],
    collect() {
      setOrReset(this, current().lastRound?.ports ?? null);
    },
  });
  new Gauge({
    name: 'portent_capture_up',
    help: '1 while packet capture runs, 0 while it is off or failing',
    registers: [registry],
    collect() {
      this.set(current().capture.state === 'on' ? 1 : 0);
    },
  });
  new Counter({
    name: 'portent_capture_restarts_total',
    help: 'Times the capture process was started again after it died, since the monitor started',
    registers: [registry],
    collect() {
      countFrom(this, [{ labels: {}, n: current().capture.restarts ?? 0 }]);
    },
  });
  new Counter({
    name: 'portent_capture_packets_total',
    help: 'Packets packet capture saw',
    registers: [registry],
    collect() {
      countFrom(this, [{ labels: {}, n: capture()?.seen ?? 0 }]);
    },
  });
  new Counter({
    name: 'portent_capture_kernel_drops_total',
    help: 'Packets the kernel dropped before capture could read them',
    registers: [registry],
    collect() {
      countFrom(this, [{ labels: {}, n: capture()?.drops ?? 0 }]);
    },
  });
  new Counter({
    name: 'portent_detection_runs_total',
    help: 'Detection runs ended, by scope (full: score and refit; score: scoring after a changed round) and outcome',
    labelNames: ['scope', 'status'],
    registers: [registry],
    collect() {
      countFrom(this, statements.runs.all().map((r) => ({ labels: { scope: r.scope, status: r.status }, n: r.n })));
    },
  });
  new Gauge({
    name: 'portent_detection_running',
    help: '1 while a detection runs',
    registers: [registry],
    collect() {
      this.set(current().detection.running ? 1 : 0);
    },
  });
  new Gauge({
    name: 'portent_detection_last_success_timestamp_seconds',
    help: 'End of the last successful full detection, Unix time',
    registers: [registry],
    collect() {
      setOrReset(this, seconds(statements.lastRun.get()?.ended_at));
    },
  });
  new Gauge({
    name: 'portent_detection_duration_seconds',
    help: 'How long the last successful full detection took',
    registers: [registry],
    collect() {
      const r = statements.lastRun.get();
      setOrReset(this, r ? (r.ended_at - r.started_at) / 1000 : null);
    },
  });
  new Gauge({
    name: 'portent_model_ready',
    help: '1 once the model has learned for its learning period and alerts',
    registers: [registry],
    collect() {
      this.set(current().model.state === 'ready' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'portent_learning_progress_ratio',
    help: 'Share of the learning period the model has covered (1: done)',
    registers: [registry],
    collect() {
      this.set(current().model.progress);
    },
  });
  new Gauge({
    name: 'portent_model_threshold_nats',
    help: 'Score above which a round is anomalous, in nats',
    registers: [registry],
    collect() {
      setOrReset(this, current().model.threshold);
    },
  });
  new Gauge({
    name: 'portent_model_last_score_nats',
    help: 'Score of the last round scored, in nats',
    registers: [registry],
    collect() {
      setOrReset(this, statements.lastScore.get() ?? null);
    },
  });
  new Counter({
    name: 'portent_incidents_opened_total',
    help: 'Incidents opened, by the kind of change that explains them (appeared, vanished, unusual-hour, new-owner; for traffic: new-destination, beacon, volume-out, scan, dns-tunnel, unusual-traffic)',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      countFrom(this, statements.incidentsByKind.all().map((r) => ({ labels: { kind: r.change ?? 'unknown' }, n: r.n })));
    },
  });
  new Gauge({
    name: 'portent_incidents',
    help: 'Incidents by the status the user gave them (new, seen, expected, dismissed)',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of ['new', 'seen', 'expected', 'dismissed']) this.set({ status: s }, 0);
      for (const r of statements.incidentsByStatus.all()) this.set({ status: r.status }, r.n);
    },
  });
  new Gauge({
    name: 'portent_incidents_unseen',
    help: 'Incidents nobody has looked at yet',
    registers: [registry],
    collect() {
      this.set(current().incidents.unseen);
    },
  });
  new Counter({
    name: 'portent_forwarded_events_total',
    help: 'Incident events a receiver (syslog, otlp) took, since the monitor started',
    labelNames: ['receiver'],
    registers: [registry],
    collect() {
      countFrom(this, (source.forwardingStats?.() ?? []).map((f) => ({ labels: { receiver: f.receiver }, n: f.sent })));
    },
  });
  new Counter({
    name: 'portent_forward_dropped_files_total',
    help: 'Rotated incident log files whose events a receiver never took, since the monitor started',
    labelNames: ['receiver'],
    registers: [registry],
    collect() {
      countFrom(this, (source.forwardingStats?.() ?? []).map((f) => ({ labels: { receiver: f.receiver }, n: f.dropped })));
    },
  });
  new Gauge({
    name: 'portent_database_bytes',
    help: 'Size of the database file and its write-ahead log',
    registers: [registry],
    collect() {
      this.set(current().databaseBytes);
    },
  });

  return {
    contentType: registry.contentType,
    async text() {
      status = lastOk = captureTotals = null;
      try {
        return await registry.metrics();
      } finally {
        status = lastOk = captureTotals = null;
      }
    },
  };
}
