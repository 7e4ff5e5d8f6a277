-- Schema version 16: remote ends by the name this machine resolved for them, so that the traffic
-- model asks whether a process (or any process) talked to a name before, at whatever address:
-- a name served from several addresses (a CDN, round-robin DNS, IPv4 and IPv6 of one server) is
-- one destination, not a new one at each address (traffic/trafficWindows.ts, names). A few index
-- steps per name a batch of windows talks to; the table only grows.
CREATE INDEX remote_endpoints_name ON remote_endpoints (name, proto, port, first_seen_at) WHERE name IS NOT NULL;
