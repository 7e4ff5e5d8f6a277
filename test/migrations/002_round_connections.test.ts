import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/main/engine/store/database';
import { openTestDb } from '../support/db';

let db: Db;
beforeEach(() => {
  db = openTestDb(2).db;
});
afterEach(() => db.close());

describe('migration 002: round_connections', () => {
  it('stores one count per (round, protocol, remote port class) and goes with its round', () => {
    const round = Number(db.prepare("INSERT INTO rounds (started_at, host, status) VALUES (1, 'h', 'ok')").run().lastInsertRowid);
    const insert = db.prepare('INSERT INTO round_connections (round_id, proto, remote_port_class, count) VALUES (?, ?, ?, ?)');
    insert.run(round, 'tcp', 'well-known', 3);
    expect(() => insert.run(round, 'tcp', 'well-known', 4)).toThrow(/UNIQUE|PRIMARY KEY/);
    expect(() => insert.run(round, 'tcp', 'ephemeral', 1)).toThrow(/CHECK/);
    expect(() => insert.run(round, 'udp', 'dynamic', -1)).toThrow(/CHECK/);
    expect(() => insert.run(999, 'udp', 'dynamic', 1)).toThrow(/FOREIGN KEY/);
    db.prepare('DELETE FROM rounds WHERE id = ?').run(round);
    expect(db.prepare('SELECT count(*) FROM round_connections').pluck().get()).toBe(0);
  });
});
