import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/main/engine/metrics';
import type { Status } from '../../../src/shared/contract';
import type { Db } from '../../../src/main/engine/store/database';
import { openTestDb } from '../../support/db';

let db: Db | undefined;
afterEach(() => db?.close());

const status = (over: Partial<Status> = {}): Status => ({
  version: '0.1.0',
  monitoring: true,
  paused: false,
  monitoringSince: 1000,
  database: '/x/portent.db',
  databaseBytes: 4096,
  lastRound: { id: 3, startedAt: 180_000, status: 'ok', error: null, ports: 7 },
  capture: { state: 'on', iface: 'eth0', message: null, remedy: [] },
  model: { state: 'ready', training: false, backend: 'cpu', version: 2, threshold: 6.5, roundsSeen: 400, roundsNeeded: 360, progress: 1 },
  detection: { running: false, lastRunAt: 200_000, lastRunStatus: 'ok' },
  unscoredRounds: 0,
  incidents: { today: 1, week: 2, unseen: 1 },
  snoozedUntil: null,
  ...over,
});

/** The samples of the exposition text, as "name{labels} value" lines without comments. */
function samples(text: string): string[] {
  return text.split('\n').filter((l) => l.startsWith('portent_'));
}

describe('createMetrics', () => {
  it("exposes the engine's health and incidents from its status and database, as counts and gauges", async () => {
    db = openTestDb().db;
    db.exec(`
      INSERT INTO rounds (id, started_at, ended_at, duration_ms, host, status) VALUES
        (1, 60000, 60012, 12, 'h', 'ok'), (2, 120000, 120020, 20, 'h', 'failed'), (3, 180000, 180015, 15, 'h', 'ok'), (4, 240000, NULL, NULL, 'h', 'running');
      INSERT INTO round_capture (round_id, iface, state, packets_seen, kernel_drops) VALUES (1, 'eth0', 'on', 500, 2), (3, 'eth0', 'on', 700, NULL);
      INSERT INTO detection_runs (id, trigger, scope, started_at, ended_at, status) VALUES
        (1, 'schedule', 'full', 100000, 104500, 'ok'), (2, 'schedule', 'score', 150000, 150300, 'ok'), (3, 'manual', 'full', 200000, 201000, 'failed');
      INSERT INTO round_scores (round_id, run_id, score, threshold, anomalous, model_version) VALUES (1, 1, 2.5, 6.5, 0, 1), (3, 1, 7.25, 6.5, 1, 1);
      INSERT INTO incidents (id, run_id, start_round_id, end_round_id, started_at, ended_at, rounds, peak_score, threshold, sentence, status) VALUES
        (1, 1, 3, 3, 180000, 180000, 1, 7.25, 6.5, 'a', 'new'), (2, 1, 1, 1, 60000, 60000, 1, 7, 6.5, 'b', 'expected');
      INSERT INTO incident_ports (incident_id, rank, proto, port, direction, share, expected) VALUES (1, 0, 'tcp', 4444, 'appeared', 1, 0), (2, 0, 'tcp', 22, 'vanished', 0.6, 1), (2, 1, 'tcp', 80, 'appeared', 0.4, 0);
    `);
    const metrics = createMetrics({ db, status: () => status() });
    const text = await metrics.text();
    expect(samples(text)).toEqual(
      expect.arrayContaining([
        'portent_info{version="0.1.0"} 1',
        'portent_paused 0',
        'portent_rounds_total{status="ok"} 2',
        'portent_rounds_total{status="failed"} 1',
        'portent_last_round_timestamp_seconds 180',
        'portent_round_duration_seconds 0.015',
        'portent_listening_sockets 7',
        'portent_capture_up 1',
        'portent_capture_packets_total 1200',
        'portent_capture_kernel_drops_total 2',
        'portent_detection_runs_total{scope="full",status="ok"} 1',
        'portent_detection_runs_total{scope="score",status="ok"} 1',
        'portent_detection_runs_total{scope="full",status="failed"} 1',
        'portent_detection_last_success_timestamp_seconds 104.5',
        'portent_detection_duration_seconds 4.5',
        'portent_model_ready 1',
        'portent_learning_progress_ratio 1',
        'portent_model_threshold_nats 6.5',
        'portent_model_last_score_nats 7.25',
        'portent_incidents_opened_total{kind="appeared"} 1',
        'portent_incidents_opened_total{kind="vanished"} 1',
        'portent_incidents{status="new"} 1',
        'portent_incidents{status="expected"} 1',
        'portent_incidents{status="dismissed"} 0',
        'portent_incidents_unseen 1',
        'portent_database_bytes 4096',
      ]),
    );
    // Counters are declared as such; the process's own metrics come too.
    expect(text).toContain('# TYPE portent_rounds_total counter');
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('reads afresh at each scrape, and one status per scrape', async () => {
    db = openTestDb().db;
    let reads = 0;
    let paused = false;
    const metrics = createMetrics({ db, status: () => (reads++, status({ paused })) });
    expect(samples(await metrics.text())).toContain('portent_paused 0');
    const perScrape = reads;
    expect(perScrape).toBe(1);
    paused = true;
    db.exec("INSERT INTO rounds (started_at, host, status) VALUES (1, 'h', 'ok')");
    const second = samples(await metrics.text());
    expect(second).toContain('portent_paused 1');
    expect(second).toContain('portent_rounds_total{status="ok"} 1');
    expect(reads).toBe(2);
  });
});
