import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/main/engine/store/database';
import { openTestDb } from '../support/db';

let db: Db;
beforeEach(() => {
  db = openTestDb(5).db;
});
afterEach(() => db.close());

describe('migration 005: settings and cleanup runs', () => {
  it('keeps one row per setting key', () => {
    const insert = db.prepare('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)');
    insert.run('retention.packetsDays', '7', 1);
    expect(() => insert.run('retention.packetsDays', '8', 2)).toThrow(/UNIQUE|PRIMARY KEY/);
    expect(() => insert.run('x', null, 2)).toThrow(/NOT NULL/);
  });

  it('records cleanups with non-negative counts and a known status', () => {
    const insert = db.prepare('INSERT INTO cleanup_runs (trigger, started_at, ended_at, status, removed_packets) VALUES (?, ?, ?, ?, ?)');
    insert.run('schedule', 10, 20, 'ok', 5);
    expect(() => insert.run('cron', 10, 20, 'ok', 5)).toThrow(/CHECK/);
    expect(() => insert.run('schedule', 10, 5, 'ok', 5)).toThrow(/CHECK/);
    expect(() => insert.run('schedule', 10, 20, 'done', 5)).toThrow(/CHECK/);
    expect(() => insert.run('schedule', 10, 20, 'ok', -1)).toThrow(/CHECK/);
    expect(db.prepare('SELECT removed_round_ports, removed_flows, removed_for_cap, status FROM cleanup_runs').get()).toEqual({
      removed_round_ports: 0,
      removed_flows: 0,
      removed_for_cap: 0,
      status: 'ok',
    });
  });
});
