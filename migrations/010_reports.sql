-- Schema version 10: the daily reports (docs/report.md).

-- One row per daily report built, by the local day it was built for: the report of a day covers
-- the 24 hours before that day's `report.dailyAt`. The row is written once the report's files
-- are in place, so a day with a row is never built again by the schedule (a missed time is made
-- up once, at the next start). `summary` is the JSON of the counts the notification tells.
-- The report e-mail is tracked here: 'off' when no e-mail was set up at build time, 'pending'
-- until the SMTP server took it (mail_error: why the last attempt failed; it is tried again at
-- the next round), 'sent' after.
CREATE TABLE reports (
  day           TEXT    PRIMARY KEY CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
  period_from   INTEGER NOT NULL,
  period_to     INTEGER NOT NULL,
  built_at      INTEGER NOT NULL,
  trigger       TEXT    NOT NULL CHECK (trigger IN ('schedule', 'catch-up', 'manual')),
  summary       TEXT    NOT NULL,
  mail_status   TEXT    NOT NULL DEFAULT 'off' CHECK (mail_status IN ('off', 'pending', 'sent')),
  mail_attempts INTEGER NOT NULL DEFAULT 0 CHECK (mail_attempts >= 0),
  mail_error    TEXT,
  mail_at       INTEGER,
  CHECK (period_to > period_from)
) WITHOUT ROWID;
-- The e-mails still to send, read after every round.
CREATE INDEX reports_mail_pending ON reports (day) WHERE mail_status = 'pending';

-- The daily cleanup removes report files past `retention.reportsDays`, and counts them.
ALTER TABLE cleanup_runs ADD COLUMN removed_report_files INTEGER NOT NULL DEFAULT 0 CHECK (removed_report_files >= 0);
