-- Alert rules and the alerts they open. Rules scope to one sensor or to every sensor of a kind on a
-- machine or in a factory; the condition is a JSON document validated by the API.
CREATE TABLE alert_rules (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  scope TEXT NOT NULL CHECK (scope IN ('sensor', 'machine', 'factory')),
  sensor_id INTEGER REFERENCES sensors (id) ON DELETE CASCADE,
  machine_id INTEGER REFERENCES machines (id) ON DELETE CASCADE,
  factory_id INTEGER REFERENCES factories (id) ON DELETE CASCADE,
  sensor_kind TEXT,
  condition TEXT NOT NULL,
  for_duration_ms INTEGER NOT NULL DEFAULT 0,
  for_readings INTEGER NOT NULL DEFAULT 0,
  severity TEXT NOT NULL CHECK (severity IN ('critical', 'major', 'minor', 'warning', 'info')),
  message_template TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE alerts (
  id INTEGER PRIMARY KEY,
  rule_id INTEGER NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
  sensor_id INTEGER NOT NULL REFERENCES sensors (id) ON DELETE CASCADE,
  state TEXT NOT NULL CHECK (state IN ('active', 'acknowledged', 'cleared')),
  severity TEXT NOT NULL,
  message TEXT NOT NULL,
  opened_ms INTEGER NOT NULL,
  last_value REAL,
  last_ts_ms INTEGER,
  trigger_count INTEGER NOT NULL DEFAULT 1,
  acknowledged_ms INTEGER,
  acknowledged_by TEXT,
  ack_comment TEXT,
  cleared_ms INTEGER,
  cleared_by TEXT
) STRICT;
-- At most one open alert per rule and sensor: re-triggering updates it instead of duplicating it.
CREATE UNIQUE INDEX alerts_open ON alerts (rule_id, sensor_id) WHERE state <> 'cleared';
CREATE INDEX alerts_state ON alerts (state, opened_ms);

CREATE TABLE alert_events (
  id INTEGER PRIMARY KEY,
  alert_id INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
  at_ms INTEGER NOT NULL,
  event TEXT NOT NULL,
  actor TEXT,
  detail TEXT
) STRICT;
CREATE INDEX alert_events_alert ON alert_events (alert_id, at_ms);
