import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/main/engine/store/database';
import { openTestDb } from '../support/db';

let db: Db | undefined;
afterEach(() => db?.close());

describe('migration 015: which ports each program holds whenever it runs', () => {
  it('adds empty per-program counts to a version-14 database, keeping what it had', () => {
    const { db: old, file } = openTestDb(14);
    old.prepare("INSERT INTO processes (id, identity, name, exe, user, first_seen_at) VALUES (1, '[\"syncthing\",\"/usr/bin/syncthing\",\"alice\"]', 'syncthing', '/usr/bin/syncthing', 'alice', 5)").run();
    old.close();
    db = openDatabase(file);
    expect(db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(15);
    expect(db.prepare('SELECT count(*) FROM program_rounds').pluck().get()).toBe(0);
    expect(db.prepare('SELECT count(*) FROM program_ports').pluck().get()).toBe(0);
    expect(db.prepare('SELECT name FROM processes WHERE id = 1').pluck().get()).toBe('syncthing');
    expect(() => db!.prepare('INSERT INTO program_rounds (process_id, rounds) VALUES (1, 0)').run()).toThrow(/CHECK/);
  });
});
