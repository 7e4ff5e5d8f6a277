import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../../src/main/engine/store/database';
import { SettingError, SettingsStore } from '../../../../src/main/engine/store/settingsStore';
import { createLogger, type Logger } from '../../../../src/main/engine/log';
import { openTestDb } from '../../../support/db';

let db: Db;
let lines: string[];
let log: Logger;
beforeEach(() => {
  db = openTestDb().db;
  lines = [];
  log = createLogger((line) => lines.push(line));
});
afterEach(() => db.close());

describe('SettingsStore', () => {
  it('gives defaults until a value is set, and keeps what was set across reopenings', () => {
    const settings = new SettingsStore(db, log);
    expect(settings.get('retention.packetsDays')).toBe(7);
    expect(settings.changed().size).toBe(0);
    settings.set('retention.packetsDays', 14, 1000);
    expect(settings.get('retention.packetsDays')).toBe(14);
    expect(settings.changed()).toEqual(new Map([['retention.packetsDays', 1000]]));
    settings.reset('retention.packetsDays');
    expect(settings.get('retention.packetsDays')).toBe(7);
  });

  it('rejects a bad value and keeps the previous one', () => {
    const settings = new SettingsStore(db, log);
    settings.set('schedule.cleanupAt', '02:00');
    expect(() => settings.set('schedule.cleanupAt', '2am')).toThrow(SettingError);
    expect(() => settings.set('schedule.cleanupAt', '2am')).toThrow(/schedule\.cleanupAt must be a time of day as HH:MM/);
    expect(settings.get('schedule.cleanupAt')).toBe('02:00');
    expect(() => settings.set('no.such', 1)).toThrow(/unknown setting 'no\.such'\. Settings: capture\.enabled/);
  });

  it('ignores, with a warning and without deleting, rows that no longer pass the schema', () => {
    const insert = db.prepare('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, 1)');
    insert.run('retention.flowsDays', '-3');
    insert.run('retention.packetsDays', '{not json');
    insert.run('future.setting', '"x"');
    const settings = new SettingsStore(db, log).all();
    expect(settings['retention.flowsDays']).toBe(30);
    expect(settings['retention.packetsDays']).toBe(7);
    expect(lines.join('\n')).toMatch(/retention\.flowsDays/);
    expect(lines.join('\n')).toMatch(/retention\.packetsDays/);
    expect(db.prepare('SELECT count(*) FROM settings').pluck().get()).toBe(3);
  });

  it('has a fingerprint that changes with every change', () => {
    const settings = new SettingsStore(db, log);
    const a = settings.fingerprint();
    settings.set('capture.filter', 'tcp');
    const b = settings.fingerprint();
    settings.set('capture.filter', 'udp');
    const c = settings.fingerprint();
    settings.reset('capture.filter');
    expect(new Set([a, b, c]).size).toBe(3);
    expect(settings.fingerprint()).toBe(a);
  });
});
