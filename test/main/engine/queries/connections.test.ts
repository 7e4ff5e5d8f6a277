import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../../src/main/engine/store/database';
import { ENDPOINTS_SQL, listConnections, ROUND_RANGE_SQL, TRAFFIC_OF_PROCESS_SQL } from '../../../../src/main/engine/queries/connections';
import { ConnectionsSchema } from '../../../../src/shared/contract';
import { openTestDb } from '../../../support/db';
import { planOf } from './seed';
import { FLOWS, insertFlows, MINUTE, seedConnections, T0 } from './connectionsSeed';

let db: Db;
beforeEach(() => {
  db = openTestDb().db;
  insertFlows(db, seedConnections(db), FLOWS);
});
afterEach(() => db.close());

const range = { from: T0, to: T0 + 10 * MINUTE };
const at = (m: number) => T0 + m * MINUTE;

const firefox = { process: 'firefox', exe: '/usr/lib/firefox/firefox', user: 'ann' };
const fastly = {
  proto: 'tcp', address: '151.101.1.1', port: 443, direction: 'out', localPort: null, name: null, states: ['established'], maxSockets: 1,
  firstSeenAt: at(8), lastSeenAt: at(9), isNew: true, traffic: null,
};
const example = {
  proto: 'tcp', address: '93.184.216.34', port: 443, direction: 'out', localPort: null, name: 'example.com', states: ['established', 'close-wait'], maxSockets: 3,
  firstSeenAt: at(0), lastSeenAt: at(9), isNew: false, traffic: { bytesOut: 1500, bytesIn: 50_000, packetsOut: 15, packetsIn: 40 },
};
const bash = {
  process: 'bash', exe: '/usr/bin/bash', user: 'ann',
  endpoints: [{ proto: 'tcp', address: '203.0.113.9', port: 4444, direction: 'out', localPort: null, name: null, states: ['syn-sent', 'established'], maxSockets: 1, firstSeenAt: at(5), lastSeenAt: at(9), isNew: true, traffic: null }],
};
const curl = {
  process: 'curl', exe: '/usr/bin/curl', user: 'ann',
  endpoints: [{ proto: 'tcp', address: '127.0.0.1', port: 8080, direction: 'out', localPort: null, name: null, states: ['established'], maxSockets: 1, firstSeenAt: at(1), lastSeenAt: at(3), isNew: true, traffic: null }],
};
const node = {
  process: 'node', exe: '/usr/bin/node', user: 'ann',
  endpoints: [
    { proto: 'tcp', address: '127.0.0.1', port: 0, direction: 'in', localPort: 8080, name: null, states: ['established'], maxSockets: 1, firstSeenAt: at(1), lastSeenAt: at(3), isNew: true, traffic: { bytesOut: 4000, bytesIn: 200, packetsOut: 4, packetsIn: 2 } },
  ],
};
const sshd = {
  process: 'sshd', exe: '/usr/sbin/sshd', user: 'root',
  endpoints: [
    { proto: 'tcp', address: '10.0.0.5', port: 0, direction: 'in', localPort: 22, name: null, states: ['established'], maxSockets: 2, firstSeenAt: at(2), lastSeenAt: at(9), isNew: true, traffic: { bytesOut: 7000, bytesIn: 3000, packetsOut: 25, packetsIn: 30 } },
  ],
};
const nobody = {
  process: null, exe: null, user: null,
  endpoints: [{ proto: 'tcp', address: '1.1.1.1', port: 853, direction: 'out', localPort: null, name: null, states: ['established'], maxSockets: 1, firstSeenAt: at(0), lastSeenAt: at(4), isNew: true, traffic: { bytesOut: 300, bytesIn: 0, packetsOut: 3, packetsIn: 0 } }],
};

describe('listConnections', () => {
  it('gives per process its endpoints over the range: states, most sockets at once, first/last seen, new, names and traffic', () => {
    const answer = listConnections(db, range);
    expect(ConnectionsSchema.parse(answer)).toEqual(answer);
    expect(answer).toEqual({ ...range, truncated: false, processes: [{ ...firefox, endpoints: [fastly, example] }, bash, curl, node, sshd, nobody] });
  });

  it('cuts spans and traffic to a shorter range, and marks new only what was first seen in it', () => {
    const answer = listConnections(db, { from: at(5), to: at(7) });
    expect(answer.processes).toEqual([
      { ...bash, endpoints: [{ ...bash.endpoints[0]!, lastSeenAt: at(6) }] },
      { ...firefox, endpoints: [{ ...example, firstSeenAt: at(5), lastSeenAt: at(6), traffic: null }] },
      { ...sshd, endpoints: [{ ...sshd.endpoints[0]!, firstSeenAt: at(5), lastSeenAt: at(6), isNew: false, traffic: null }] },
    ]);
    expect(listConnections(db, { from: at(7), to: at(8) }).processes[0]!.endpoints[0]!.isNew).toBe(false);
    expect(listConnections(db, { from: at(20), to: at(80) })).toEqual({ from: at(20), to: at(80), processes: [], truncated: false });
    const before = listConnections(db, { from: T0 - 90 * MINUTE, to: T0 });
    expect(before.processes).toEqual([{ ...firefox, endpoints: [{ ...example, states: ['established'], maxSockets: 1, firstSeenAt: T0 - 60 * MINUTE, lastSeenAt: T0 - 60 * MINUTE, isNew: true, traffic: { bytesOut: 12_345, bytesIn: 0, packetsOut: 12, packetsIn: 0 } }] }]);
  });

  it('filters by process name (exactly) and by host address or name (a substring, any case)', () => {
    expect(listConnections(db, { ...range, process: 'firefox' }).processes).toEqual([{ ...firefox, endpoints: [fastly, example] }]);
    expect(listConnections(db, { ...range, process: 'fire' }).processes).toEqual([]);
    expect(listConnections(db, { ...range, host: 'EXAMPLE' }).processes).toEqual([{ ...firefox, endpoints: [example] }]);
    expect(listConnections(db, { ...range, host: '10.0.0' }).processes).toEqual([sshd]);
    expect(listConnections(db, { ...range, host: '127.0.0.1' }).processes).toEqual([curl, node]);
    expect(listConnections(db, { ...range, process: 'curl', host: '93.184' }).processes).toEqual([]);
  });

  it('keeps the most recently seen endpoints when there are more than the limit, and says so', () => {
    const answer = listConnections(db, { ...range, limit: 3 });
    expect(answer.truncated).toBe(true);
    expect(answer.processes).toEqual([bash, { ...firefox, endpoints: [fastly] }, sshd]);
    expect(listConnections(db, { ...range, limit: 7 }).truncated).toBe(false);
  });

  it('reads only the spans near a one-hour range through the indexes, never the whole table', () => {
    const hour = { from: at(0), to: at(60) };
    expect(planOf(db, ROUND_RANGE_SQL, hour)).toMatch(/SEARCH rounds USING (COVERING )?INDEX rounds_started_at/);
    const spans = planOf(db, ENDPOINTS_SQL, { ...hour, lo: 1, hi: 60, limit: 501, process: null, host: null });
    expect(spans).toMatch(/SEARCH cs USING INDEX connection_spans_last \(last_round_id>\?\)/);
    expect(spans).not.toMatch(/SCAN (cs|connection_spans)\b/);
    const filtered = planOf(db, ENDPOINTS_SQL, { ...hour, lo: 1, hi: 60, limit: 501, process: 'firefox', host: 'example' });
    expect(filtered).not.toMatch(/SCAN (cs|connection_spans)\b/);
    const traffic = planOf(db, TRAFFIC_OF_PROCESS_SQL, { ...hour, processId: 1, addresses: '[]' });
    expect(traffic).toMatch(/SEARCH f USING INDEX flows_process_ts \(process_id=\? AND first_ts>\? AND first_ts<\?\)/);
  });
});
