import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/main/engine/store/database';
import { TRAFFIC_SQL } from '../../src/main/engine/traffic/trafficQueries';
import { openTestDb } from '../support/db';

let db: Db | undefined;
afterEach(() => db?.close());

describe('migration 016: remote ends by name', () => {
  it('indexes the named remote ends of a version-15 database, and the name query finds an earlier address of the name through it', () => {
    const { db: old, file } = openTestDb(15);
    const insert = old.prepare('INSERT INTO remote_endpoints (proto, address, port, first_seen_at, last_seen_at, name, name_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    insert.run('tcp', '192.0.2.61', 443, 10, 20, 'cloud.example.net', 10);
    insert.run('tcp', '2001:db8::61', 443, 30, 40, 'cloud.example.net', 30);
    insert.run('tcp', '198.51.100.1', 443, 5, 6, null, null);
    old.close();
    db = openDatabase(file);
    expect(db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(16);
    expect(db.prepare("SELECT name FROM pragma_index_info('remote_endpoints_name')").pluck().all()).toEqual(['name', 'proto', 'port', 'first_seen_at']);
    const rows = db.prepare(TRAFFIC_SQL.knownNames).all(JSON.stringify([['cloud.example.net', 'tcp', 443, null], ['other.example.net', 'tcp', 443, null]]));
    expect(rows).toEqual([{ name: 'cloud.example.net', proto: 'tcp', port: 443, processId: null, anyAt: 10, ownerAt: null }]);
  });
});
