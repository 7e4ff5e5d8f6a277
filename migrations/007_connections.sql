-- Schema version 7: the sockets that talk, per process, with their remote ends.
--
-- A browser holds the same connection for minutes, a chat app for hours, so one row per socket
-- per round would grow with minutes. Instead a span says "from round A to round B, this process
-- held N sockets in this state to this remote end": a span is written when something changes
-- (a new peer, a count that moves, a state change, a new pid) and only its last round moves
-- while nothing does. Size grows with changes, not with time (docs/connections.md).

-- Every remote end this machine has talked with, once. For a connection this machine opened,
-- the peer's address and port; for one a local listener accepted, the peer's address with
-- port 0 (the peer's port is an ephemeral one, different for every connection: keeping it would
-- make a row per connection).
CREATE TABLE remote_endpoints (
  id            INTEGER PRIMARY KEY,
  proto         TEXT    NOT NULL CHECK (proto IN ('tcp', 'udp')),
  address       TEXT    NOT NULL,
  port          INTEGER NOT NULL CHECK (port BETWEEN 0 AND 65535),
  first_seen_at INTEGER NOT NULL,
  last_seen_at  INTEGER NOT NULL,
  -- The name this machine last resolved to the address (a captured DNS answer), and when.
  name          TEXT,
  name_at       INTEGER,
  UNIQUE (proto, address, port),
  CHECK (last_seen_at >= first_seen_at)
);

-- A captured DNS answer names every endpoint at its address.
CREATE INDEX remote_endpoints_address ON remote_endpoints (address);

-- In every round from first_round_id to last_round_id (both included, consecutive rounds
-- only), `count` sockets of this owner in this state to this remote end. `direction` 'out':
-- this machine opened them; 'in': a local listener accepted them, on `local_port`.
CREATE TABLE connection_spans (
  id             INTEGER PRIMARY KEY,
  first_round_id INTEGER NOT NULL REFERENCES rounds (id),
  last_round_id  INTEGER NOT NULL REFERENCES rounds (id),
  endpoint_id    INTEGER NOT NULL REFERENCES remote_endpoints (id),
  direction      TEXT    NOT NULL CHECK (direction IN ('out', 'in')),
  local_port     INTEGER CHECK (local_port IS NULL OR local_port BETWEEN 0 AND 65535),
  state          TEXT    NOT NULL CHECK (state IN ('syn-sent', 'syn-recv', 'established', 'fin-wait-1', 'fin-wait-2', 'close-wait', 'last-ack', 'closing', 'connected')),
  pid            INTEGER,
  process_id     INTEGER REFERENCES processes (id),
  count          INTEGER NOT NULL CHECK (count >= 1),
  CHECK (last_round_id >= first_round_id),
  CHECK ((direction = 'in') = (local_port IS NOT NULL))
);
-- A round's connections: the spans that end at or after it, among those that started by then.
CREATE INDEX connection_spans_last ON connection_spans (last_round_id, first_round_id);
CREATE INDEX connection_spans_endpoint ON connection_spans (endpoint_id, last_round_id);
CREATE INDEX connection_spans_process ON connection_spans (process_id, last_round_id);

-- Captured flows name their process for outbound traffic too (matched to the round's
-- connections); a process's traffic is read by process and time.
CREATE INDEX flows_process_ts ON flows (process_id, first_ts) WHERE process_id IS NOT NULL;

-- The daily cleanup removes spans that ended past the per-round retention, and counts them.
ALTER TABLE cleanup_runs ADD COLUMN removed_connections INTEGER NOT NULL DEFAULT 0 CHECK (removed_connections >= 0);
