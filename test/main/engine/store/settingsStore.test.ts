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

  it('names each stored value it cannot use, why, and the default used in its place', () => {
    const insert = db.prepare('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, 1)');
    insert.run('retention.flowsDays', '-3');
    insert.run('retention.packetsDays', '{not json');
    insert.run('detection.sensitivity', '"high"');
    insert.run('future.setting', '"x"');
    const settings = new SettingsStore(db, log);
    expect(settings.problems()).toEqual([
      { key: 'retention.flowsDays', stored: '-3', reason: 'retention.flowsDays must be a whole number of days from 1 to 3650; got -3; the default, 30, is used in its place' },
      { key: 'retention.packetsDays', stored: '{not json', reason: 'retention.packetsDays holds "{not json", which is not a value Portent can read; the default, 7, is used in its place' },
    ]);
    settings.set('retention.flowsDays', 10);
    expect(settings.problems().map((p) => p.key)).toEqual(['retention.packetsDays']);
    insert.run('capture.filter', JSON.stringify('x'.repeat(2000)));
    expect(settings.problems().find((p) => p.key === 'capture.filter')?.stored).toHaveLength(60);
  });

  it('runs the check against this machine after the schema, keeping the old value when it refuses', () => {
    const settings = new SettingsStore(db, log, (key, value) => (key === 'capture.interface' && value !== 'lo' && value !== '' ? `no interface ${String(value)} here` : null));
    settings.set('capture.interface', 'lo');
    expect(() => settings.set('capture.interface', 'eth9')).toThrow(new SettingError('no interface eth9 here'));
    expect(() => settings.set('capture.interface', 'a b')).toThrow(/must be an interface name/);
    expect(settings.get('capture.interface')).toBe('lo');
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
