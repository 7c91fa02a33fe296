-- Factories, machines, sensors and the credentials devices and API clients authenticate with.
CREATE TABLE factories (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  timezone TEXT NOT NULL DEFAULT 'UTC',
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE machines (
  id INTEGER PRIMARY KEY,
  factory_id INTEGER NOT NULL REFERENCES factories (id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  name TEXT NOT NULL,
  auto_register_sensors INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'unknown' CHECK (status IN ('unknown', 'online', 'offline')),
  status_since_ms INTEGER,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  UNIQUE (factory_id, key)
) STRICT;

CREATE TABLE sensors (
  id INTEGER PRIMARY KEY,
  machine_id INTEGER NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  name TEXT NOT NULL,
  unit TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL DEFAULT 'gauge',
  min_value REAL,
  max_value REAL,
  resolution REAL,
  expected_interval_ms INTEGER,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  UNIQUE (machine_id, key)
) STRICT;

-- A machine's MQTT identity. The secret is kept only as a scrypt hash; rotation revokes the previous row.
CREATE TABLE device_credentials (
  id INTEGER PRIMARY KEY,
  machine_id INTEGER NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
  username TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  revoked_ms INTEGER
) STRICT;
CREATE INDEX device_credentials_active ON device_credentials (username) WHERE revoked_ms IS NULL;

CREATE TABLE api_tokens (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  scope TEXT NOT NULL CHECK (scope IN ('admin', 'read')),
  secret_hash TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  revoked_ms INTEGER
) STRICT;
