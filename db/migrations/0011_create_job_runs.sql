-- Run history of the scheduler's background jobs; each job keeps its most recent runs only.
CREATE TABLE job_runs (
  id INTEGER PRIMARY KEY,
  job TEXT NOT NULL,
  started_ms INTEGER NOT NULL,
  ended_ms INTEGER,
  result TEXT NOT NULL CHECK (result IN ('running', 'ok', 'error')),
  rows_touched INTEGER NOT NULL DEFAULT 0,
  error TEXT
) STRICT;
CREATE INDEX job_runs_job ON job_runs (job, id);
