-- Schema version 9: the traffic model's scores and its incidents (docs/detection.md, "Traffic
-- model").

-- One row per (window of rounds, process identity) the traffic model scored; process_id NULL is
-- the host-wide row (traffic no process owns). The window's scaled features are kept (little-
-- endian float32, in the order of TRAFFIC_FEATURES, named in the model file) so that a refit
-- replays older windows in O(sample) without re-reading connections and flows the daily cleanup
-- may already have removed; the cleanup removes these rows with the flows' retention.
CREATE TABLE traffic_windows (
  id             INTEGER PRIMARY KEY,
  first_round_id INTEGER NOT NULL,
  last_round_id  INTEGER NOT NULL,
  started_at     INTEGER NOT NULL,
  ended_at       INTEGER NOT NULL,
  process_id     INTEGER REFERENCES processes (id),
  run_id         INTEGER REFERENCES detection_runs (id) ON DELETE SET NULL,
  model_version  INTEGER,
  score          REAL    NOT NULL,
  -- NULL while the traffic model is learning (nothing alerts).
  threshold      REAL,
  anomalous      INTEGER NOT NULL DEFAULT 0 CHECK (anomalous IN (0, 1)),
  -- Kept apart from training, for early stopping and the threshold (holdout.ts, by last_round_id).
  held_out       INTEGER NOT NULL CHECK (held_out IN (0, 1)),
  features       BLOB    NOT NULL,
  CHECK (last_round_id >= first_round_id)
);
CREATE UNIQUE INDEX traffic_windows_window ON traffic_windows (last_round_id, coalesce(process_id, 0));
CREATE INDEX traffic_windows_started ON traffic_windows (started_at);

-- What an incident is about. 'ports': the port model's (incident_ports); 'traffic': the traffic
-- model's (incident_endpoints, incident_features); 'both': a process whose listener and traffic
-- were both out of the ordinary at once, told as one story.
ALTER TABLE incidents ADD COLUMN kind TEXT NOT NULL DEFAULT 'ports' CHECK (kind IN ('ports', 'traffic', 'both'));
-- The traffic incident's process identity (NULL for the host-wide row and for port incidents).
ALTER TABLE incidents ADD COLUMN process_id INTEGER REFERENCES processes (id);
-- new-destination, beacon, volume-out, scan, dns-tunnel, or unusual-traffic.
ALTER TABLE incidents ADD COLUMN traffic_kind TEXT;

-- The remote ends a traffic incident names, most telling first.
CREATE TABLE incident_endpoints (
  incident_id     INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  rank            INTEGER NOT NULL,
  proto           TEXT    NOT NULL,
  address         TEXT    NOT NULL,
  port            INTEGER NOT NULL,
  direction       TEXT    NOT NULL CHECK (direction IN ('out', 'in')),
  name            TEXT,
  new_for_process INTEGER NOT NULL CHECK (new_for_process IN (0, 1)),
  new_anywhere    INTEGER NOT NULL CHECK (new_anywhere IN (0, 1)),
  first_seen_at   INTEGER,
  held_since      INTEGER,
  opened          INTEGER NOT NULL,
  bytes_out       INTEGER NOT NULL,
  bytes_in        INTEGER NOT NULL,
  period_ms       INTEGER,
  PRIMARY KEY (incident_id, rank)
);

-- The features that drove a traffic incident, with their share of the gradient of the window's
-- reconstruction error (GEE), the value seen and the value the model expected.
CREATE TABLE incident_features (
  incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  feature     TEXT    NOT NULL,
  share       REAL    NOT NULL,
  value       REAL    NOT NULL,
  expected    REAL    NOT NULL,
  PRIMARY KEY (incident_id, feature)
);

-- The daily cleanup removes traffic windows with the flows' retention, and says how many.
ALTER TABLE cleanup_runs ADD COLUMN removed_traffic_windows INTEGER NOT NULL DEFAULT 0 CHECK (removed_traffic_windows >= 0);
