import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../../src/main/engine/store/database';
import type { RoundStore } from '../../../../src/main/engine/store/rounds';
import type { ConnectionCount, SocketEntry } from '../../../../src/main/engine/collect/sockets/types';
import { countConnections } from '../../../../src/main/engine/collect/sockets/types';
import { openTestStore } from '../../../support/db';

let db: Db;
let store: RoundStore;
beforeEach(() => {
  ({ db, store } = openTestStore());
});
afterEach(() => db.close());

const T0 = Date.UTC(2026, 10, 20, 9, 0);
const sshd: SocketEntry = { proto: 'tcp', family: 4, address: '0.0.0.0', port: 22, pid: 812, process: 'sshd', exe: '/usr/sbin/sshd', user: 'root' };
const sshd6: SocketEntry = { ...sshd, family: 6, address: '::' };
const dns: SocketEntry = { proto: 'udp', family: 4, address: '127.0.0.53', port: 53, pid: 400, process: 'systemd-resolve', exe: '/usr/lib/systemd/systemd-resolved', user: 'systemd-resolve' };
const hidden: SocketEntry = { proto: 'tcp', family: 6, address: '::1', port: 5432, pid: null, process: null, exe: null, user: null };
const noConnections: ConnectionCount[] = countConnections([]);

describe('RoundStore', () => {
  it('writes a round with its sockets and connection counts and reads them back', () => {
    const connections = countConnections([{ proto: 'tcp', remotePort: 443 }, { proto: 'tcp', remotePort: 443 }, { proto: 'udp', remotePort: 50000 }]);
    const id = store.record({ host: 'box', startedAt: T0, endedAt: T0 + 3, outcome: { sockets: [sshd, sshd6, dns, hidden], connections } });
    const [round] = store.rounds();
    expect(round).toEqual({ id, startedAt: T0, endedAt: T0 + 3, durationMs: 3, host: 'box', status: 'ok', error: null });
    const sockets = store.socketsOf(id).map(({ roundId: _r, ...s }) => s);
    expect(sockets).toEqual([sshd, sshd6, hidden, dns]);
    expect(store.connectionsOf(id)).toEqual(connections);
  });

  it('keeps each port and each process once, with first and last seen times', () => {
    store.record({ host: 'box', startedAt: T0, endedAt: T0 + 1, outcome: { sockets: [sshd, sshd6], connections: noConnections } });
    store.record({ host: 'box', startedAt: T0 + 60_000, endedAt: T0 + 60_001, outcome: { sockets: [sshd, dns], connections: noConnections } });
    expect(db.prepare('SELECT proto, port, first_seen_at, last_seen_at FROM ports ORDER BY proto, port').all()).toEqual([
      { proto: 'tcp', port: 22, first_seen_at: T0, last_seen_at: T0 + 60_000 },
      { proto: 'udp', port: 53, first_seen_at: T0 + 60_000, last_seen_at: T0 + 60_000 },
    ]);
    expect(db.prepare('SELECT count(*) FROM processes').pluck().get()).toBe(2);
  });

  it('stores unknown owners as unknown rather than inventing one', () => {
    const id = store.record({ host: 'box', startedAt: T0, endedAt: T0, outcome: { sockets: [hidden], connections: noConnections } });
    expect(db.prepare('SELECT pid, process_id FROM rounds_ports WHERE round_id = ?').get(id)).toEqual({ pid: null, process_id: null });
    expect(db.prepare('SELECT count(*) FROM processes').pluck().get()).toBe(0);
  });

  it('records a failed scan as a failed round with its error and no sockets', () => {
    const id = store.record({ host: 'box', startedAt: T0, endedAt: T0 + 2, outcome: { error: 'EACCES: /proc/net/tcp' } });
    expect(store.rounds()[0]).toMatchObject({ id, status: 'failed', error: 'EACCES: /proc/net/tcp' });
    expect(store.socketsOf(id)).toEqual([]);
  });

  it('writes a round all or nothing', () => {
    const bad = { ...sshd, port: 70_000 }; // violates the ports CHECK after earlier rows were written
    expect(() => store.record({ host: 'box', startedAt: T0, endedAt: T0, outcome: { sockets: [dns, bad], connections: noConnections } })).toThrow(/CHECK/);
    expect(db.prepare('SELECT (SELECT count(*) FROM rounds) + (SELECT count(*) FROM ports) + (SELECT count(*) FROM rounds_ports)').pluck().get()).toBe(0);
    // The owner written by the failed round was rolled back with it: the next round writes it again.
    const id = store.record({ host: 'box', startedAt: T0 + 60_000, endedAt: T0 + 60_000, outcome: { sockets: [dns], connections: noConnections } });
    expect(store.socketsOf(id)).toEqual([expect.objectContaining({ process: 'systemd-resolve', port: 53 })]);
    expect(db.prepare('SELECT count(*) FROM pragma_foreign_key_check').pluck().get()).toBe(0);
  });

  it('summarises ports seen since a time, with their processes and addresses', () => {
    store.record({ host: 'box', startedAt: T0, endedAt: T0, outcome: { sockets: [sshd, dns], connections: noConnections } });
    store.record({ host: 'box', startedAt: T0 + 60_000, endedAt: T0 + 60_000, outcome: { sockets: [sshd, sshd6, hidden], connections: noConnections } });
    expect(store.ports()).toEqual([
      { proto: 'tcp', port: 22, firstSeenAt: T0, lastSeenAt: T0 + 60_000, rounds: 2, processes: ['sshd'], addresses: ['0.0.0.0', '::'] },
      { proto: 'tcp', port: 5432, firstSeenAt: T0 + 60_000, lastSeenAt: T0 + 60_000, rounds: 1, processes: [], addresses: ['::1'] },
      { proto: 'udp', port: 53, firstSeenAt: T0, lastSeenAt: T0, rounds: 1, processes: ['systemd-resolve'], addresses: ['127.0.0.53'] },
    ]);
    expect(store.ports({ since: T0 + 1 }).map((p) => p.port)).toEqual([22, 5432]);
  });
});
