-- Schema version 8: what the traffic features need to know about the past (docs/detection.md,
-- "Traffic features").

-- Per (process identity, remote end), the first round in which that process held a socket to
-- it. "Never seen before for this process" is then one primary-key lookup, whatever the length
-- of the history, and it outlives the spans it was derived from (the daily cleanup removes
-- spans; a remote end the process talked to a month ago is still not new). Written by
-- ConnectionStore when it opens a span; rows are never updated, since rounds are written in
-- order and the first insert is the earliest. Rounds are not referenced: they go with retention.
CREATE TABLE endpoint_owners (
  process_id     INTEGER NOT NULL REFERENCES processes (id),
  endpoint_id    INTEGER NOT NULL REFERENCES remote_endpoints (id),
  first_round_id INTEGER NOT NULL,
  first_seen_at  INTEGER NOT NULL,
  PRIMARY KEY (process_id, endpoint_id)
) WITHOUT ROWID;

INSERT INTO endpoint_owners (process_id, endpoint_id, first_round_id, first_seen_at)
SELECT s.process_id, s.endpoint_id, min(s.first_round_id), coalesce(min(r.started_at), min(e.first_seen_at))
FROM connection_spans s
JOIN remote_endpoints e ON e.id = s.endpoint_id
LEFT JOIN rounds r ON r.id = s.first_round_id
WHERE s.process_id IS NOT NULL
GROUP BY s.process_id, s.endpoint_id;

-- A DNS response's code (NOERROR, NXDOMAIN, SERVFAIL, ...); NULL for a query, and for the rows
-- stored before this version. Failed lookups are what DNS tunnelling and malware's domain
-- generation leave behind, and a failed answer names no address, so nothing else records it.
ALTER TABLE packets ADD COLUMN dns_rcode TEXT;
