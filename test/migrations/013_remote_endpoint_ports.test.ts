import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/main/engine/store/database';
import { openTestDb } from '../support/db';

let db: Db | undefined;
afterEach(() => db?.close());

describe('migration 013: remote ends by port', () => {
  it('indexes the remote ends of a version-12 database by protocol, port and first sighting, and the rarity query uses it', () => {
    const { db: old, file } = openTestDb(12);
    old.prepare('INSERT INTO remote_endpoints (proto, address, port, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?)').run('tcp', '198.18.0.1', 443, 10, 20);
    old.close();
    db = openDatabase(file);
    expect(db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(13);
    expect(db.prepare("SELECT name FROM pragma_index_info('remote_endpoints_port')").pluck().all()).toEqual(['proto', 'port', 'first_seen_at']);
    const plan = db
      .prepare<[string, number, number], { detail: string }>('EXPLAIN QUERY PLAN SELECT first_seen_at FROM remote_endpoints WHERE proto = ? AND port = ? ORDER BY first_seen_at LIMIT ?')
      .all('tcp', 443, 3)
      .map((r) => r.detail)
      .join(' ');
    expect(plan).toMatch(/COVERING INDEX remote_endpoints_port \(proto=\? AND port=\?\)/);
    expect(plan).not.toMatch(/TEMP B-TREE/);
    expect(db.prepare('SELECT first_seen_at FROM remote_endpoints WHERE proto = ? AND port = ?').pluck().all('tcp', 443)).toEqual([10]);
  });
});
