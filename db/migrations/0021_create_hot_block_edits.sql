-- Counts edits of hot blocks other than appends and purges of moved blocks: a sensor's readings removed
-- (it was deleted), or retention trimming old blocks. The writer keeps a copy of the blocks it committed for
-- compaction to read; any such edit, from any connection, must bump the counter in its transaction (see
-- HOT_BLOCKS_EDITED in db/hot-blocks.ts) so that the writer drops its copy and reads the table. Not a
-- trigger: a DELETE trigger makes SQLite load every deleted row, blobs included, and purges delete many.
CREATE TABLE hot_block_edits (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  n INTEGER NOT NULL
) STRICT;
INSERT INTO hot_block_edits (id, n) VALUES (1, 0);
