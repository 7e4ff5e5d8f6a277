import cron from 'node-cron';
import { describe, expect, it } from 'vitest';
import { defaultSettings } from '../../../../src/shared/settings';
import { checkRetention, cleanupSchedule, retentionCutoffs, sizeCapBytes } from '../../../../src/main/engine/maintain/retention';

const DAY = 86_400_000;
const NOW = Date.UTC(2025, 5, 15, 3, 30);

describe('retentionCutoffs', () => {
  it('keeps 30 days of round sockets, 7 of packets and 30 of flows by default', () => {
    expect(retentionCutoffs(defaultSettings(), NOW)).toEqual({ roundPorts: NOW - 30 * DAY, packets: NOW - 7 * DAY, flows: NOW - 30 * DAY, reports: NOW - 90 * DAY });
  });

  it('follows each setting on its own', () => {
    const settings = { ...defaultSettings(), 'retention.roundPortsDays': 90, 'retention.packetsDays': 1, 'retention.flowsDays': 3650, 'retention.reportsDays': 14 };
    expect(retentionCutoffs(settings, NOW)).toEqual({ roundPorts: NOW - 90 * DAY, packets: NOW - DAY, flows: NOW - 3650 * DAY, reports: NOW - 14 * DAY });
  });

  it('refuses values the settings schema refuses, naming the setting and what it allows', () => {
    const bad = (key: string, value: unknown) => () => retentionCutoffs({ ...defaultSettings(), [key]: value }, NOW);
    expect(bad('retention.packetsDays', 0)).toThrow(/^retention\.packetsDays must be a whole number of days from 1 to 3650; got 0$/);
    expect(bad('retention.flowsDays', 2.5)).toThrow(/retention\.flowsDays must be a whole number of days/);
    expect(bad('retention.roundPortsDays', '30')).toThrow(/retention\.roundPortsDays .*; got "30"/);
    expect(bad('retention.maxDatabaseMb', 10)).toThrow(/retention\.maxDatabaseMb must be 0 \(no cap\) or at least 50 megabytes; got 10/);
    expect(bad('retention.packetsDays', undefined)).toThrow(/got nothing/);
    expect(() => retentionCutoffs(defaultSettings(), Number.NaN)).toThrow(/finite epoch time/);
    expect(() => checkRetention(null as never)).toThrow(/retention settings are missing/);
  });
});

describe('sizeCapBytes', () => {
  it('is null for no cap and counts megabytes of 2^20 bytes', () => {
    expect(sizeCapBytes(0)).toBeNull();
    expect(sizeCapBytes(2048)).toBe(2048 * 1024 * 1024);
    expect(() => sizeCapBytes(-1)).toThrow(/retention\.maxDatabaseMb/);
  });
});

describe('cleanupSchedule', () => {
  it('runs once a day at the local time given, at second 0', async () => {
    expect(cleanupSchedule('03:30')).toBe('0 30 3 * * *');
    expect(cleanupSchedule('00:00')).toBe('0 0 0 * * *');
    expect(cleanupSchedule('23:59')).toBe('0 59 23 * * *');
    for (const t of ['03:30', '00:00', '23:59']) expect(cron.validate(cleanupSchedule(t))).toBe(true);
    // node-cron reads it in this process's time zone: 03:30 on the clock the user sees.
    const task = cron.createTask(cleanupSchedule('03:30'), () => undefined);
    for (const d of task.getNextRuns(3)) expect([d.getHours(), d.getMinutes(), d.getSeconds()]).toEqual([3, 30, 0]);
    await task.destroy();
  });

  it('refuses anything but HH:MM in 24-hour time, with the setting\'s message', () => {
    for (const t of ['3:30', '24:00', '12:60', '3am', '', ' 03:30']) {
      expect(() => cleanupSchedule(t)).toThrow(/^schedule\.cleanupAt must be a time of day as HH:MM \(24-hour\)/);
    }
    expect(() => cleanupSchedule(330 as never)).toThrow(/schedule\.cleanupAt .*; got 330/);
  });
});
