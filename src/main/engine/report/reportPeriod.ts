import { checkSetting } from '../../../shared/settings';
import { REPORT_DAY } from '../../../shared/contract';

/**
 * Which day's report is due and what time it covers, decided without a database or a clock so
 * the rules are tested on their own. The report of a day D covers the 24 hours before D's
 * `report.dailyAt`, local time; across a daylight saving change that is 23 or 25 hours, from
 * the same clock time the day before.
 */

export interface ReportPeriod {
  day: string;
  from: number;
  to: number;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** The local calendar day of an instant, as YYYY-MM-DD. */
export function localDay(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** A day typed by a person (`--day`, the window's route): a real calendar day, or a RangeError saying what is wanted. */
export function parseReportDay(text: string): { year: number; month: number; date: number } {
  const m = REPORT_DAY.test(text) ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(text) : null;
  if (m) {
    const [year, month, date] = [Number(m[1]), Number(m[2]), Number(m[3])];
    // 2026-02-30 rolls over to March: not a day.
    const check = new Date(year, month - 1, date);
    if (check.getFullYear() === year && check.getMonth() === month - 1 && check.getDate() === date) return { year, month, date };
  }
  throw new RangeError(`'${text}' is not a day: use a calendar day as YYYY-MM-DD, like 2026-12-05`);
}

function clock(dailyAt: string): [number, number] {
  const check = checkSetting('report.dailyAt', dailyAt);
  if (!check.ok) throw new RangeError(check.error);
  const [h, m] = check.value.split(':').map(Number);
  return [h!, m!];
}

/** The period the report of `day` covers, with `dailyAt` ("HH:MM") local time as its end. */
export function reportPeriod(day: string, dailyAt: string): ReportPeriod {
  const { year, month, date } = parseReportDay(day);
  const [h, m] = clock(dailyAt);
  return { day, from: new Date(year, month - 1, date - 1, h, m).getTime(), to: new Date(year, month - 1, date, h, m).getTime() };
}

/** The newest report whose period has ended at `now`: today's once its time has passed, else yesterday's. */
export function latestReportPeriod(now: number, dailyAt: string): ReportPeriod {
  const today = reportPeriod(localDay(now), dailyAt);
  if (today.to <= now) return today;
  const d = new Date(now);
  return reportPeriod(localDay(new Date(d.getFullYear(), d.getMonth(), d.getDate() - 1, 12).getTime()), dailyAt);
}
