import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Monitor, type ReportNotice } from '../../../../src/main/engine/monitor';
import { createLogger, silentLogger } from '../../../../src/main/engine/log';
import { openDatabase, type Db } from '../../../../src/main/engine/store/database';
import { SettingsStore } from '../../../../src/main/engine/store/settingsStore';
import { buildAndKeep, dueReport, reportForDay } from '../../../../src/main/engine/report/dailyReport';
import { buildReport } from '../../../../src/main/engine/report/buildReport';
import { reportPeriod } from '../../../../src/main/engine/report/reportPeriod';
import { reportFile, reportsDirFor } from '../../../../src/main/engine/report/reportFiles';
import { ReportStore } from '../../../../src/main/engine/report/reportStore';
import { runCleanup } from '../../../../src/main/engine/maintain/cleanup';
import { defaultSettings } from '../../../../src/shared/settings';
import { DailyReportSchema } from '../../../../src/shared/contract';
import { openTestDb } from '../../../support/db';
import { countConnections, type SocketEntry, type SocketScanner } from '../../../../src/main/engine/collect/sockets/types';
import { DAY, PERIOD, seedDay } from './seedDay';

const HOUR = 3_600_000;
const dbs: Db[] = [];
const monitors: Monitor[] = [];
afterEach(async () => {
  for (const m of monitors.splice(0)) await m.stop();
  for (const d of dbs.splice(0)) if (d.open) d.close();
});

function seededFile(): string {
  const { db, file } = openTestDb();
  seedDay(db);
  db.close();
  return file;
}

/** A real monitor on `file` whose clock reads `clock.now`; the daily reports it announces land in `notices`. */
function startMonitor(file: string, clock: { now: number }): { monitor: Monitor; notices: ReportNotice[]; lines: string[] } {
  const lines: string[] = [];
  const monitor = new Monitor({ dbPath: file, log: createLogger((l) => lines.push(l), 'debug'), roundSeconds: 60, capture: false, now: () => clock.now, scanner: quietMachine(clock) });
  const notices: ReportNotice[] = [];
  monitor.on('report', (n) => notices.push(n));
  monitors.push(monitor);
  monitor.start();
  return { monitor, notices, lines };
}

/** This machine's sockets stand still: sshd on 22 and 2222, python3 on 8000, as the seeded day ended. */
function quietMachine(clock: { now: number }): SocketScanner {
  const sockets: SocketEntry[] = [
    { proto: 'tcp', family: 4, address: '0.0.0.0', port: 22, pid: 812, process: 'sshd', exe: '/usr/bin/sshd', user: 'root' },
    { proto: 'tcp', family: 4, address: '0.0.0.0', port: 2222, pid: 812, process: 'sshd', exe: '/usr/bin/sshd', user: 'root' },
    { proto: 'tcp', family: 4, address: '0.0.0.0', port: 8000, pid: 5100, process: 'python3', exe: '/usr/bin/python3', user: 'ann' },
  ];
  return { scan: () => Promise.resolve({ takenAt: clock.now, sockets, connected: [], connections: countConnections([]) }) };
}

const nextReport = (m: Monitor) => new Promise<ReportNotice>((resolve) => m.once('report', resolve));
const rows = (file: string) => {
  const db = openDatabase(file, { readonly: true });
  dbs.push(db);
  return new ReportStore(db).list(100);
};
/** Lets the jobs the monitor started settle: it has nothing else to do with rounds a minute apart. */
const settle = () => new Promise((r) => setTimeout(r, 300));

describe('which report is due', () => {
  it('is none on a database that recorded nothing, and none while reports are off', () => {
    const { db } = openTestDb();
    dbs.push(db);
    expect(dueReport(db, defaultSettings(), PERIOD.to + HOUR)).toBeNull();
    seedDay(db);
    expect(dueReport(db, { ...defaultSettings(), 'report.enabled': false }, PERIOD.to + HOUR)).toBeNull();
  });

  it('is the period that has just ended, not one still running', () => {
    const { db } = openTestDb();
    dbs.push(db);
    seedDay(db);
    // Before the seeded day's report time: the day before's, which holds the two rounds at 07:00.
    expect(dueReport(db, defaultSettings(), PERIOD.to - 1)).toEqual(reportPeriod('2026-11-20', '09:00'));
    expect(dueReport(db, defaultSettings(), PERIOD.to)).toEqual(PERIOD);
    // The period follows the report time: ending at noon, it is the 24 hours up to noon.
    expect(dueReport(db, { ...defaultSettings(), 'report.dailyAt': '12:00' }, PERIOD.to + 4 * HOUR)).toEqual(reportPeriod(DAY, '12:00'));
    expect(dueReport(db, { ...defaultSettings(), 'report.dailyAt': '12:00' }, PERIOD.to + 2 * HOUR)).toEqual(reportPeriod('2026-11-20', '12:00'));
  });

  it('after days switched off, is the newest period that recorded anything, and nothing once that is built', () => {
    const { db, file } = openTestDb();
    dbs.push(db);
    seedDay(db);
    const later = PERIOD.to + 3 * 24 * HOUR + 2 * HOUR;
    expect(dueReport(db, defaultSettings(), later)).toEqual(PERIOD);
    buildAndKeep({ db, dbPath: file, settings: defaultSettings(), now: later, log: silentLogger }, PERIOD, 'catch-up');
    expect(dueReport(db, defaultSettings(), later)).toBeNull();
  });
});

describe('the monitor and the daily report', () => {
  it('makes up a report time missed while stopped at the next start, once', async () => {
    const file = seededFile();
    // Started again three days and two hours after the report time of the seeded day.
    const clock = { now: PERIOD.to + 3 * 24 * HOUR + 2 * HOUR };
    const first = startMonitor(file, clock);
    const notice = await nextReport(first.monitor);
    expect(notice).toEqual({ day: DAY, trigger: 'catch-up', summary: { incidents: 3, newListeners: 3, newTalkers: 2 } });
    await first.monitor.stop();

    const html = reportFile(file, DAY, 'html');
    const json = reportFile(file, DAY, 'json');
    expect(fs.statSync(html).mode & 0o777).toBe(0o600);
    const kept = DailyReportSchema.parse(JSON.parse(fs.readFileSync(json, 'utf8')));
    expect(kept.summary).toEqual(notice.summary);
    expect(kept.newPorts.map((p) => p.port)).toEqual([4444, 2222, 8000]);
    expect(fs.readFileSync(html, 'utf8')).toContain('Port 4444/tcp started listening: nc, never seen before.');
    // Nothing half-written is left beside them.
    expect(fs.readdirSync(reportsDirFor(file)).sort()).toEqual([`portent-report-${DAY}.html`, `portent-report-${DAY}.json`]);
    expect(first.lines.some((l) => l.includes('"msg":"daily report built"') && l.includes('"trigger":"catch-up"'))).toBe(true);

    // Started again the same day: nothing is made up a second time.
    clock.now += HOUR;
    const second = startMonitor(file, clock);
    await settle();
    await second.monitor.stop();
    expect(second.notices).toEqual([]);
    expect(rows(file).map((r) => [r.day, r.trigger])).toEqual([[DAY, 'catch-up']]);
  });

  it('builds the report once its time passes while running, at the next round', async () => {
    const file = seededFile();
    const clock = { now: PERIOD.to - 2 * HOUR };
    const { monitor, notices } = startMonitor(file, clock);
    // At start, the day before's report (its time passed before the start) is made up.
    await settle();
    expect(notices.map((n) => [n.day, n.trigger])).toEqual([['2026-11-20', 'catch-up']]);
    // A round before the report time: the period is not over, nothing is built.
    await monitor.collectNow();
    await settle();
    expect(notices).toHaveLength(1);
    clock.now = PERIOD.to + 30_000;
    const built = nextReport(monitor);
    await monitor.collectNow();
    expect(await built).toEqual({ day: DAY, trigger: 'schedule', summary: { incidents: 3, newListeners: 3, newTalkers: 2 } });
    // Further rounds the same day build nothing more.
    await monitor.collectNow();
    await settle();
    expect(notices).toHaveLength(2);
    await monitor.stop();
    expect(rows(file).map((r) => [r.day, r.trigger, r.mail.status])).toEqual([
      [DAY, 'schedule', 'off'],
      ['2026-11-20', 'catch-up', 'off'],
    ]);
  });

  it('builds nothing while reports are off', async () => {
    const file = seededFile();
    const db = openDatabase(file);
    new SettingsStore(db).set('report.enabled', false);
    db.close();
    const { monitor, notices } = startMonitor(file, { now: PERIOD.to + HOUR });
    await settle();
    await monitor.stop();
    expect(notices).toEqual([]);
    expect(rows(file)).toEqual([]);
  });
});

describe('a day\'s report on demand and the reports kept', () => {
  it('serves the kept report of a day, builds one not kept, and refuses a day not over yet', () => {
    const { db, file } = openTestDb();
    dbs.push(db);
    seedDay(db);
    const c = { db, dbPath: file, settings: defaultSettings(), now: PERIOD.to + HOUR };
    const live = reportForDay(c, DAY);
    expect(live).toEqual(buildReport(db, PERIOD, { dbPath: file, roundsNeeded: 360, now: c.now }));
    buildAndKeep({ ...c, log: silentLogger }, PERIOD, 'manual');
    // The kept file wins, even once the database has moved on.
    db.prepare('DELETE FROM incidents').run();
    expect(reportForDay({ ...c, now: c.now + HOUR }, DAY).summary.incidents).toBe(3);
    expect(reportForDay({ ...c, now: c.now + HOUR }, undefined).day).toBe(DAY);
    expect(() => reportForDay(c, '2026-11-22')).toThrow(/the report of 2026-11-22 covers the 24 hours up to 09:00 that day, which has not come yet; the newest is 2026-11-21/);
    expect(() => reportForDay(c, '2026-11-31')).toThrow(/'2026-11-31' is not a day: use a calendar day as YYYY-MM-DD/);
  });

  it('removes report files past retention.reportsDays at the daily cleanup, and counts them', async () => {
    const { db, file } = openTestDb();
    dbs.push(db);
    seedDay(db);
    buildAndKeep({ db, dbPath: file, settings: defaultSettings(), now: PERIOD.to, log: silentLogger }, PERIOD, 'schedule');
    const old = reportPeriod('2026-10-01', '09:00');
    buildAndKeep({ db, dbPath: file, settings: defaultSettings(), now: old.to, log: silentLogger }, old, 'schedule');
    fs.writeFileSync(path.join(reportsDirFor(file), 'notes.txt'), 'mine');
    const result = await runCleanup(db, { retention: { ...defaultSettings(), 'retention.reportsDays': 30 }, trigger: 'manual', dbPath: file, log: silentLogger, now: () => PERIOD.to + HOUR });
    expect(result.reportFiles).toBe(2);
    expect(fs.readdirSync(reportsDirFor(file)).sort()).toEqual(['notes.txt', `portent-report-${DAY}.html`, `portent-report-${DAY}.json`]);
    expect(db.prepare('SELECT removed_report_files FROM cleanup_runs WHERE id = ?').pluck().get(result.runId)).toBe(2);
  });
});
