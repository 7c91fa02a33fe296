-- Readings move to a hot log plus compressed per-sensor chunks, with 1-minute and 1-hour rollups.
-- Hot rows are keyed by the commit that wrote them, so every insert appends at the right edge of the tree.
CREATE TABLE hot_batches (
  id INTEGER PRIMARY KEY,
  min_ts_ms INTEGER NOT NULL,
  max_ts_ms INTEGER NOT NULL,
  rows INTEGER NOT NULL,
  created_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE readings_hot (
  batch_id INTEGER NOT NULL,
  sensor_id INTEGER NOT NULL,
  ts_ms INTEGER NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (batch_id, sensor_id, ts_ms)
) STRICT, WITHOUT ROWID;

-- One segment per compaction step (or seed day); a chunk holds one sensor's readings of one segment.
CREATE TABLE reading_segments (
  id INTEGER PRIMARY KEY,
  min_ts_ms INTEGER NOT NULL,
  max_ts_ms INTEGER NOT NULL,
  readings INTEGER NOT NULL,
  created_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX reading_segments_max_ts ON reading_segments (max_ts_ms);

CREATE TABLE reading_chunks (
  segment_id INTEGER NOT NULL,
  sensor_id INTEGER NOT NULL,
  min_ts_ms INTEGER NOT NULL,
  max_ts_ms INTEGER NOT NULL,
  count INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (segment_id, sensor_id)
) STRICT, WITHOUT ROWID;

-- The newest timestamp in chunks per sensor: an older reading may be a resend and needs a chunk lookup.
CREATE TABLE sensor_chunk_bounds (
  sensor_id INTEGER PRIMARY KEY,
  max_ts_ms INTEGER NOT NULL
) STRICT;

-- Rollups of chunked readings, time first so compaction appends; first/last carry their timestamps so
-- partial buckets merge exactly.
CREATE TABLE rollups_1m (
  bucket_ms INTEGER NOT NULL,
  sensor_id INTEGER NOT NULL,
  count INTEGER NOT NULL,
  min REAL NOT NULL,
  max REAL NOT NULL,
  sum REAL NOT NULL,
  first_ts_ms INTEGER NOT NULL,
  first REAL NOT NULL,
  last_ts_ms INTEGER NOT NULL,
  last REAL NOT NULL,
  PRIMARY KEY (bucket_ms, sensor_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE rollups_1h (
  bucket_ms INTEGER NOT NULL,
  sensor_id INTEGER NOT NULL,
  count INTEGER NOT NULL,
  min REAL NOT NULL,
  max REAL NOT NULL,
  sum REAL NOT NULL,
  first_ts_ms INTEGER NOT NULL,
  first REAL NOT NULL,
  last_ts_ms INTEGER NOT NULL,
  last REAL NOT NULL,
  PRIMARY KEY (bucket_ms, sensor_id)
) STRICT, WITHOUT ROWID;

-- Existing readings become one hot batch; the writer compacts them like any other.
INSERT INTO hot_batches (id, min_ts_ms, max_ts_ms, rows, created_ms)
  SELECT 1, min(ts_ms), max(ts_ms), count(*), 0 FROM readings HAVING count(*) > 0;
INSERT INTO readings_hot (batch_id, sensor_id, ts_ms, value) SELECT 1, sensor_id, ts_ms, value FROM readings;
DROP TABLE readings;
