import path from 'node:path';
import { SettingsStore } from '../../engine/store/settingsStore';
import { reportForDay } from '../../engine/report/dailyReport';
import { parseReportDay } from '../../engine/report/reportPeriod';
import { writeFileAtomic } from '../../engine/report/reportFiles';
import { reportHtml } from '../../engine/report/reportHtml';
import { reportText } from '../../engine/report/reportText';
import { UsageError, type Command } from '../command';
import { openExistingDatabase, resolveDbPath } from '../dbOption';

const FORMATS = ['text', 'html', 'json'] as const;
type Format = (typeof FORMATS)[number];

/**
 * `portent report`: any day's daily report, as text, HTML or JSON, to stdout or a file. The kept
 * report of a day is printed as it was built; a day without one is built from the database now.
 */
export const reportCommand: Command = {
  name: 'report',
  summary: "Print or write a day's daily report (the 24 hours before report.dailyAt that day; the newest by default)",
  usage: '[--day YYYY-MM-DD] [--format text|html|json] [--out FILE] [--db PATH]',
  options: { day: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' }, db: { type: 'string' } },
  async run(ctx) {
    if (ctx.positionals.length > 0) throw new UsageError(`unexpected argument '${ctx.positionals[0]}'`);
    const format = (ctx.values.format ?? 'text') as string;
    if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be text, html or json; got '${format}'`);
    const day = ctx.values.day as string | undefined;
    if (day !== undefined) {
      try {
        parseReportDay(day);
      } catch (err) {
        throw new UsageError(`--day ${(err as Error).message}`);
      }
    }
    const out = ctx.values.out as string | undefined;
    if (out !== undefined && out.trim() === '') throw new UsageError('--out needs a file path');
    const dbPath = resolveDbPath(ctx);
    const db = openExistingDatabase(dbPath);
    let text: string;
    try {
      const settings = new SettingsStore(db).all();
      let report;
      try {
        report = reportForDay({ db, dbPath, settings, now: Date.now() }, day);
      } catch (err) {
        if (err instanceof RangeError) throw new UsageError(err.message);
        throw err;
      }
      text = render(report, format as Format);
    } finally {
      db.close();
    }
    if (out === undefined) {
      ctx.stdout.write(text);
      return 0;
    }
    const file = path.resolve(out);
    writeFileAtomic(file, text);
    ctx.stderr.write(`portent report: wrote ${file}\n`);
    return 0;
  },
};

function render(report: Parameters<typeof reportText>[0], format: Format): string {
  if (format === 'json') return JSON.stringify(report, null, 2) + '\n';
  return format === 'html' ? reportHtml(report) : reportText(report);
}
