-- Schema version 3: what the hourly detector produces. Times are Unix epoch milliseconds.

-- One row per detection (hourly or asked for by hand), whatever its outcome.
CREATE TABLE detection_runs (
  id             INTEGER PRIMARY KEY,
  trigger        TEXT    NOT NULL CHECK (trigger IN ('schedule', 'manual')),
  started_at     INTEGER NOT NULL,
  ended_at       INTEGER,
  rounds_scored  INTEGER NOT NULL DEFAULT 0 CHECK (rounds_scored >= 0),
  incidents      INTEGER NOT NULL DEFAULT 0 CHECK (incidents >= 0),
  backend        TEXT,
  model_version  INTEGER,
  status         TEXT    NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'ok', 'failed', 'cancelled')),
  error          TEXT,
  CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE INDEX detection_runs_started_at ON detection_runs (started_at);

-- Each saved model's record; the weights themselves live in the model folder of the data dir.
CREATE TABLE models (
  version        INTEGER PRIMARY KEY,
  created_at     INTEGER NOT NULL,
  backend        TEXT    NOT NULL,
  threshold      REAL,
  architecture   TEXT    NOT NULL, -- JSON: the model config
  history        TEXT    NOT NULL, -- JSON: per epoch {loss, valLoss}
  rounds_trained INTEGER NOT NULL CHECK (rounds_trained >= 0)
);

-- One score per round: a round is "unscored" exactly when it has no row here.
CREATE TABLE round_scores (
  round_id      INTEGER PRIMARY KEY REFERENCES rounds (id) ON DELETE CASCADE,
  run_id        INTEGER NOT NULL REFERENCES detection_runs (id) ON DELETE CASCADE,
  score         REAL    NOT NULL,
  threshold     REAL,   -- NULL while learning: nothing is compared
  anomalous     INTEGER NOT NULL CHECK (anomalous IN (0, 1)),
  model_version INTEGER NOT NULL
);
CREATE INDEX round_scores_run ON round_scores (run_id);
-- Refit draws its replay sample from the normal rounds.
CREATE INDEX round_scores_anomalous ON round_scores (anomalous, round_id);

-- Rounds the user approved as expected: refit learns them even when they were anomalous.
CREATE TABLE expected_rounds (
  round_id   INTEGER PRIMARY KEY REFERENCES rounds (id) ON DELETE CASCADE,
  marked_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- Consecutive anomalous rounds, merged, with the sentence the notification shows.
CREATE TABLE incidents (
  id             INTEGER PRIMARY KEY,
  run_id         INTEGER REFERENCES detection_runs (id) ON DELETE SET NULL,
  start_round_id INTEGER NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
  end_round_id   INTEGER NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
  started_at     INTEGER NOT NULL,
  ended_at       INTEGER NOT NULL,
  rounds         INTEGER NOT NULL CHECK (rounds >= 1),
  peak_score     REAL    NOT NULL,
  threshold      REAL    NOT NULL,
  status         TEXT    NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'seen', 'expected', 'dismissed')),
  sentence       TEXT    NOT NULL,
  CHECK (ended_at >= started_at)
);
CREATE INDEX incidents_started_at ON incidents (started_at);
CREATE INDEX incidents_end_round ON incidents (end_round_id);
CREATE INDEX incidents_status ON incidents (status, started_at);

-- The ports that explain an incident, most contributing first.
CREATE TABLE incident_ports (
  incident_id   INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  rank          INTEGER NOT NULL CHECK (rank >= 0),
  proto         TEXT    NOT NULL CHECK (proto IN ('tcp', 'udp')),
  port          INTEGER NOT NULL CHECK (port BETWEEN 0 AND 65535),
  direction     TEXT    NOT NULL CHECK (direction IN ('appeared', 'vanished', 'unusual-hour')),
  share         REAL    NOT NULL CHECK (share >= 0 AND share <= 1),
  expected      REAL    NOT NULL CHECK (expected >= 0 AND expected <= 1),
  process       TEXT,
  exe           TEXT,
  pid           INTEGER,
  first_seen_at INTEGER,
  PRIMARY KEY (incident_id, rank)
) WITHOUT ROWID;
