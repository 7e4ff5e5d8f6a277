-- Schema version 13: remote ends by (protocol, port) and when first seen, so that the traffic
-- model asks how many remote ends used a port before a time with a few index steps (the port's
-- rarity, traffic/portRarity.ts) instead of grouping every remote end ever seen each hour; the
-- table only grows.
CREATE INDEX remote_endpoints_port ON remote_endpoints (proto, port, first_seen_at);
