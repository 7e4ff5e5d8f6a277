-- Schema version 14: the stretches of time each incident covers. An incident is one cause; the
-- same cause coming back after a pause (a listener the model never learned, opened again the
-- next morning by the same program) continues its incident without a new announcement, so the
-- span from its first to its last round may hold hours it did not cover. What the user says of
-- an incident ("expected") applies to the rounds of its episodes only, never to another
-- incident's rounds inside that span. Existing incidents become one episode each.
CREATE TABLE incident_episodes (
  incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  started_at  INTEGER NOT NULL,
  ended_at    INTEGER NOT NULL,
  CHECK (ended_at >= started_at),
  PRIMARY KEY (incident_id, started_at)
) WITHOUT ROWID;
INSERT INTO incident_episodes (incident_id, started_at, ended_at) SELECT id, started_at, ended_at FROM incidents;
CREATE INDEX incident_episodes_time ON incident_episodes (started_at, ended_at);

-- Every incident starts with its first episode, and extending an incident extends its latest
-- episode; a recurrence inserts its new episode before it extends the incident.
CREATE TRIGGER incident_first_episode AFTER INSERT ON incidents BEGIN
  INSERT INTO incident_episodes (incident_id, started_at, ended_at) VALUES (NEW.id, NEW.started_at, NEW.ended_at);
END;
CREATE TRIGGER incident_latest_episode AFTER UPDATE OF ended_at ON incidents BEGIN
  UPDATE incident_episodes SET ended_at = max(NEW.ended_at, started_at)
  WHERE incident_id = NEW.id AND started_at = (SELECT max(started_at) FROM incident_episodes WHERE incident_id = NEW.id);
END;
