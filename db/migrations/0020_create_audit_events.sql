-- Security-relevant refusals (MQTT and HTTP), aggregated: one row per source, reason and client per window,
-- with a count, so a flood of refusals adds a bounded number of rows.
CREATE TABLE audit_events (
  id INTEGER PRIMARY KEY,
  first_ms INTEGER NOT NULL,
  last_ms INTEGER NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('mqtt', 'http')),
  reason TEXT NOT NULL,
  client_id TEXT,
  username TEXT,
  remote_address TEXT,
  detail TEXT,
  count INTEGER NOT NULL
) STRICT;
CREATE INDEX audit_events_last ON audit_events (last_ms);
