import type { Db } from '../store/database';
import type { Logger } from '../log';
import type { Settings } from '../../../shared/settings';
import type { DailyReport, ReportSummary } from '../../../shared/contract';
import { detectorPlan } from '../monitorPlan';
import { buildReport } from './buildReport';
import { latestReportPeriod, reportPeriod, type ReportPeriod } from './reportPeriod';
import { readKeptReport, reportFile, writeFileAtomic } from './reportFiles';
import { reportHtml } from './reportHtml';
import { reportText } from './reportText';
import { ReportStore, type ReportTrigger } from './reportStore';
import { mailSettings, sendReportMail, type MailSettings } from './reportMail';

/**
 * The daily report's job: which report is due, building it once (its files, then its row), and
 * sending the e-mails still waiting. The monitor calls it after every round and at start, so a
 * report time passed while the machine slept or Portent was stopped is made up at the next
 * chance, once: only the newest period that has ended is built, and a day with a row is done.
 */

export interface ReportContext {
  db: Db;
  dbPath: string;
  settings: Settings;
  now: number;
  log: Logger;
  host?: string;
}

export interface BuiltReport {
  day: string;
  trigger: ReportTrigger;
  summary: ReportSummary;
  html: string;
  json: string;
}

/** How far back a report time missed while Portent was stopped is looked for. */
export const CATCH_UP_DAYS = 31;

/**
 * The report due at `now`, or null. Normally the newest period that has ended, unless it is
 * built. After a stop or a sleep over several report times, one report is made up: the newest
 * period not built yet in which Portent recorded anything (a weekend switched off gives the
 * report of the last day it ran, not one of an empty day). Null when reports are off, or no
 * period since the newest report built holds a round.
 */
export function dueReport(db: Db, settings: Pick<Settings, 'report.enabled' | 'report.dailyAt'>, now: number): ReportPeriod | null {
  if (!settings['report.enabled']) return null;
  const dailyAt = settings['report.dailyAt'];
  const newestBuilt = new ReportStore(db).newestDay();
  const recorded = db.prepare<[number, number], number>('SELECT 1 FROM rounds WHERE started_at >= ? AND started_at < ? LIMIT 1').pluck();
  let period = latestReportPeriod(now, dailyAt);
  for (let k = 0; k < CATCH_UP_DAYS; k++) {
    if (newestBuilt !== null && period.day <= newestBuilt) return null;
    if (recorded.get(period.from, period.to) !== undefined) return period;
    period = latestReportPeriod(period.from, dailyAt);
  }
  return null;
}

/** A day's report from the database, as of `now`. */
export function reportOf(c: Pick<ReportContext, 'db' | 'dbPath' | 'settings' | 'now' | 'host'>, period: ReportPeriod): DailyReport {
  return buildReport(c.db, period, { dbPath: c.dbPath, roundsNeeded: detectorPlan(c.settings).minTrainingRounds, now: c.now, ...(c.host ? { host: c.host } : {}) });
}

/**
 * Builds `period`'s report, writes its HTML and JSON files (each atomically), then records it;
 * a crash between the two leaves files and no row, and the report is built again.
 */
export function buildAndKeep(c: ReportContext, period: ReportPeriod, trigger: ReportTrigger): BuiltReport {
  const report = reportOf(c, period);
  const html = reportFile(c.dbPath, period.day, 'html');
  const json = reportFile(c.dbPath, period.day, 'json');
  writeFileAtomic(json, JSON.stringify(report, null, 2) + '\n');
  writeFileAtomic(html, reportHtml(report));
  new ReportStore(c.db).record({ day: period.day, from: period.from, to: period.to, builtAt: c.now, trigger, summary: report.summary, mail: mailSettings(c.settings) !== null });
  c.log.info('daily report built', { day: period.day, trigger, ...report.summary, html });
  return { day: period.day, trigger, summary: report.summary, html, json };
}

/**
 * Builds the due report, if one is: 'catch-up' when its time passed before the monitor started
 * (`startedAt`), 'schedule' otherwise. Null when none is due.
 */
export function runDueReport(c: ReportContext, startedAt: number): BuiltReport | null {
  const period = dueReport(c.db, c.settings, c.now);
  if (!period) return null;
  return buildAndKeep(c, period, period.to < startedAt ? 'catch-up' : 'schedule');
}

/** A day's report for `portent report` and the window: the kept one when there is one, else built now. */
export function reportForDay(c: Pick<ReportContext, 'db' | 'dbPath' | 'settings' | 'now'>, day: string | undefined): DailyReport {
  const dailyAt = c.settings['report.dailyAt'];
  const period = day === undefined ? latestReportPeriod(c.now, dailyAt) : reportPeriod(day, dailyAt);
  if (period.to > c.now) {
    throw new RangeError(`the report of ${period.day} covers the 24 hours up to ${dailyAt} that day, which has not come yet; the newest is ${latestReportPeriod(c.now, dailyAt).day}`);
  }
  return readKeptReport(c.dbPath, period.day) ?? reportOf(c, period);
}

export interface MailOutcome {
  sent: string[];
  /** The day that failed and why; later days wait behind it. */
  failed: { day: string; error: string } | null;
}

type Send = (m: MailSettings, report: DailyReport, html: string, text: string) => Promise<void>;

/**
 * Sends the reports whose e-mail is waiting, oldest first, stopping at the first failure (the
 * server is down, the next would fail too). A failure is recorded on the report and logged with
 * its reason; the report stays waiting for the next round. Never throws for a delivery failure.
 */
export async function deliverPendingMail(c: ReportContext, send: Send = sendReportMail): Promise<MailOutcome> {
  const outcome: MailOutcome = { sent: [], failed: null };
  const m = mailSettings(c.settings);
  const store = new ReportStore(c.db);
  const pending = store.pendingMail();
  if (pending.length === 0) return outcome;
  if (!m) {
    c.log.warn('daily report e-mails wait: no SMTP server or recipient is set (report.smtp.host, report.smtp.to)', { waiting: pending.length });
    return outcome;
  }
  for (const entry of pending) {
    const report = readKeptReport(c.dbPath, entry.day) ?? reportOf(c, { day: entry.day, from: entry.from, to: entry.to });
    try {
      await send(m, report, reportHtml(report), reportText(report));
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      store.mailFailed(entry.day, c.now, error);
      c.log.warn('daily report e-mail failed; it is tried again at the next round', { day: entry.day, attempt: entry.mail.attempts + 1, server: `${m.host}:${m.port}`, error });
      outcome.failed = { day: entry.day, error };
      return outcome;
    }
    store.mailSent(entry.day, c.now);
    c.log.info('daily report e-mailed', { day: entry.day, to: m.to, attempt: entry.mail.attempts + 1 });
    outcome.sent.push(entry.day);
  }
  return outcome;
}
