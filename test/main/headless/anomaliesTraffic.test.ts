import { describe, expect, it } from 'vitest';
import { DetectionStore } from '../../../src/main/engine/store/detectionStore';
import { TrafficStore } from '../../../src/main/engine/store/trafficStore';
import { runCli } from '../../support/cli';
import { openTestDb } from '../../support/db';
import { BEACON_FEATURES, endpoint, incidentPort, MINUTE, minutes, seedRounds, seedScores, seedTrafficIncident, socket, T0 } from '../engine/queries/seed';

/**
 * `portent anomalies` through the real CLI on a database written by the real stores: a port
 * incident, a beacon of nc with seven remote ends (more than the text prints), and a port
 * incident of python3 its traffic joined ('both').
 */
function seeded(): { file: string; port: number; beacon: number; both: number } {
  const { db, file } = openTestDb();
  const ids = seedRounds(db, minutes(100), () => [socket('tcp', 22, 'sshd'), socket('tcp', 8000, 'python3', 5151), socket('tcp', 4444, 'nc', 4242)]);
  const run = seedScores(db, ids, () => 0.1);
  const detection = new DetectionStore(db);
  const portIncident = (start: number, port: number, process: string) =>
    detection.insertIncident(run, {
      startRoundId: ids[start]!, endRoundId: ids[start]!, startedAt: T0 + start * MINUTE, endedAt: T0 + start * MINUTE, rounds: 1, peakScore: 0.9, threshold: 0.5,
      sentence: `Port ${port}/tcp started listening.`, ports: [incidentPort(port, process)],
    });
  const port = portIncident(10, 4444, 'nc');
  const others = Array.from({ length: 6 }, (_, k) => endpoint({ address: `198.51.100.${k + 1}`, port: 443, name: null, newForProcess: false, newAnywhere: false, heldSince: null, periodMs: null, bytesOut: 100, bytesIn: 2000 }));
  const beacon = seedTrafficIncident(db, run, ids, { startIndex: 50, endIndex: 59, processName: 'nc', endpoints: [endpoint(), ...others] });
  const both = portIncident(70, 8000, 'python3');
  const python = db.prepare<[], number>("SELECT id FROM processes WHERE name = 'python3'").pluck().get()!;
  new TrafficStore(db).attachToPortIncident(both, {
    processId: python,
    trafficKind: 'volume-out',
    endpoints: [endpoint({ address: '192.0.2.50', port: 8443, name: 'drop.example', periodMs: null, heldSince: null, bytesOut: 52_000_000, bytesIn: 4_000 })],
    features: [
      { feature: 'bytes_out', share: 0.61, value: 0.97, expected: 0.12 },
      { feature: 'out_share', share: 0.2, value: 0.99, expected: 0.4 },
    ],
    sentence: 'Port 8000/tcp started listening; python3 (pid 5151) sent 50 MB to drop.example (192.0.2.50:8443), far more than it usually sends.',
  });
  db.close();
  return { file, port, beacon, both };
}

describe('portent anomalies with traffic incidents', () => {
  it('prints the remote ends (a few) and the top features of traffic incidents, beside the ports of the others', () => {
    const { file } = seeded();
    const r = runCli(['anomalies', '--db', file]);
    expect(r.status, r.stderr).toBe(0);
    const blocks = r.stdout.split(/\n(?=#\d+ )/);
    expect(blocks).toHaveLength(3);
    const [both, beacon, port] = blocks as [string, string, string];

    expect(beacon).toContain('  traffic: beacon, nc /usr/bin/nc user root');
    expect(beacon).toContain('    c2.example 203.0.113.7:4444/tcp: out, new for every program, 12 opened, 47 KB out / 1.2 KB in, every 60 s, held since ');
    expect(beacon).toContain('    198.51.100.4:443/tcp: out, 12 opened, 100 B out / 2 KB in');
    expect(beacon).not.toContain('198.51.100.5');
    expect(beacon).toContain('    and 2 more remote ends (--json lists them)');
    expect(beacon).toContain('    periodicity 55% of the explanation, 0.93 seen, 0.04 expected');
    expect(beacon).toContain('    usual_bytes_out 12% of the explanation, 0 B seen, 1.9 KB expected');
    // Features follow the remote ends, largest share first.
    expect(beacon.indexOf('periodicity')).toBeLessThan(beacon.indexOf('new_for_process_share'));
    expect(beacon.indexOf('198.51.100.4')).toBeLessThan(beacon.indexOf('periodicity'));

    expect(both).toContain('    8000/tcp appeared, 80% of the error, python3 (pid 4242)');
    expect(both).toContain('  traffic: volume-out (with the ports above), python3 /usr/bin/python3 user root');
    expect(both).toContain('    drop.example 192.0.2.50:8443/tcp: out, new for every program, 12 opened, 50 MB out / 3.9 KB in');
    // Read back in units from the model's scale; bytes as the CLI writes them everywhere (powers of 1024).
    expect(both).toContain('    bytes_out 61% of the explanation, 44 GB seen, 20 B expected');

    expect(port).toContain('    4444/tcp appeared, 80% of the error, nc (pid 4242)');
    expect(port).not.toContain('traffic:');
  });

  it('gives every remote end and feature in --json, and the old fields as they were', () => {
    const { file, port, beacon, both } = seeded();
    const r = runCli(['anomalies', '--json', '--db', file]);
    expect(r.status, r.stderr).toBe(0);
    const list = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(list.map((i) => i.id)).toEqual([both, beacon, port]);
    const b = list[1]!;
    expect(b).toMatchObject({ kind: 'traffic', trafficKind: 'beacon', program: { name: 'nc' }, ports: [], features: BEACON_FEATURES, sentence: expect.stringContaining('every 60 s') });
    expect((b.endpoints as unknown[]).length).toBe(7);
    expect((b.endpoints as unknown[])[0]).toEqual(endpoint());
    expect(list[0]).toMatchObject({ kind: 'both', trafficKind: 'volume-out', ports: [{ port: 8000 }], endpoints: [{ name: 'drop.example', bytesOut: 52_000_000 }] });
    expect(list[2]).toMatchObject({ kind: 'ports', trafficKind: null, program: null, endpoints: [], features: [] });
    for (const i of list) expect(Object.keys(i)).toEqual(expect.arrayContaining(['id', 'runId', 'startRoundId', 'endRoundId', 'startedAt', 'endedAt', 'rounds', 'peakScore', 'threshold', 'status', 'sentence', 'ports']));
  });
});
