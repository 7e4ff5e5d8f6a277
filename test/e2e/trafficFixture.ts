import os from 'node:os';
import type { SocketEntry } from '../../src/main/engine/collect/sockets/types';
import { openDatabase } from '../../src/main/engine/store/database';
import { DetectionStore } from '../../src/main/engine/store/detectionStore';
import { RoundStore } from '../../src/main/engine/store/rounds';
import { TrafficStore, type IncidentEndpointRow } from '../../src/main/engine/store/trafficStore';
import { scaleFeature, TRAFFIC_SCALES } from '../../src/shared/trafficScale';

/**
 * A database written through the engine's stores, for the window's end-to-end tests: an hour of
 * one-minute rounds in which nc and python3 run, then three incidents: a port incident
 * (8080/tcp), a beacon of nc to a host no program here ever talked to (the traffic model's
 * alone), and python3 opening 8000/tcp while it sends 52 MB to a new host (both stories).
 */
export const MIN = 60_000;

function socket(port: number, process: string, pid: number): SocketEntry {
  return { proto: 'tcp', family: 4, address: '0.0.0.0', port, pid, process, exe: `/usr/bin/${process}`, user: 'portent-test' };
}

function endpoint(over: Partial<IncidentEndpointRow>): IncidentEndpointRow {
  return {
    proto: 'tcp', address: '203.0.113.7', port: 4444, direction: 'out', name: null, newForProcess: false, newAnywhere: false,
    firstSeenAt: null, heldSince: null, opened: 1, bytesOut: 0, bytesIn: 0, periodMs: null, ...over,
  };
}

export interface Seeded {
  port: number;
  beacon: number;
  both: number;
  beaconAt: number;
}

export function seed(file: string, end: number): Seeded {
  const db = openDatabase(file);
  const rounds = new RoundStore(db);
  const first = end - 70 * MIN;
  const ids: number[] = [];
  for (let i = 0; i < 60; i++) {
    const sockets = [socket(22, 'sshd', 800), socket(4445, 'nc', 4242), socket(5000, 'python3', 5151)];
    if (i >= 20) sockets.push(socket(8080, 'node', 3131));
    if (i >= 45) sockets.push(socket(8000, 'python3', 5151));
    ids.push(rounds.record({ host: os.hostname(), startedAt: first + i * MIN, endedAt: first + i * MIN + 30, outcome: { sockets, connections: [] } }));
  }
  const at = (i: number) => first + i * MIN;
  const detection = new DetectionStore(db);
  detection.recordModel({ version: 1, createdAt: at(59), backend: 'wasm', threshold: 0.5, architecture: {}, history: {}, roundsTrained: 360, roundsSeen: 360 });
  const run = detection.startRun('schedule', at(59), 'wasm');
  detection.saveScores(run, 1, ids.map((roundId, k) => ({ roundId, score: k === 20 || k === 45 ? 0.9 : 0.2, threshold: 0.5, anomalous: k === 20 || k === 45 })));
  const portPart = (i: number, port: number, process: string, pid: number) => ({
    startRoundId: ids[i]!, endRoundId: ids[i]!, startedAt: at(i), endedAt: at(i), rounds: 1, peakScore: 0.9, threshold: 0.5,
    sentence: `Port ${port}/tcp started listening (${process}, pid ${pid}).`,
    ports: [{ proto: 'tcp' as const, port, direction: 'appeared' as const, share: 0.9, expected: 0.02, process, exe: `/usr/bin/${process}`, pid, firstSeenAt: at(i), usualProcess: null, usualExe: null }],
  });
  const port = detection.insertIncident(run, portPart(20, 8080, 'node', 3131));

  const traffic = new TrafficStore(db);
  const processId = (name: string) => db.prepare<[string], number>('SELECT id FROM processes WHERE name = ?').pluck().get(name)!;
  const beacon = traffic.insertIncident(run, {
    startRoundId: ids[30]!, endRoundId: ids[39]!, startedAt: at(30), endedAt: at(39), rounds: 10, peakScore: 14.2, threshold: 9,
    sentence: 'nc (pid 4242) opened connections to c2.example (203.0.113.7:4444), a host it never talked to before, every 60 s since 12:00.',
    processId: processId('nc'),
    trafficKind: 'beacon',
    endpoints: [
      endpoint({ name: 'c2.example', newForProcess: true, newAnywhere: true, heldSince: at(31), opened: 10, bytesOut: 4_800, bytesIn: 1_200, periodMs: 60_000 }),
      endpoint({ address: '198.51.100.20', port: 53, proto: 'udp', name: null, newForProcess: true, opened: 10, bytesOut: 900, bytesIn: 1_800, firstSeenAt: null }),
    ],
    features: [
      { feature: 'periodicity', share: 0.55, value: 0.93, expected: 0.04 },
      { feature: 'new_for_process_share', share: 0.25, value: 1, expected: 0.08 },
      { feature: 'usual_bytes_out', share: 0.12, value: 0, expected: 0.31 },
    ],
  });
  // nc's traffic windows of ten rounds, as the traffic model scored them: the beacon's (rounds 30..39) above the threshold.
  traffic.saveWindows(
    run,
    1,
    [0, 1, 2, 3, 4, 5].map((w) => ({
      firstRoundId: ids[w * 10]!, lastRoundId: ids[w * 10 + 9]!, startedAt: at(w * 10), endedAt: at(w * 10 + 9), processId: processId('nc'),
      score: w === 3 ? 14.2 : 2 + w / 2, threshold: 9, anomalous: w === 3, heldOut: false, features: new Float32Array(4),
    })),
  );
  const both = detection.insertIncident(run, portPart(45, 8000, 'python3', 5151));
  traffic.attachToPortIncident(both, {
    processId: processId('python3'),
    trafficKind: 'volume-out',
    endpoints: [endpoint({ address: '192.0.2.50', port: 8443, name: 'drop.example', newForProcess: true, opened: 3, bytesOut: 52_000_000, bytesIn: 4_000 })],
    features: [
      // On the model's scale, as the detector stores them: 52 MB sent where about 150 KB was expected.
      { feature: 'bytes_out', share: 0.61, value: scaleFeature(TRAFFIC_SCALES.bytes_out, 52_000_000), expected: scaleFeature(TRAFFIC_SCALES.bytes_out, 150_000) },
      { feature: 'dns_entropy_max', share: 0.18, value: 0.7, expected: 0.35 },
    ],
    sentence: 'Port 8000/tcp started listening (python3, pid 5151); python3 (pid 5151) sent 50 MB to drop.example (192.0.2.50:8443), far more than it usually sends.',
  });
  detection.finishRun(run, { endedAt: at(59) + 1000, status: 'ok', roundsScored: ids.length, incidents: 3, modelVersion: 1 });
  db.close();
  return { port, beacon, both, beaconAt: at(31) };
}

