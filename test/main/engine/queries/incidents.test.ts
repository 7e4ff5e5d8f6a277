import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../../src/main/engine/store/database';
import { DetectionStore } from '../../../../src/main/engine/store/detectionStore';
import { CONTEXT_ROUNDS, CONTEXT_WINDOWS, getIncident, listIncidents, setIncidentStatus, withTraffic } from '../../../../src/main/engine/queries/incidents';
import { TrafficStore } from '../../../../src/main/engine/store/trafficStore';
import { IncidentDetailSchema, IncidentSummarySchema } from '../../../../src/shared/contract';
import { openTestDb } from '../../../support/db';
import { BEACON_FEATURES, endpoint, incidentPort, MINUTE, minutes, planOf, seedRounds, seedScores, seedTrafficIncident, socket, T0 } from './seed';

let db: Db;
let ids: number[];
let run: number;
beforeEach(() => {
  db = openTestDb().db;
  // 100 rounds; `nc` holds port 4444 in rounds 50..52, the incident.
  ids = seedRounds(db, minutes(100), (i) => [socket('tcp', 22, 'sshd'), ...(i >= 50 && i <= 52 ? [socket('tcp', 4444, 'nc', 4242)] : [])]);
  run = seedScores(db, ids, (i) => (i >= 50 && i <= 52 ? 0.9 : 0.1));
});
afterEach(() => db.close());

function addIncident(startIndex: number, endIndex: number, ports = [incidentPort(4444)]): number {
  return new DetectionStore(db).insertIncident(run, {
    startRoundId: ids[startIndex]!,
    endRoundId: ids[endIndex]!,
    startedAt: T0 + startIndex * MINUTE,
    endedAt: T0 + endIndex * MINUTE,
    rounds: endIndex - startIndex + 1,
    peakScore: 0.9,
    threshold: 0.5,
    sentence: `port 4444 appeared (round ${startIndex})`,
    ports,
  });
}

const flowSql = `INSERT INTO flows (round_id, proto, local_addr, local_port, remote_addr, remote_port, direction, packets, bytes, first_ts, last_ts, port_id, process_id)
  VALUES (?, 'tcp', '10.0.0.2', ?, ?, 51000, 'inbound', ?, ?, ?, ?, (SELECT id FROM ports WHERE port = ?), (SELECT id FROM processes WHERE name = ?))`;
const packetSql = `INSERT INTO packets (round_id, ts, protocols, length, dns_query, dns_answer) VALUES (?, ?, 'eth:ipv4:udp:dns', 80, ?, ?)`;

describe('listIncidents', () => {
  it('lists newest first, pages with beforeId and filters unseen ones, each with its ports', () => {
    const a = addIncident(10, 10, [incidentPort(4444), incidentPort(5555, null)]);
    const b = addIncident(50, 52);
    const c = addIncident(80, 81);
    new DetectionStore(db).setIncidentStatus(b, 'seen');
    const all = listIncidents(db, { limit: 10 });
    expect(all.map((i) => i.id)).toEqual([c, b, a]);
    expect(all[2]!.ports.map((p) => p.port)).toEqual([4444, 5555]);
    expect(all[2]!.ports[1]).toEqual({ ...incidentPort(5555, null) });
    for (const i of all) expect(IncidentSummarySchema.parse(i)).toEqual(i);
    expect(listIncidents(db, { limit: 1 }).map((i) => i.id)).toEqual([c]);
    expect(listIncidents(db, { limit: 10, beforeId: c }).map((i) => i.id)).toEqual([b, a]);
    expect(listIncidents(db, { limit: 10, unseenOnly: true }).map((i) => i.id)).toEqual([c, a]);
    expect(listIncidents(db, { limit: 10, beforeId: a })).toEqual([]);
  });
});

describe('getIncident', () => {
  it('gives scores around it, its flows summed and largest first with their program, and its DNS names', () => {
    const id = addIncident(50, 52);
    const insertFlow = db.prepare(flowSql);
    for (const i of [50, 51, 52]) insertFlow.run(ids[i], 4444, '203.0.113.9', 10, 1000, T0 + i * MINUTE + 1, T0 + i * MINUTE + 2, 4444, 'nc');
    insertFlow.run(ids[51], 22, '198.51.100.7', 3, 50_000, T0 + 51 * MINUTE + 5, T0 + 51 * MINUTE + 9, 22, 'sshd');
    insertFlow.run(ids[20], 22, '198.51.100.99', 1, 99_999, T0 + 20 * MINUTE, T0 + 20 * MINUTE, 22, 'sshd'); // outside
    const insertPacket = db.prepare(packetSql);
    insertPacket.run(ids[50], T0 + 50 * MINUTE, 'evil.example.', null);
    insertPacket.run(ids[51], T0 + 51 * MINUTE, 'cdn.example', 'edge.cdn.example,192.0.2.1,2001:db8::1');
    insertPacket.run(ids[52], T0 + 52 * MINUTE, 'evil.example', null);
    insertPacket.run(ids[20], T0 + 20 * MINUTE, 'elsewhere.example', null); // outside

    const detail = getIncident(db, id);
    expect(IncidentDetailSchema.parse(detail)).toEqual(detail);
    expect(detail).toMatchObject({ id, rounds: 3, status: 'new', ports: [incidentPort(4444)] });
    // 30 scored rounds before, the three of the incident, 30 after; oldest first.
    expect(detail.scores.map((s) => s.roundId)).toEqual(ids.slice(50 - CONTEXT_ROUNDS, 53 + CONTEXT_ROUNDS));
    expect(detail.scores.filter((s) => s.anomalous).map((s) => s.roundId)).toEqual(ids.slice(50, 53));
    expect(detail.flows).toEqual([
      { proto: 'tcp', localAddr: '10.0.0.2', localPort: 22, remoteAddr: '198.51.100.7', remotePort: 51000, direction: 'inbound', packets: 3, bytes: 50_000, firstAt: T0 + 51 * MINUTE + 5, lastAt: T0 + 51 * MINUTE + 9, process: 'sshd' },
      { proto: 'tcp', localAddr: '10.0.0.2', localPort: 4444, remoteAddr: '203.0.113.9', remotePort: 51000, direction: 'inbound', packets: 30, bytes: 3000, firstAt: T0 + 50 * MINUTE + 1, lastAt: T0 + 52 * MINUTE + 2, process: 'nc' },
    ]);
    expect(detail.dns).toEqual(['cdn.example', 'edge.cdn.example', 'evil.example']);
    expect(detail.episodes).toEqual([{ startedAt: detail.startedAt, endedAt: detail.endedAt }]);
  });

  it("lists a traffic incident's own traffic: its program's flows and lookups, and the unnamed flows to its remote ends", () => {
    // nc beacons to c2.example (203.0.113.7:4444) in rounds 50..52; sshd serves a peer meanwhile.
    const flow = db.prepare(`INSERT INTO flows (round_id, proto, local_addr, local_port, remote_addr, remote_port, direction, packets, bytes, first_ts, last_ts, process_id)
      VALUES (?, 'tcp', '10.0.0.2', ?, ?, ?, 'outbound', 1, ?, ?, ?, (SELECT id FROM processes WHERE name = ?))`);
    const at = (i: number) => T0 + i * MINUTE + 1;
    flow.run(ids[50], 40_000, '203.0.113.7', 4444, 800, at(50), at(50), 'nc');
    flow.run(ids[51], 40_001, '::ffff:203.0.113.7', 4444, 700, at(51), at(51), null); // unnamed, to its remote end
    flow.run(ids[51], 22, '198.51.100.7', 51_000, 50_000, at(51), at(51), 'sshd'); // another program
    flow.run(ids[52], 40_002, '198.51.100.8', 443, 9_000, at(52), at(52), null); // unnamed, elsewhere
    flow.run(ids[20], 40_003, '203.0.113.7', 4444, 600, at(20), at(20), 'nc'); // outside
    const lookup = db.prepare(`INSERT INTO packets (round_id, ts, protocols, length, dns_query, dns_answer, process_id)
      VALUES (?, ?, 'eth:ipv4:udp:dns', 80, ?, NULL, (SELECT id FROM processes WHERE name = ?))`);
    lookup.run(ids[50], at(50), 'update.nc.example', 'nc');
    lookup.run(ids[51], at(51), 'cdn.example', null);
    lookup.run(ids[52], at(52), 'mirror.example', 'sshd');
    const names = (d: ReturnType<typeof getIncident>) => d.flows.map((f) => [f.remoteAddr, f.bytes, f.process]);

    const own = getIncident(db, seedTrafficIncident(db, run, ids, { startIndex: 50, endIndex: 52, processName: 'nc' }));
    expect(IncidentDetailSchema.parse(own)).toEqual(own);
    expect(names(own)).toEqual([['203.0.113.7', 800, 'nc'], ['::ffff:203.0.113.7', 700, null]]);
    expect(own.dns).toEqual(['c2.example', 'update.nc.example']);

    // Traffic no program owns: what no program was named for, and its remote ends' names.
    const unowned = getIncident(db, seedTrafficIncident(db, run, ids, { startIndex: 50, endIndex: 52, processName: null }));
    expect(names(unowned)).toEqual([['198.51.100.8', 9_000, null], ['::ffff:203.0.113.7', 700, null]]);
    expect(unowned.dns).toEqual(['c2.example', 'cdn.example']);

    // A port incident over the same rounds: the whole machine.
    const port = getIncident(db, addIncident(50, 52));
    expect(names(port).map(([, bytes]) => bytes)).toEqual([50_000, 9_000, 800, 700]);
    expect(port.dns).toEqual(['cdn.example', 'mirror.example', 'update.nc.example']);
  });

  it("charts a traffic incident with its program's traffic windows, on the traffic model's scale; a port incident with its rounds", () => {
    // Windows of ten rounds over the 100 rounds, for nc and for the host-wide row; nc's are anomalous in rounds 50..59.
    const pid = db.prepare<[string], number>('SELECT id FROM processes WHERE name = ?').pluck().get('nc')!;
    const windows = Array.from({ length: 10 }, (_, w) => w).flatMap((w) =>
      [pid, null].map((processId) => ({
        firstRoundId: ids[w * 10]!, lastRoundId: ids[w * 10 + 9]!, startedAt: T0 + w * 10 * MINUTE, endedAt: T0 + (w * 10 + 9) * MINUTE, processId,
        score: processId === null ? 1 : w === 5 ? 14.2 : 2 + w / 10, threshold: 9, anomalous: processId !== null && w === 5, heldOut: false, features: new Float32Array(4),
      })),
    );
    new TrafficStore(db).saveWindows(run, 1, windows);
    const traffic = getIncident(db, seedTrafficIncident(db, run, ids, { startIndex: 50, endIndex: 59, processName: 'nc' }));
    expect(traffic.scores.map((p) => p.score)).toEqual([2, 2.1, 2.2, 2.3, 2.4, 14.2, 2.6, 2.7, 2.8, 2.9]);
    expect(traffic.scores.filter((p) => p.anomalous).map((p) => [p.roundId, p.at, p.threshold])).toEqual([[ids[59], T0 + 50 * MINUTE, 9]]);
    // Up to CONTEXT_WINDOWS windows on each side.
    for (let w = 10; w < 40; w++) new TrafficStore(db).saveWindows(run, 1, [{ ...windows[0]!, firstRoundId: 1000 + w, lastRoundId: 1000 + w, startedAt: T0 + w * 10 * MINUTE + 1, endedAt: T0 + w * 10 * MINUTE + 2 }]);
    expect(getIncident(db, traffic.id).scores).toHaveLength(5 + 1 + CONTEXT_WINDOWS);
    // The host-wide row's incident charts that row's windows; a port incident, the port model's rounds.
    const unowned = getIncident(db, seedTrafficIncident(db, run, ids, { startIndex: 50, endIndex: 59, processName: null }));
    expect(new Set(unowned.scores.map((p) => p.score))).toEqual(new Set([1]));
    expect(getIncident(db, addIncident(50, 52)).scores.map((p) => p.roundId)).toEqual(ids.slice(50 - CONTEXT_ROUNDS, 53 + CONTEXT_ROUNDS));
  });

  it('gives the episodes of an incident whose cause came back after a pause, oldest first', () => {
    const id = addIncident(50, 52);
    new DetectionStore(db).extendIncident(id, { endRoundId: ids[58]!, endedAt: T0 + 58 * MINUTE, rounds: 6, peakScore: 9, sentence: 'again', ports: [incidentPort(4444)], recurrence: T0 + 56 * MINUTE });
    const detail = getIncident(db, id);
    expect(IncidentDetailSchema.parse(detail)).toEqual(detail);
    expect(detail.episodes).toEqual([{ startedAt: T0 + 50 * MINUTE, endedAt: T0 + 52 * MINUTE }, { startedAt: T0 + 56 * MINUTE, endedAt: T0 + 58 * MINUTE }]);
  });

  it('fails with a clear message for an unknown id', () => {
    expect(() => getIncident(db, 999)).toThrow('no incident 999');
  });

  it("reads its rounds' scores, flows and packets through indexes", () => {
    const scores = planOf(db, 'SELECT r.id FROM rounds r JOIN round_scores s ON s.round_id = r.id WHERE r.started_at < ? ORDER BY r.started_at DESC, r.id DESC LIMIT 30', [1]);
    expect(scores).toMatch(/rounds_started_at/);
    const flows = planOf(db, 'SELECT * FROM flows f WHERE f.round_id IN (SELECT id FROM rounds WHERE started_at BETWEEN 1 AND 2)');
    expect(flows).toMatch(/SEARCH f USING INDEX flows_round/);
    expect(flows).toMatch(/rounds_started_at/);
    const windows = planOf(db, 'SELECT score FROM traffic_windows WHERE process_id IS 1 AND started_at < 5 ORDER BY started_at DESC LIMIT 12');
    expect(windows).toMatch(/traffic_windows_started/);
    const packets = planOf(db, 'SELECT DISTINCT dns_query FROM packets WHERE round_id IN (SELECT id FROM rounds WHERE started_at BETWEEN 1 AND 2)');
    expect(packets).toMatch(/SEARCH packets USING INDEX packets_round/);
  });
});

describe('setIncidentStatus', () => {
  it('records seen and dismissed, and returns the updated summary', () => {
    const id = addIncident(50, 52);
    expect(setIncidentStatus(db, id, 'seen').status).toBe('seen');
    expect(setIncidentStatus(db, id, 'dismissed')).toMatchObject({ id, status: 'dismissed', ports: [incidentPort(4444)] });
    expect(db.prepare('SELECT count(*) FROM expected_rounds').pluck().get()).toBe(0);
  });

  it("marks an expected incident's rounds for the next refit", () => {
    const id = addIncident(50, 52);
    expect(setIncidentStatus(db, id, 'expected', T0 + 999).status).toBe('expected');
    expect(new DetectionStore(db).expectedSince(0).map((r) => r.id)).toEqual(ids.slice(50, 53));
  });

  it('takes the rounds back when an expected incident is set to seen or dismissed, and only its own', () => {
    const id = addIncident(50, 52);
    const other = addIncident(60, 61);
    const store = new DetectionStore(db);
    setIncidentStatus(db, id, 'expected', T0 + 999);
    setIncidentStatus(db, other, 'expected', T0 + 999);
    expect(store.unapprovedAnomalous(ids.slice(50, 53)).size).toBe(0); // approved: refits may learn them
    expect(setIncidentStatus(db, id, 'dismissed').status).toBe('dismissed');
    expect(store.expectedSince(0).map((r) => r.id)).toEqual(ids.slice(60, 62));
    expect([...store.unapprovedAnomalous(ids.slice(50, 53))].sort((a, b) => a - b)).toEqual(ids.slice(50, 53)); // refused again
    setIncidentStatus(db, other, 'seen');
    expect(store.expectedSince(0)).toEqual([]);
  });

  it('fails for an unknown id without touching anything', () => {
    expect(() => setIncidentStatus(db, 77, 'expected')).toThrow('no incident 77');
    expect(() => setIncidentStatus(db, 77, 'seen')).toThrow('no incident 77');
  });
});

describe('traffic incidents', () => {
  it('carry their kind, program, remote ends in rank order and features by share, in the list and the detail', () => {
    const port = addIncident(10, 10);
    const second = endpoint({ address: '2001:db8::5', port: 443, name: null, newForProcess: false, newAnywhere: false, firstSeenAt: T0 - MINUTE, heldSince: null, periodMs: null, bytesOut: 10, bytesIn: 99_000 });
    // Stored in an order other than by share: the query sorts them.
    const features = [BEACON_FEATURES[2]!, BEACON_FEATURES[0]!, BEACON_FEATURES[1]!];
    const traffic = seedTrafficIncident(db, run, ids, { startIndex: 50, endIndex: 59, processName: 'nc', endpoints: [endpoint(), second], features });

    const [t, p] = listIncidents(db, { limit: 10 });
    expect(t).toMatchObject({
      id: traffic,
      kind: 'traffic',
      trafficKind: 'beacon',
      program: { name: 'nc', exe: '/usr/bin/nc', user: 'root' },
      ports: [],
      endpoints: [endpoint(), second],
      features: BEACON_FEATURES,
    });
    expect(p).toMatchObject({ id: port, kind: 'ports', trafficKind: null, program: null, endpoints: [], features: [], ports: [incidentPort(4444)] });
    for (const i of [t, p]) expect(IncidentSummarySchema.parse(i)).toEqual(i);

    const detail = getIncident(db, traffic);
    expect(IncidentDetailSchema.parse(detail)).toEqual(detail);
    expect(detail.endpoints.map((e) => `${e.address}:${e.port}`)).toEqual(['203.0.113.7:4444', '2001:db8::5:443']);
    expect(detail.endpoints[0]).toMatchObject({ newForProcess: true, newAnywhere: true, periodMs: 60_000, heldSince: T0 + 50 * MINUTE });
    expect(detail.features.map((f) => f.feature)).toEqual(['periodicity', 'new_for_process_share', 'usual_bytes_out']);
    // Its chart is the traffic model's windows, and none were stored here (see "charts a traffic incident").
    expect(detail.scores).toEqual([]);
  });

  it("tell a port incident joined by the same program's traffic as one incident with both explanations", () => {
    const id = addIncident(50, 52);
    const nc = db.prepare<[], number>("SELECT id FROM processes WHERE name = 'nc'").pluck().get()!;
    new TrafficStore(db).attachToPortIncident(id, {
      processId: nc,
      trafficKind: 'new-destination',
      endpoints: [endpoint({ periodMs: null })],
      features: [{ feature: 'new_for_process_share', share: 0.7, value: 1, expected: 0.02 }],
      sentence: 'Port 4444/tcp started listening; nc (pid 4242) talked to c2.example (203.0.113.7:4444), a host it never talked to before.',
    });
    const detail = getIncident(db, id);
    expect(IncidentDetailSchema.parse(detail)).toEqual(detail);
    expect(detail).toMatchObject({
      kind: 'both',
      trafficKind: 'new-destination',
      program: { name: 'nc' },
      ports: [incidentPort(4444)],
      endpoints: [endpoint({ periodMs: null })],
      features: [{ feature: 'new_for_process_share', share: 0.7, value: 1, expected: 0.02 }],
    });
    expect(listIncidents(db, { limit: 1 })[0]).toMatchObject({ id, kind: 'both', endpoints: [{ address: '203.0.113.7' }] });
  });

  it('give a scan of this machine no program, its probing address with no port, and a share rounded past 1 as 1', () => {
    const id = seedTrafficIncident(db, run, ids, {
      startIndex: 70,
      endIndex: 79,
      processName: null,
      trafficKind: 'scan',
      endpoints: [endpoint({ address: '198.51.100.4', port: 0, direction: 'in', name: null, newForProcess: false, newAnywhere: false, heldSince: null, periodMs: null, opened: 221, bytesOut: 0, bytesIn: 0 })],
      features: [{ feature: 'closed_port_attempts', share: 1.0000001, value: 0.9, expected: 0 }],
    });
    const detail = getIncident(db, id);
    expect(IncidentDetailSchema.parse(detail)).toEqual(detail);
    expect(detail).toMatchObject({ kind: 'traffic', trafficKind: 'scan', program: null, endpoints: [{ address: '198.51.100.4', port: 0, direction: 'in', opened: 221 }] });
    expect(detail.features[0]!.share).toBe(1);
  });

  it('attach to rows of any shape, keeping their fields, reading each table through its key', () => {
    const traffic = seedTrafficIncident(db, run, ids, { startIndex: 50, endIndex: 59, processName: 'nc' });
    const port = addIncident(10, 10);
    const rows = withTraffic(db, new DetectionStore(db).incidents());
    expect(rows.map((r) => [r.id, r.kind, r.endpoints.length, r.features.length, r.ports.length])).toEqual([
      [traffic, 'traffic', 1, 3, 0],
      [port, 'ports', 0, 0, 1],
    ]);
    expect(rows[0]).toMatchObject({ runId: run, startRoundId: ids[50] });
    expect(withTraffic(db, [])).toEqual([]);
    for (const table of ['incident_endpoints', 'incident_features']) {
      expect(planOf(db, `SELECT * FROM ${table} WHERE incident_id IN (SELECT value FROM json_each(?))`, ['[1]'])).toMatch(new RegExp(`SEARCH ${table} USING (INDEX|PRIMARY KEY)`));
    }
  });
});
