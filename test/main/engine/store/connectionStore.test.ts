import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../../src/main/engine/store/database';
import { RoundStore } from '../../../../src/main/engine/store/rounds';
import { groupConnections } from '../../../../src/main/engine/store/connectionStore';
import { countConnections, type ConnectionEntry, type SocketEntry } from '../../../../src/main/engine/collect/sockets/types';
import { openTestStore } from '../../../support/db';

let db: Db;
let store: RoundStore;
beforeEach(() => {
  ({ db, store } = openTestStore());
});
afterEach(() => db.close());

const T0 = Date.UTC(2026, 11, 1, 9, 0);
const sshd: SocketEntry = { proto: 'tcp', family: 4, address: '0.0.0.0', port: 22, pid: 812, process: 'sshd', exe: '/usr/sbin/sshd', user: 'root' };
const firefox = { pid: 2100, process: 'firefox', exe: '/usr/lib/firefox/firefox', user: 'ann' };
let nextLocal = 40000;
function conn(remoteAddress: string, remotePort: number, extra: Partial<ConnectionEntry> = {}): ConnectionEntry {
  return { proto: 'tcp', family: 4, localAddress: '192.168.1.20', localPort: nextLocal++, remoteAddress, remotePort, state: 'established', ...firefox, ...extra };
}
/** An ssh client connected to the local sshd, as the accepted end appears. */
const accepted = (from: string, port: number): ConnectionEntry => ({ proto: 'tcp', family: 4, localAddress: '192.168.1.20', localPort: 22, remoteAddress: from, remotePort: port, state: 'established', pid: 9001, process: 'sshd', exe: '/usr/sbin/sshd', user: 'root' });

function round(i: number, connected: ConnectionEntry[]): number {
  return store.record({ host: 'h', startedAt: T0 + i * 60_000, endedAt: T0 + i * 60_000 + 5, outcome: { sockets: [sshd], connections: countConnections([]), connected } });
}

type Span = { first: number; last: number; address: string; port: number; direction: string; local_port: number | null; state: string; pid: number | null; process: string | null; count: number };
function spans(): Span[] {
  return db
    .prepare(
      `SELECT s.first_round_id AS first, s.last_round_id AS last, e.address, e.port, s.direction, s.local_port, s.state, s.pid, p.name AS process, s.count
       FROM connection_spans s JOIN remote_endpoints e ON e.id = s.endpoint_id LEFT JOIN processes p ON p.id = s.process_id ORDER BY s.id`,
    )
    .all() as Span[];
}

describe('groupConnections', () => {
  it('groups sockets by owner, peer and state; an accepted connection by its listener, without the peer port', () => {
    const groups = groupConnections([conn('93.184.216.34', 443), conn('93.184.216.34', 443), conn('93.184.216.34', 80), accepted('10.0.0.5', 51234), accepted('10.0.0.5', 51301)], [sshd]);
    expect(groups.map((g) => [g.direction, g.remoteAddress, g.remotePort, g.localPort, g.count])).toEqual([
      ['out', '93.184.216.34', 443, null, 2],
      ['out', '93.184.216.34', 80, null, 1],
      ['in', '10.0.0.5', 0, 22, 2],
    ]);
  });

  it('keeps different owners and states apart, and unknown owners unknown', () => {
    const unknown = conn('1.1.1.1', 853, { pid: null, process: null, exe: null, user: null });
    const groups = groupConnections([conn('1.1.1.1', 853), conn('1.1.1.1', 853, { state: 'close-wait' }), unknown], []);
    expect(groups.map((g) => [g.state, g.pid, g.process, g.count])).toEqual([
      ['established', 2100, 'firefox', 1],
      ['close-wait', 2100, 'firefox', 1],
      ['established', null, null, 1],
    ]);
  });
});

describe('ConnectionStore: spans that grow with changes, not with minutes', () => {
  it('keeps one row while nothing changes, and a new one for each change', () => {
    const long = conn('203.0.113.7', 5222);
    const r1 = round(1, [long, conn('93.184.216.34', 443), conn('93.184.216.34', 443)]);
    const r2 = round(2, [long, conn('93.184.216.34', 443), conn('93.184.216.34', 443)]);
    const r3 = round(3, [long, conn('93.184.216.34', 443)]);
    const r4 = round(4, [long]);
    expect(spans()).toEqual([
      { first: r1, last: r4, address: '203.0.113.7', port: 5222, direction: 'out', local_port: null, state: 'established', pid: 2100, process: 'firefox', count: 1 },
      { first: r1, last: r2, address: '93.184.216.34', port: 443, direction: 'out', local_port: null, state: 'established', pid: 2100, process: 'firefox', count: 2 },
      { first: r3, last: r3, address: '93.184.216.34', port: 443, direction: 'out', local_port: null, state: 'established', pid: 2100, process: 'firefox', count: 1 },
    ]);
    expect(db.prepare('SELECT address, port, first_seen_at, last_seen_at FROM remote_endpoints ORDER BY id').all()).toEqual([
      { address: '203.0.113.7', port: 5222, first_seen_at: T0 + 60_000, last_seen_at: T0 + 4 * 60_000 },
      { address: '93.184.216.34', port: 443, first_seen_at: T0 + 60_000, last_seen_at: T0 + 3 * 60_000 },
    ]);
  });

  it('writes no row for a day of unchanged rounds', () => {
    const held = [conn('203.0.113.7', 5222), accepted('10.0.0.5', 50000)];
    for (let i = 0; i < 1440; i++) round(i, held);
    expect(db.prepare('SELECT count(*) FROM connection_spans').pluck().get()).toBe(2);
    expect(spans().map((s) => s.last - s.first + 1)).toEqual([1440, 1440]);
  });

  it('never carries a span over a failed round, or over a stop after which another store wrote a round', () => {
    const held = [conn('203.0.113.7', 5222)];
    const r1 = round(1, held);
    store.record({ host: 'h', startedAt: T0 + 2 * 60_000, endedAt: T0 + 2 * 60_000 + 5, outcome: { error: 'EACCES' } });
    const r3 = round(3, held);
    // A restart: a new store (as a new monitor makes) continues what the last round held.
    store = new RoundStore(db);
    const r4 = round(4, held);
    // A round written by someone else in between (this store did not see it) breaks continuity.
    new RoundStore(db).record({ host: 'h', startedAt: T0 + 5 * 60_000, endedAt: T0 + 5 * 60_000 + 5, outcome: { sockets: [], connections: countConnections([]), connected: [] } });
    const r6 = round(6, held);
    expect(spans().map((s) => [s.first, s.last])).toEqual([
      [r1, r1],
      [r3, r4],
      [r6, r6],
    ]);
  });

  it('a round that did not list connections ends every span', () => {
    const held = [conn('203.0.113.7', 5222)];
    const r1 = round(1, held);
    store.record({ host: 'h', startedAt: T0 + 2 * 60_000, endedAt: T0 + 2 * 60_000 + 5, outcome: { sockets: [sshd], connections: countConnections([]) } });
    const r3 = round(3, held);
    expect(spans().map((s) => [s.first, s.last])).toEqual([
      [r1, r1],
      [r3, r3],
    ]);
  });

  it('stores accepted connections under the listener port, and a new pid as a change', () => {
    const r1 = round(1, [accepted('10.0.0.5', 51234), accepted('10.0.0.9', 40000)]);
    const r2 = round(2, [accepted('10.0.0.5', 51299), { ...accepted('10.0.0.9', 40000), pid: 9002 }]);
    expect(spans().map((s) => [s.first, s.last, s.address, s.port, s.direction, s.local_port, s.pid])).toEqual([
      // A new connection from the same peer to the same listener is no change.
      [r1, r2, '10.0.0.5', 0, 'in', 22, 9001],
      [r1, r1, '10.0.0.9', 0, 'in', 22, 9001],
      [r2, r2, '10.0.0.9', 0, 'in', 22, 9002],
    ]);
  });

  it("remembers the first round each process held a socket to each remote end, and not who no one could see", () => {
    const r1 = round(1, [conn('203.0.113.7', 5222)]);
    round(2, [conn('203.0.113.7', 5222), conn('203.0.113.7', 5222)]);
    // firefox restarted: a new pid of the same identity, and a new remote end.
    const r3 = round(3, [conn('203.0.113.7', 5222, { pid: 2200 }), conn('93.184.216.34', 443, { pid: 2200 }), conn('1.1.1.1', 853, { pid: null, process: null, exe: null, user: null })]);
    expect(
      db.prepare('SELECT p.name, e.address, o.first_round_id AS round, o.first_seen_at AS at FROM endpoint_owners o JOIN processes p ON p.id = o.process_id JOIN remote_endpoints e ON e.id = o.endpoint_id ORDER BY o.first_round_id, e.address').all(),
    ).toEqual([
      { name: 'firefox', address: '203.0.113.7', round: r1, at: T0 + 60_000 },
      { name: 'firefox', address: '93.184.216.34', round: r3, at: T0 + 3 * 60_000 },
    ]);
  });

  it('refuses what the schema forbids: an accepted connection without its port, a count of zero', () => {
    const r1 = round(1, [conn('203.0.113.7', 5222)]);
    const insert = db.prepare("INSERT INTO connection_spans (first_round_id, last_round_id, endpoint_id, direction, local_port, state, count) VALUES (?, ?, 1, ?, ?, 'established', ?)");
    expect(() => insert.run(r1, r1, 'in', null, 1)).toThrow(/CHECK/);
    expect(() => insert.run(r1, r1, 'out', 22, 1)).toThrow(/CHECK/);
    expect(() => insert.run(r1, r1, 'out', null, 0)).toThrow(/CHECK/);
    expect(() => db.prepare("INSERT INTO connection_spans (first_round_id, last_round_id, endpoint_id, direction, state, count) VALUES (?, ?, 1, 'out', 'time-wait', 1)").run(r1, r1)).toThrow(/CHECK/);
  });
});
