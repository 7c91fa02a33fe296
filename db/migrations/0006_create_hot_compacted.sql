-- Per sensor group, the newest hot block already moved into chunks. Compaction records this instead of
-- deleting each group's blocks at once (a commit's blocks share pages, which would then be rewritten once
-- per group); readers skip blocks at or below the mark, and a later step deletes them in id order.
CREATE TABLE hot_compacted (
  part INTEGER PRIMARY KEY,
  last_block_id INTEGER NOT NULL
) STRICT;

-- Block ids must never be reused (a reused id at or below a mark would hide new readings): AUTOINCREMENT.
CREATE TABLE hot_blocks_next (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  part INTEGER NOT NULL,
  min_ts_ms INTEGER NOT NULL,
  max_ts_ms INTEGER NOT NULL,
  rows INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  data BLOB NOT NULL
) STRICT;
INSERT INTO hot_blocks_next SELECT id, part, min_ts_ms, max_ts_ms, rows, created_ms, data FROM hot_blocks;
DROP TABLE hot_blocks;
ALTER TABLE hot_blocks_next RENAME TO hot_blocks;
CREATE INDEX hot_blocks_part ON hot_blocks (part, id);
