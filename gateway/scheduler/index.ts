// The scheduler area: periodic background jobs with run history.
export { type Clock, systemClock } from './clock.ts'
export { CronError, type CronSchedule, nextCronTime, parseCron } from './cron.ts'
export { createSchedulerMetrics } from './metrics.ts'
export {
  createScheduler,
  type JobContext,
  type JobSchedule,
  type JobSpec,
  type JobStatus,
  type RunRecorder,
  type Scheduler,
  type SchedulerMetrics,
} from './scheduler.ts'
export { ALERT_TIMERS_INTERVAL_MS, CHECKPOINT_INTERVAL_MS, standardJobs } from './standard-jobs.ts'
