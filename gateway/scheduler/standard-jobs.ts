// The jobs every service runs: alert timers, retention, WAL checkpoints and cleanup of revoked secrets.
import type { JobStore } from '../../db/index.ts'
import type { JobSpec } from './scheduler.ts'

export const ALERT_TIMERS_INTERVAL_MS = 1000
export const CHECKPOINT_INTERVAL_MS = 30_000
export const REVOKED_SECRET_RETENTION_MS = 30 * 86_400_000

export interface StandardJobsOptions {
  /** Runs stale-data and for-duration checks in the writer; resolves with the alerts it opened. */
  tickAlerts(nowMs: number): Promise<number>
  /** Deletes readings, chunks and rollups older than the retention settings; resolves with rows touched. */
  runRetention(nowMs: number): Promise<number>
  checkpoint(): void
  jobs: Pick<JobStore, 'deleteRevokedSecrets'>
}

export function standardJobs(options: StandardJobsOptions): JobSpec[] {
  return [
    {
      name: 'alert-timers',
      description: 'Opens alerts for stale sensors and for conditions whose for-duration expired',
      schedule: { everyMs: ALERT_TIMERS_INTERVAL_MS },
      run: ({ nowMs }) => options.tickAlerts(nowMs),
    },
    {
      name: 'retention',
      description:
        'Deletes raw readings, 1-minute and 1-hour rollups older than FACTORY_RETENTION_* (in small steps)',
      schedule: { cron: '*/15 * * * *' },
      run: ({ nowMs }) => options.runRetention(nowMs),
    },
    {
      name: 'wal-checkpoint',
      description: 'Folds the write-ahead log back into the database file (PASSIVE)',
      schedule: { everyMs: CHECKPOINT_INTERVAL_MS },
      run: () => {
        options.checkpoint()
        return 0
      },
    },
    {
      name: 'token-cleanup',
      description: 'Deletes API tokens and device credentials revoked more than 30 days ago',
      schedule: { cron: '17 3 * * *' },
      run: ({ nowMs }) => options.jobs.deleteRevokedSecrets(nowMs - REVOKED_SECRET_RETENTION_MS),
    },
  ]
}
