-- Schema version 6: who usually holds each port, an owner change as an incident's explanation,
-- and a model's learning progress apart from what it trained on.

-- Per (port, process identity), the learnable rounds (normal, or approved by the user) in which
-- that process held the port. A known port held by a process never seen holding it is an owner
-- change (`new-owner`); a process that binds many high UDP ports is a client whose random ports
-- are counted, not placed, in the model's input. Rounds the user has not approved never count:
-- an intruder is never learned as a port's owner.
CREATE TABLE port_owners (
  port_id        INTEGER NOT NULL REFERENCES ports (id),
  process_id     INTEGER NOT NULL REFERENCES processes (id),
  rounds         INTEGER NOT NULL CHECK (rounds >= 1),
  first_round_id INTEGER NOT NULL,
  last_round_id  INTEGER NOT NULL,
  PRIMARY KEY (port_id, process_id),
  CHECK (last_round_id >= first_round_id)
) WITHOUT ROWID;

INSERT INTO port_owners (port_id, process_id, rounds, first_round_id, last_round_id)
SELECT rp.port_id, rp.process_id, count(DISTINCT rp.round_id), min(rp.round_id), max(rp.round_id)
FROM rounds_ports rp JOIN round_scores s ON s.round_id = rp.round_id
WHERE rp.process_id IS NOT NULL
  AND (s.anomalous = 0 OR EXISTS (SELECT 1 FROM expected_rounds e WHERE e.round_id = rp.round_id))
GROUP BY rp.port_id, rp.process_id;

-- Rounds of history a model has taken in (what its learning period counts); rounds_trained
-- now counts training windows. Until now rounds_trained held the former, so it is copied.
ALTER TABLE models ADD COLUMN rounds_seen INTEGER NOT NULL DEFAULT 0 CHECK (rounds_seen >= 0);
UPDATE models SET rounds_seen = rounds_trained;

-- incident_ports again, with 'new-owner' among the directions and, for it, the port's usual owner.
CREATE TABLE incident_ports_v6 (
  incident_id   INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  rank          INTEGER NOT NULL CHECK (rank >= 0),
  proto         TEXT    NOT NULL CHECK (proto IN ('tcp', 'udp')),
  port          INTEGER NOT NULL CHECK (port BETWEEN 0 AND 65535),
  direction     TEXT    NOT NULL CHECK (direction IN ('appeared', 'vanished', 'unusual-hour', 'new-owner')),
  share         REAL    NOT NULL CHECK (share >= 0 AND share <= 1),
  expected      REAL    NOT NULL CHECK (expected >= 0 AND expected <= 1),
  process       TEXT,
  exe           TEXT,
  pid           INTEGER,
  first_seen_at INTEGER,
  usual_process TEXT,
  usual_exe     TEXT,
  PRIMARY KEY (incident_id, rank)
) WITHOUT ROWID;
INSERT INTO incident_ports_v6 (incident_id, rank, proto, port, direction, share, expected, process, exe, pid, first_seen_at)
SELECT incident_id, rank, proto, port, direction, share, expected, process, exe, pid, first_seen_at FROM incident_ports;
DROP TABLE incident_ports;
ALTER TABLE incident_ports_v6 RENAME TO incident_ports;

-- A detection run is 'full' (score, refit, recalibrate: the hourly job) or 'score' (the rounds
-- waiting, right after a round that changed what listens, so an incident is told at once).
ALTER TABLE detection_runs ADD COLUMN scope TEXT NOT NULL DEFAULT 'full' CHECK (scope IN ('full', 'score'));
