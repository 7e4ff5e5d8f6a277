-- Settings the user changed (a key absent here has its default from src/shared/settings.ts)
-- and a record of every daily cleanup.

CREATE TABLE settings (
  key        TEXT    PRIMARY KEY,
  value      TEXT    NOT NULL, -- JSON, validated by the shared settings schema on read and write
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE cleanup_runs (
  id                  INTEGER PRIMARY KEY,
  trigger             TEXT    NOT NULL CHECK (trigger IN ('schedule', 'manual')),
  started_at          INTEGER NOT NULL,
  ended_at            INTEGER,
  status              TEXT    NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'ok', 'failed', 'cancelled')),
  error               TEXT,
  -- What was removed, per table, and why (age or the size cap).
  removed_round_ports INTEGER NOT NULL DEFAULT 0 CHECK (removed_round_ports >= 0),
  removed_packets     INTEGER NOT NULL DEFAULT 0 CHECK (removed_packets >= 0),
  removed_flows       INTEGER NOT NULL DEFAULT 0 CHECK (removed_flows >= 0),
  removed_for_cap     INTEGER NOT NULL DEFAULT 0 CHECK (removed_for_cap >= 0),
  bytes_before        INTEGER,
  bytes_after         INTEGER,
  CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE INDEX cleanup_runs_started_at ON cleanup_runs (started_at);
