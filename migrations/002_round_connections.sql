-- Schema version 2: per-round counts of established connections, by protocol and by the class
-- of the remote port (IANA ranges), kept as features for detection and for the history views.
CREATE TABLE round_connections (
  round_id          INTEGER NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
  proto             TEXT    NOT NULL CHECK (proto IN ('tcp', 'udp')),
  remote_port_class TEXT    NOT NULL CHECK (remote_port_class IN ('well-known', 'registered', 'dynamic')),
  count             INTEGER NOT NULL CHECK (count >= 0),
  PRIMARY KEY (round_id, proto, remote_port_class)
) WITHOUT ROWID;
