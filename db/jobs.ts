// Run history of the scheduler's jobs, and the housekeeping statements those jobs run.
import type { Sqlite } from './connection.ts'
import { StorageError } from './errors.ts'

export type JobResult = 'running' | 'ok' | 'error'

export interface JobRun {
  id: number
  job: string
  startedMs: number
  endedMs: number | null
  result: JobResult
  rowsTouched: number
  error: string | null
}

interface JobRunRow {
  id: number
  job: string
  started_ms: number
  ended_ms: number | null
  result: JobResult
  rows_touched: number
  error: string | null
}

const toRun = (r: JobRunRow): JobRun => ({
  id: r.id,
  job: r.job,
  startedMs: r.started_ms,
  endedMs: r.ended_ms,
  result: r.result,
  rowsTouched: r.rows_touched,
  error: r.error,
})

/** Runs kept per job; older ones are deleted as new ones finish. */
export const JOB_RUNS_KEPT = 500

export function createJobStore(db: Sqlite) {
  const q = {
    start: db.prepare("INSERT INTO job_runs (job, started_ms, result) VALUES (?, ?, 'running') RETURNING *"),
    finish: db.prepare(
      'UPDATE job_runs SET ended_ms = ?, result = ?, rows_touched = ?, error = ? WHERE id = ?',
    ),
    prune: db.prepare(
      `DELETE FROM job_runs WHERE job = ? AND id <= (SELECT id FROM job_runs WHERE job = ? ORDER BY id DESC
       LIMIT 1 OFFSET ?)`,
    ),
    runs: db.prepare('SELECT * FROM job_runs WHERE job = ? AND id < ? ORDER BY id DESC LIMIT ?'),
    last: db.prepare('SELECT * FROM job_runs WHERE job = ? ORDER BY id DESC LIMIT 1'),
    // A run still 'running' at start-up was cut short by a stop or crash.
    abandon: db.prepare(
      "UPDATE job_runs SET result = 'error', error = ?, ended_ms = ? WHERE result = 'running'",
    ),
    deleteRevokedTokens: db.prepare('DELETE FROM api_tokens WHERE revoked_ms IS NOT NULL AND revoked_ms < ?'),
    deleteRevokedCredentials: db.prepare(
      'DELETE FROM device_credentials WHERE revoked_ms IS NOT NULL AND revoked_ms < ?',
    ),
  }

  // Run records are written from the broker's thread: waiting for the writer's lock there (up to the busy
  // timeout, 5 s by default) stopped all MQTT traffic under overload. They never wait: a record that meets
  // the lock fails at once (DB_BUSY), and the scheduler skips or logs that run.
  const busyTimeoutMs = db.pragma('busy_timeout', { simple: true }) as number
  const withoutWaiting = <T>(write: () => T): T => {
    db.pragma('busy_timeout = 0')
    try {
      return write()
    } catch (error) {
      if ((error as { code?: string } | null)?.code !== 'SQLITE_BUSY') throw error
      throw new StorageError('DB_BUSY', 'the database is busy: another connection holds the write lock')
    } finally {
      db.pragma(`busy_timeout = ${busyTimeoutMs}`)
    }
  }

  return {
    startRun: (job: string, startedMs: number): JobRun =>
      withoutWaiting(() => toRun(q.start.get(job, startedMs) as JobRunRow)),
    finishRun(
      id: number,
      job: string,
      endedMs: number,
      result: 'ok' | 'error',
      rowsTouched: number,
      error: string | null,
    ) {
      withoutWaiting(() =>
        db
          .transaction(() => {
            q.finish.run(endedMs, result, rowsTouched, error, id)
            q.prune.run(job, job, JOB_RUNS_KEPT)
          })
          .immediate(),
      )
    },
    listRuns: (job: string, limit = 50, beforeId = Number.MAX_SAFE_INTEGER): JobRun[] =>
      (q.runs.all(job, beforeId, limit) as JobRunRow[]).map(toRun),
    lastRun(job: string): JobRun | undefined {
      const row = q.last.get(job) as JobRunRow | undefined
      return row && toRun(row)
    },
    abandonRunning: (atMs: number): number => q.abandon.run('interrupted by a stop', atMs).changes,
    /** Deletes API tokens and device credentials revoked before `beforeMs`; returns how many. */
    deleteRevokedSecrets(beforeMs: number): number {
      return db
        .transaction(
          () =>
            q.deleteRevokedTokens.run(beforeMs).changes + q.deleteRevokedCredentials.run(beforeMs).changes,
        )
        .immediate()
    },
  }
}

export type JobStore = ReturnType<typeof createJobStore>
