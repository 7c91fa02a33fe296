-- The hot tier becomes compressed blocks: one row per (commit, group of 128 sensor ids) instead of one row
-- per reading, so a commit writes a few small blobs. readings_hot and hot_batches stay for databases that
-- still hold rows there: the writer converts them into blocks when it opens.
CREATE TABLE hot_blocks (
  id INTEGER PRIMARY KEY,
  -- sensor_id >> 7: the sensors a block holds.
  part INTEGER NOT NULL,
  min_ts_ms INTEGER NOT NULL,
  max_ts_ms INTEGER NOT NULL,
  rows INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  data BLOB NOT NULL
) STRICT;
CREATE INDEX hot_blocks_part ON hot_blocks (part, id);

-- 0: written by one compaction step (small chunks); 1: merged from small segments (or seeded).
ALTER TABLE reading_segments ADD COLUMN level INTEGER NOT NULL DEFAULT 1;
