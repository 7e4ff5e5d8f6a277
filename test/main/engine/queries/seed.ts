import type { Db } from '../../../../src/main/engine/store/database';
import { RoundStore } from '../../../../src/main/engine/store/rounds';
import { RoundCompactor } from '../../../../src/main/engine/store/compaction';
import { DetectionStore, type IncidentPortRow } from '../../../../src/main/engine/store/detectionStore';
import type { SocketEntry } from '../../../../src/main/engine/collect/sockets/types';
import { TrafficStore, type IncidentEndpointRow, type IncidentFeatureRow, type TrafficKind } from '../../../../src/main/engine/store/trafficStore';

export const MINUTE = 60_000;
export const T0 = Date.UTC(2025, 2, 1);

/** A listener as the scanner reports it. */
export function socket(proto: 'tcp' | 'udp', port: number, process: string | null, pid: number | null = 100, family: 4 | 6 = 4): SocketEntry {
  return { proto, family, address: family === 4 ? '0.0.0.0' : '::', port, pid, process, exe: process && `/usr/bin/${process}`, user: process && 'root' };
}

/**
 * How seeded history is stored: 'rows' as the newest hour is (rounds_ports), 'runs' as older
 * history is (rounds_ports_runs, migration 012). Query tests run under both.
 */
export type HistoryForm = 'rows' | 'runs';
export const HISTORY_FORMS: readonly HistoryForm[] = ['rows', 'runs'];

/**
 * Writes one successful round per time through the real RoundStore; returns their ids. With
 * `form` 'runs', every round written is then compacted, as it will be once an hour old.
 */
export function seedRounds(db: Db, times: readonly number[], socketsAt: (i: number) => SocketEntry[], form: HistoryForm = 'rows'): number[] {
  const store = new RoundStore(db);
  const ids = times.map((at, i) => store.record({ host: 'test', startedAt: at, endedAt: at + 20, outcome: { sockets: socketsAt(i), connections: [] } }));
  if (form === 'runs' && ids.length > 0) new RoundCompactor(db).compactUpTo(Math.max(...ids));
  return ids;
}

export function minutes(count: number, start = T0): number[] {
  return Array.from({ length: count }, (_, i) => start + i * MINUTE);
}

/** Scores rounds through the real DetectionStore in one finished run; `anomalous` picks rounds. */
export function seedScores(db: Db, roundIds: readonly number[], score: (i: number) => number, threshold: number | null = 0.5): number {
  const store = new DetectionStore(db);
  const run = store.startRun('schedule', T0, 'cpu');
  store.saveScores(
    run,
    1,
    roundIds.map((roundId, i) => ({ roundId, score: score(i), threshold, anomalous: threshold !== null && score(i) > threshold })),
  );
  store.finishRun(run, { endedAt: T0 + 1, status: 'ok', roundsScored: roundIds.length, incidents: 0, modelVersion: 1 });
  return run;
}

export function incidentPort(port: number, process: string | null = 'nc'): IncidentPortRow {
  return { proto: 'tcp', port, direction: 'appeared', share: 0.8, expected: 0.01, process, exe: null, pid: 4242, firstSeenAt: T0, usualProcess: null, usualExe: null };
}

/** EXPLAIN QUERY PLAN's details joined, to assert which indexes a query uses. */
export function planOf(db: Db, sql: string, params: unknown = {}): string {
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params as never) as { detail: string }[]).map((p) => p.detail).join('; ');
}

/** A remote end as the traffic model stores it; `over` changes what a test cares about. */
export function endpoint(over: Partial<IncidentEndpointRow> = {}): IncidentEndpointRow {
  return {
    proto: 'tcp', address: '203.0.113.7', port: 4444, direction: 'out', name: 'c2.example', newForProcess: true, newAnywhere: true,
    firstSeenAt: null, heldSince: T0 + 50 * MINUTE, opened: 12, bytesOut: 48_000, bytesIn: 1_200, periodMs: 60_000, ...over,
  };
}

/** The features of a beacon, largest share first as the detector stores them. */
export const BEACON_FEATURES: IncidentFeatureRow[] = [
  { feature: 'periodicity', share: 0.55, value: 0.93, expected: 0.04 },
  { feature: 'new_for_process_share', share: 0.25, value: 1, expected: 0.1 },
  { feature: 'usual_bytes_out', share: 0.12, value: 0, expected: 0.3 },
];

/**
 * A traffic incident of `processName`'s identity written through the real TrafficStore, over
 * rounds [startIndex, endIndex] of `ids` (one minute apart from T0).
 */
export function seedTrafficIncident(
  db: Db,
  run: number,
  ids: readonly number[],
  o: { startIndex: number; endIndex: number; processName: string | null; trafficKind?: TrafficKind; endpoints?: IncidentEndpointRow[]; features?: IncidentFeatureRow[]; sentence?: string },
): number {
  const processId = o.processName === null ? null : (db.prepare<[string], number>('SELECT id FROM processes WHERE name = ?').pluck().get(o.processName) ?? null);
  if (o.processName !== null && processId === null) throw new Error(`no process ${o.processName} in the seeded rounds`);
  return new TrafficStore(db).insertIncident(run, {
    startRoundId: ids[o.startIndex]!,
    endRoundId: ids[o.endIndex]!,
    startedAt: T0 + o.startIndex * MINUTE,
    endedAt: T0 + o.endIndex * MINUTE,
    rounds: o.endIndex - o.startIndex + 1,
    peakScore: 14.2,
    threshold: 9,
    sentence: o.sentence ?? `${o.processName ?? 'Traffic no program owns'} opened connections to c2.example (203.0.113.7:4444) every 60 s.`,
    processId,
    trafficKind: o.trafficKind ?? 'beacon',
    endpoints: o.endpoints ?? [endpoint()],
    features: o.features ?? BEACON_FEATURES,
  });
}
