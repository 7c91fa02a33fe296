-- Readings keyed by (sensor, time): a resend of the same reading is a no-op, never a duplicate.
CREATE TABLE readings (
  sensor_id INTEGER NOT NULL,
  ts_ms INTEGER NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (sensor_id, ts_ms)
) STRICT, WITHOUT ROWID;

-- The newest reading of each sensor, kept by the writer so "latest" is one lookup per sensor.
CREATE TABLE sensor_latest (
  sensor_id INTEGER PRIMARY KEY REFERENCES sensors (id) ON DELETE CASCADE,
  ts_ms INTEGER NOT NULL,
  value REAL NOT NULL
) STRICT;

-- Every reading or message the gateway refused, with the raw payload and the reason.
CREATE TABLE rejected_readings (
  id INTEGER PRIMARY KEY,
  received_ms INTEGER NOT NULL,
  machine_id INTEGER REFERENCES machines (id) ON DELETE SET NULL,
  client_id TEXT NOT NULL,
  topic TEXT NOT NULL,
  reason TEXT NOT NULL,
  sensor_key TEXT,
  detail TEXT NOT NULL,
  payload BLOB NOT NULL,
  payload_truncated INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX rejected_readings_received ON rejected_readings (received_ms);
CREATE INDEX rejected_readings_machine ON rejected_readings (machine_id, received_ms);
