import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/main/engine/store/database';
import { openTestDb } from '../support/db';

let db: Db | undefined;
afterEach(() => db?.close());

/** A version-9 database with one cleanup run. */
function version9(): string {
  const { db: old, file } = openTestDb(9);
  old.exec("INSERT INTO cleanup_runs (trigger, started_at, ended_at, status, removed_packets) VALUES ('schedule', 10, 20, 'ok', 5)");
  old.close();
  return file;
}

describe('migration 010: daily reports', () => {
  it('adds the reports table and counts removed report files on the cleanups already recorded', () => {
    db = openDatabase(version9());
    expect(db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(10);
    expect(db.prepare('SELECT removed_packets, removed_report_files FROM cleanup_runs').get()).toEqual({ removed_packets: 5, removed_report_files: 0 });
    expect(db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('reports')).toEqual([
      'day', 'period_from', 'period_to', 'built_at', 'trigger', 'summary', 'mail_status', 'mail_attempts', 'mail_error', 'mail_at',
    ]);
  });

  it('keeps one report per day, with a real day, a period that ends after it starts and a known trigger and mail state', () => {
    db = openDatabase(version9());
    const insert = db.prepare('INSERT INTO reports (day, period_from, period_to, built_at, trigger, summary, mail_status) VALUES (?, ?, ?, ?, ?, ?, ?)');
    insert.run('2026-12-05', 1000, 2000, 2001, 'schedule', '{}', 'pending');
    expect(db.prepare('SELECT mail_attempts, mail_error FROM reports').get()).toEqual({ mail_attempts: 0, mail_error: null });
    expect(() => insert.run('2026-12-05', 1000, 2000, 2001, 'catch-up', '{}', 'off')).toThrow(/UNIQUE|PRIMARY KEY/);
    expect(() => insert.run('5 Dec 2026', 1000, 2000, 2001, 'schedule', '{}', 'off')).toThrow(/CHECK/);
    expect(() => insert.run('2026-12-06', 2000, 1000, 2001, 'schedule', '{}', 'off')).toThrow(/CHECK/);
    expect(() => insert.run('2026-12-06', 1000, 2000, 2001, 'cron', '{}', 'off')).toThrow(/CHECK/);
    expect(() => insert.run('2026-12-06', 1000, 2000, 2001, 'schedule', '{}', 'failed')).toThrow(/CHECK/);
    expect(() => db!.prepare("UPDATE cleanup_runs SET removed_report_files = -1").run()).toThrow(/CHECK/);
  });
});
