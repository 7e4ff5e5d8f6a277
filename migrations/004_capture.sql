-- Schema version 4: what packet capture adds to each round. Times are Unix epoch milliseconds.

-- Exact traffic totals per round and flow, seen from this machine (local = our side). A flow
-- whose local port was held by a socket in the round's scan points at that port and process.
CREATE TABLE flows (
  id          INTEGER PRIMARY KEY,
  round_id    INTEGER NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
  proto       TEXT    NOT NULL,
  local_addr  TEXT    NOT NULL,
  local_port  INTEGER CHECK (local_port IS NULL OR local_port BETWEEN 0 AND 65535),
  remote_addr TEXT    NOT NULL,
  remote_port INTEGER CHECK (remote_port IS NULL OR remote_port BETWEEN 0 AND 65535),
  direction   TEXT    NOT NULL CHECK (direction IN ('outbound', 'inbound', 'local', 'transit')),
  packets     INTEGER NOT NULL CHECK (packets > 0),
  bytes       INTEGER NOT NULL CHECK (bytes >= 0),
  first_ts    INTEGER NOT NULL,
  last_ts     INTEGER NOT NULL,
  tcp_flags   INTEGER NOT NULL DEFAULT 0,
  port_id     INTEGER REFERENCES ports (id),
  process_id  INTEGER REFERENCES processes (id),
  CHECK (last_ts >= first_ts)
);
-- A round's traffic; a port's traffic over time; retention deletes the oldest first.
CREATE INDEX flows_round ON flows (round_id);
CREATE INDEX flows_port_ts ON flows (port_id, first_ts) WHERE port_id IS NOT NULL;
CREATE INDEX flows_first_ts ON flows (first_ts);

-- Packets get the process beside the port, as flows do.
ALTER TABLE packets ADD COLUMN process_id INTEGER REFERENCES processes (id);

-- How capture went during a round: one row per round that had capture on, off or failing.
-- kernel_drops is NULL when the capture library cannot read it (cap 0.2.1 has no pcap_stats).
CREATE TABLE round_capture (
  round_id     INTEGER PRIMARY KEY REFERENCES rounds (id) ON DELETE CASCADE,
  iface        TEXT,
  state        TEXT    NOT NULL CHECK (state IN ('on', 'off', 'error')),
  message      TEXT,
  from_ts      INTEGER,
  to_ts        INTEGER,
  packets_seen INTEGER NOT NULL DEFAULT 0 CHECK (packets_seen >= 0),
  packets_kept INTEGER NOT NULL DEFAULT 0 CHECK (packets_kept >= 0),
  malformed    INTEGER NOT NULL DEFAULT 0 CHECK (malformed >= 0),
  kernel_drops INTEGER CHECK (kernel_drops IS NULL OR kernel_drops >= 0),
  -- DNS messages seen whose packet rows were dropped by the per-round bound.
  dns_overflow INTEGER NOT NULL DEFAULT 0 CHECK (dns_overflow >= 0),
  -- Packets of flows refused once the flow table was full (their flows are missing).
  flow_overflow INTEGER NOT NULL DEFAULT 0 CHECK (flow_overflow >= 0),
  CHECK (packets_kept <= packets_seen)
) WITHOUT ROWID;
