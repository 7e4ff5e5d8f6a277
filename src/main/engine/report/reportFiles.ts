import fs from 'node:fs';
import path from 'node:path';
import { DailyReportSchema, type DailyReport } from '../../../shared/contract';
import { parseReportDay } from './reportPeriod';

/**
 * Where the daily reports are kept: `reports/` beside the database, one HTML and one JSON file
 * per day, each written whole or not at all (a temporary file renamed into place), so a crash
 * never leaves half a report. The daily cleanup removes them past `retention.reportsDays`.
 */

export type ReportFormat = 'html' | 'json';

const REPORT_FILE = /^portent-report-(\d{4}-\d{2}-\d{2})\.(html|json)$/;

export function reportsDirFor(dbPath: string): string {
  return path.join(path.dirname(dbPath), 'reports');
}

export function reportFile(dbPath: string, day: string, format: ReportFormat): string {
  parseReportDay(day);
  return path.join(reportsDirFor(dbPath), `portent-report-${day}.${format}`);
}

/**
 * Writes `data` to `file` atomically: a temporary file beside it, flushed to disk, then renamed
 * over the target, then the folder flushed so the rename itself survives a power cut. The file
 * is the user's alone (0600), like the rest of the data folder.
 */
export function writeFileAtomic(file: string, data: string): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  let dirFd: number | null = null;
  try {
    dirFd = fs.openSync(dir, 'r');
    fs.fsyncSync(dirFd);
  } catch {
    // Some file systems cannot flush a folder; the rename is still atomic.
  } finally {
    if (dirFd !== null) fs.closeSync(dirFd);
  }
}

/** The report kept for `day`, or null when there is none (never built, or removed by retention) or it cannot be read. */
export function readKeptReport(dbPath: string, day: string): DailyReport | null {
  let text: string;
  try {
    text = fs.readFileSync(reportFile(dbPath, day, 'json'), 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed = DailyReportSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Removes the report files of days that ended before `cutoff` (epoch ms); returns how many. */
export function removeOldReportFiles(dbPath: string, cutoff: number): number {
  const dir = reportsDirFor(dbPath);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const m = REPORT_FILE.exec(name);
    if (!m) continue;
    let ended: number;
    try {
      const { year, month, date } = parseReportDay(m[1]!);
      ended = new Date(year, month - 1, date + 1).getTime();
    } catch {
      continue;
    }
    if (ended > cutoff) continue;
    fs.rmSync(path.join(dir, name), { force: true });
    removed += 1;
  }
  return removed;
}
