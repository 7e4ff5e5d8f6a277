-- Schema version 11: what a user can do about an incident (docs/actions.md): stop its process,
-- and say a port or program is expected from now on.

-- The processes an incident names, each with what tells it from a later process given the same
-- pid: its start time in clock ticks since boot (field 22 of /proc/<pid>/stat) and its
-- executable, read when the incident was created or extended. start_ticks is NULL where it could
-- not be read, or did not match what the round saw (the process had gone, its pid reused); such
-- a process is never signalled.
CREATE TABLE incident_processes (
  incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  pid         INTEGER NOT NULL CHECK (pid > 0),
  start_ticks INTEGER CHECK (start_ticks >= 0),
  exe         TEXT,
  name        TEXT,
  uid         INTEGER,
  recorded_at INTEGER NOT NULL,
  PRIMARY KEY (incident_id, pid)
) WITHOUT ROWID;

-- What was done about an incident and how it ended, oldest first. For 'stop': sigterm (it ended
-- on SIGTERM), sigkill (it needed SIGKILL), gone (it had already ended), refused (Portent would
-- not signal it: detail says why), failed (signalled, still running).
CREATE TABLE incident_actions (
  id          INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  at          INTEGER NOT NULL,
  action      TEXT    NOT NULL CHECK (action IN ('stop')),
  pid         INTEGER,
  outcome     TEXT    NOT NULL CHECK (outcome IN ('sigterm', 'sigkill', 'gone', 'refused', 'failed')),
  detail      TEXT    NOT NULL
);
CREATE INDEX incident_actions_incident ON incident_actions (incident_id, id);

-- Expected from now on: a port (proto and port), a program (its executable or name, optionally
-- only as one user), or a program on a port. Detection never raises or extends an incident for
-- what a rule allows, and learns it as normal.
CREATE TABLE allow_rules (
  id               INTEGER PRIMARY KEY,
  proto            TEXT CHECK (proto IN ('tcp', 'udp')),
  port             INTEGER CHECK (port BETWEEN 0 AND 65535),
  process          TEXT,
  exe              TEXT,
  user             TEXT,
  created_at       INTEGER NOT NULL,
  -- The incident the rule was made from, if any (kept when the incident is cleaned up).
  from_incident_id INTEGER REFERENCES incidents (id) ON DELETE SET NULL,
  CHECK ((proto IS NULL) = (port IS NULL)),
  CHECK (port IS NOT NULL OR process IS NOT NULL OR exe IS NOT NULL),
  CHECK (user IS NULL OR process IS NOT NULL OR exe IS NOT NULL)
);
CREATE UNIQUE INDEX allow_rules_same ON allow_rules (coalesce(proto, ''), coalesce(port, -1), coalesce(process, ''), coalesce(exe, ''), coalesce(user, ''));
