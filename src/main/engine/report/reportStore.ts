import type { Db } from '../store/database';
import { ReportSummarySchema, type ReportEntry, type ReportSummary } from '../../../shared/contract';

/**
 * The `reports` table (migration 010): one row per day whose report was built, written after
 * its files, and the state of its e-mail.
 */

export type ReportTrigger = ReportEntry['trigger'];
export type MailStatus = ReportEntry['mail']['status'];

interface Row {
  day: string;
  period_from: number;
  period_to: number;
  built_at: number;
  trigger: ReportTrigger;
  summary: string;
  mail_status: MailStatus;
  mail_attempts: number;
  mail_error: string | null;
}

function entryOf(r: Row): ReportEntry {
  const summary = ReportSummarySchema.safeParse(JSON.parse(r.summary));
  return {
    day: r.day,
    from: r.period_from,
    to: r.period_to,
    builtAt: r.built_at,
    trigger: r.trigger,
    summary: summary.success ? summary.data : { incidents: 0, newListeners: 0, newTalkers: 0 },
    mail: { status: r.mail_status, attempts: r.mail_attempts, error: r.mail_error },
  };
}

export class ReportStore {
  constructor(private readonly db: Db) {}

  /** Records a built report; a day already recorded keeps its first row (and its e-mail state). */
  record(r: { day: string; from: number; to: number; builtAt: number; trigger: ReportTrigger; summary: ReportSummary; mail: boolean }): boolean {
    const result = this.db
      .prepare(
        `INSERT INTO reports (day, period_from, period_to, built_at, trigger, summary, mail_status) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (day) DO NOTHING`,
      )
      .run(r.day, r.from, r.to, r.builtAt, r.trigger, JSON.stringify(r.summary), r.mail ? 'pending' : 'off');
    return result.changes === 1;
  }

  get(day: string): ReportEntry | null {
    const row = this.db.prepare<[string], Row>('SELECT * FROM reports WHERE day = ?').get(day);
    return row ? entryOf(row) : null;
  }

  list(limit: number): ReportEntry[] {
    return this.db.prepare<[number], Row>('SELECT * FROM reports ORDER BY day DESC LIMIT ?').all(limit).map(entryOf);
  }

  /** The newest day recorded, or null. */
  newestDay(): string | null {
    return this.db.prepare<[], string | null>('SELECT max(day) FROM reports').pluck().get() ?? null;
  }

  /** Reports whose e-mail the SMTP server has not taken yet, oldest first. */
  pendingMail(): ReportEntry[] {
    return this.db.prepare<[], Row>("SELECT * FROM reports WHERE mail_status = 'pending' ORDER BY day").all().map(entryOf);
  }

  mailSent(day: string, at: number): void {
    this.db.prepare("UPDATE reports SET mail_status = 'sent', mail_attempts = mail_attempts + 1, mail_error = NULL, mail_at = ? WHERE day = ?").run(at, day);
  }

  mailFailed(day: string, at: number, error: string): void {
    this.db.prepare('UPDATE reports SET mail_attempts = mail_attempts + 1, mail_error = ?, mail_at = ? WHERE day = ?').run(error, at, day);
  }
}
