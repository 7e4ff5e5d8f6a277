-- Portent schema, version 1: the four tables of the product shape.
-- Times are Unix epoch milliseconds (INTEGER). Once released, this file is never edited:
-- later changes come as new numbered files.

-- One row per port-occupancy scan ("round"), written with its sockets in one transaction once
-- the scan ends; a failed scan keeps its error text. Gaps in time are never filled in.
CREATE TABLE rounds (
  id          INTEGER PRIMARY KEY,
  started_at  INTEGER NOT NULL,
  ended_at    INTEGER,
  duration_ms INTEGER CHECK (duration_ms IS NULL OR duration_ms >= 0),
  host        TEXT    NOT NULL,
  status      TEXT    NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'ok', 'failed')),
  error       TEXT,
  CHECK (ended_at IS NULL OR ended_at >= started_at)
);
-- History views and detection read rounds by time range.
CREATE INDEX rounds_started_at ON rounds (started_at);

-- Each (protocol, port number) Portent has ever seen occupied, once.
CREATE TABLE ports (
  id            INTEGER PRIMARY KEY,
  proto         TEXT    NOT NULL CHECK (proto IN ('tcp', 'udp')),
  port          INTEGER NOT NULL CHECK (port BETWEEN 0 AND 65535),
  first_seen_at INTEGER NOT NULL,
  last_seen_at  INTEGER NOT NULL,
  UNIQUE (proto, port),
  CHECK (last_seen_at >= first_seen_at)
);

-- Who owned a socket: stored once and referenced from every round, since the same few
-- programs hold the same ports minute after minute. `identity` is the JSON array
-- [name, exe, user] with null for what could not be seen, so unknown is never guessed.
CREATE TABLE processes (
  id            INTEGER PRIMARY KEY,
  identity      TEXT    NOT NULL UNIQUE,
  name          TEXT,
  exe           TEXT,
  user          TEXT,
  first_seen_at INTEGER NOT NULL
);

-- One row per socket seen in a round (a port can be held by several sockets: IPv4 and IPv6,
-- several addresses, several processes sharing it).
CREATE TABLE rounds_ports (
  id         INTEGER PRIMARY KEY,
  round_id   INTEGER NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
  port_id    INTEGER NOT NULL REFERENCES ports (id),
  family     INTEGER NOT NULL CHECK (family IN (4, 6)),
  address    TEXT    NOT NULL,
  pid        INTEGER,
  process_id INTEGER REFERENCES processes (id)
);
-- Detection and the timeline read a round's sockets; a port's history reads by port then time.
CREATE INDEX rounds_ports_round ON rounds_ports (round_id);
CREATE INDEX rounds_ports_port_round ON rounds_ports (port_id, round_id);
CREATE INDEX rounds_ports_process ON rounds_ports (process_id);

-- Per-packet header rows (never payload bytes), bounded per round by a setting.
CREATE TABLE packets (
  id         INTEGER PRIMARY KEY,
  round_id   INTEGER NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
  ts         INTEGER NOT NULL,
  protocols  TEXT    NOT NULL,
  src_addr   TEXT,
  src_port   INTEGER CHECK (src_port IS NULL OR src_port BETWEEN 0 AND 65535),
  dst_addr   TEXT,
  dst_port   INTEGER CHECK (dst_port IS NULL OR dst_port BETWEEN 0 AND 65535),
  length     INTEGER NOT NULL CHECK (length >= 0),
  tcp_flags  INTEGER,
  dns_query  TEXT,
  dns_answer TEXT,
  -- The local port this packet belongs to, where the scan saw a socket on it.
  port_id    INTEGER REFERENCES ports (id)
);
CREATE INDEX packets_round ON packets (round_id);
-- Retention deletes the oldest packets first; the UI reads packets by time.
CREATE INDEX packets_ts ON packets (ts);
CREATE INDEX packets_port ON packets (port_id) WHERE port_id IS NOT NULL;
