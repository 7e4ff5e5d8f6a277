-- Schema version 12: port occupancy older than an hour kept as runs (docs/architecture.md,
-- "Storage").
--
-- The same programs hold the same listeners minute after minute, so one row per socket per round
-- grows with minutes: 300 listeners make 432,000 rows a day. A run says "in every round from
-- first_round_id to last_round_id (consecutive round ids, both included), `count` sockets with
-- this port, family, address, pid and owner". Only its last round moves while nothing changes,
-- so history grows with changes. rounds_ports keeps the newest hour row by row (the capture
-- links its packets to the round just written; the detector scores the last hour first); the
-- collector moves older rounds into runs as it goes (store/compaction.ts), and this migration
-- moves what an existing database holds.
--
-- A run is at most 240 rounds long: the runs that cover round X end in [X, X + 239], one
-- bounded range of rounds_ports_runs_last, however long the history.
CREATE TABLE rounds_ports_runs (
  id             INTEGER PRIMARY KEY,
  first_round_id INTEGER NOT NULL REFERENCES rounds (id),
  last_round_id  INTEGER NOT NULL REFERENCES rounds (id),
  port_id        INTEGER NOT NULL REFERENCES ports (id),
  family         INTEGER NOT NULL CHECK (family IN (4, 6)),
  address        TEXT    NOT NULL,
  pid            INTEGER,
  process_id     INTEGER REFERENCES processes (id),
  -- Identical sockets in one round (SO_REUSEPORT): rounds_ports has one row each.
  count          INTEGER NOT NULL DEFAULT 1 CHECK (count >= 1),
  CHECK (last_round_id >= first_round_id AND last_round_id - first_round_id < 240)
);
-- A round's runs (those ending within 240 ids after it), the run a compacted round extends,
-- and what the timeline reads of a span of rounds (port, stretch, owner) from this index alone.
CREATE INDEX rounds_ports_runs_last ON rounds_ports_runs (last_round_id, port_id, first_round_id, pid, process_id);
-- A port's history, by port; who held the ports the timeline draws, from this index alone.
CREATE INDEX rounds_ports_runs_port ON rounds_ports_runs (port_id, first_round_id, last_round_id, pid, process_id);
-- Whether a program held any listener before a time (the daily report's new listeners).
CREATE INDEX rounds_ports_runs_process ON rounds_ports_runs (process_id, first_round_id) WHERE process_id IS NOT NULL;

-- Every socket of every round, whichever table holds it: what rounds_ports alone held before.
-- Readers ask it with constant bounds on round_id or port_id, which SQLite pushes into both
-- halves; the upper bound on last_round_id (implied by the 240-round limit) keeps a lookup by
-- round one index range.
CREATE VIEW round_sockets (round_id, port_id, family, address, pid, process_id, count) AS
  SELECT round_id, port_id, family, address, pid, process_id, 1 FROM rounds_ports
  UNION ALL
  SELECT r.id, u.port_id, u.family, u.address, u.pid, u.process_id, u.count
  FROM rounds r JOIN rounds_ports_runs u
    ON u.first_round_id <= r.id AND u.last_round_id >= r.id AND u.last_round_id < r.id + 240;

-- The existing rounds but the newest hour's (by id, as the collector counts them), as runs:
-- consecutive rounds with the same sockets form an island (round id minus its rank is constant
-- along it), cut into pieces of at most 240 rounds.
CREATE TEMP TABLE compact_groups AS
  SELECT round_id, port_id, family, address, pid, process_id, count(*) AS n
  FROM rounds_ports WHERE round_id <= (SELECT max(id) FROM rounds) - 60
  GROUP BY round_id, port_id, family, address, pid, process_id;

INSERT INTO rounds_ports_runs (first_round_id, last_round_id, port_id, family, address, pid, process_id, count)
SELECT min(round_id), max(round_id), port_id, family, address, pid, process_id, n
FROM (
  SELECT *, (round_id - min(round_id) OVER (PARTITION BY port_id, family, address, pid, process_id, n, island)) / 240 AS piece
  FROM (
    SELECT *, round_id - row_number() OVER (PARTITION BY port_id, family, address, pid, process_id, n ORDER BY round_id) AS island
    FROM compact_groups
  )
)
GROUP BY port_id, family, address, pid, process_id, n, island, piece;

DELETE FROM rounds_ports WHERE round_id <= (SELECT max(id) FROM rounds) - 60;
DROP TABLE compact_groups;
