// Prometheus series for the scheduler, registered on the process registry from gateway/metrics.ts.
import client from 'prom-client'
import type { SchedulerMetrics } from './scheduler.ts'

const DURATION_BUCKETS_MS = [1, 5, 10, 50, 100, 500, 1000, 5000, 30_000, 120_000]

export function createSchedulerMetrics(registry: client.Registry): SchedulerMetrics {
  const runs = new client.Counter({
    name: 'factory_job_runs_total',
    help: 'Background job runs by job and result',
    labelNames: ['job', 'result'],
    registers: [registry],
  })
  const skipped = new client.Counter({
    name: 'factory_job_skipped_total',
    help: 'Job runs skipped because the previous run of the same job was still going',
    labelNames: ['job'],
    registers: [registry],
  })
  const rows = new client.Counter({
    name: 'factory_job_rows_touched_total',
    help: 'Rows written or deleted by background jobs',
    labelNames: ['job'],
    registers: [registry],
  })
  const duration = new client.Histogram({
    name: 'factory_job_duration_ms',
    help: 'Background job run time in milliseconds',
    labelNames: ['job'],
    buckets: DURATION_BUCKETS_MS,
    registers: [registry],
  })
  return {
    observe(job, result, durationMs, rowsTouched) {
      runs.inc({ job, result })
      duration.observe({ job }, durationMs)
      if (rowsTouched > 0) rows.inc({ job }, rowsTouched)
    },
    skipped: (job) => skipped.inc({ job }),
  }
}
