import type { Db } from '../../../../src/main/engine/store/database';
import { RoundStore } from '../../../../src/main/engine/store/rounds';
import { DetectionStore, type IncidentPortRow } from '../../../../src/main/engine/store/detectionStore';
import type { SocketEntry } from '../../../../src/main/engine/collect/sockets/types';

export const MINUTE = 60_000;
export const T0 = Date.UTC(2025, 2, 1);

/** A listener as the scanner reports it. */
export function socket(proto: 'tcp' | 'udp', port: number, process: string | null, pid: number | null = 100, family: 4 | 6 = 4): SocketEntry {
  return { proto, family, address: family === 4 ? '0.0.0.0' : '::', port, pid, process, exe: process && `/usr/bin/${process}`, user: process && 'root' };
}

/** Writes one successful round per time through the real RoundStore; returns their ids. */
export function seedRounds(db: Db, times: readonly number[], socketsAt: (i: number) => SocketEntry[]): number[] {
  const store = new RoundStore(db);
  return times.map((at, i) => store.record({ host: 'test', startedAt: at, endedAt: at + 20, outcome: { sockets: socketsAt(i), connections: [] } }));
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
