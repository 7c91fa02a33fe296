// Runs periodic jobs on fixed intervals or cron schedules, never one job twice at once, and records
// every run (start, end, result, rows touched, error) in the database and in metrics.
import type { Logger } from 'pino'
import { type JobRun, StorageError } from '../../db/index.ts'
import type { Clock } from './clock.ts'
import { type CronSchedule, nextCronTime, parseCron } from './cron.ts'

/** A run record met the writer's lock: expected under heavy ingest, and only that run is affected. */
const isBusy = (error: unknown) => error instanceof StorageError && error.code === 'DB_BUSY'

export type JobSchedule = { everyMs: number } | { cron: string }

export interface JobContext {
  nowMs: number
}

export interface JobSpec {
  name: string
  description: string
  schedule: JobSchedule
  /** Returns how many rows it touched (0 when nothing to do). */
  run(context: JobContext): Promise<number> | number
}

export interface JobStatus {
  name: string
  description: string
  schedule: JobSchedule
  running: boolean
  nextRunMs: number | null
  lastRun: JobRun | null
}

/** Where runs are recorded: the job store, or anything shaped like it. */
export interface RunRecorder {
  startRun(job: string, startedMs: number): JobRun
  finishRun(
    id: number,
    job: string,
    endedMs: number,
    result: 'ok' | 'error',
    rowsTouched: number,
    error: string | null,
  ): void
  lastRun(job: string): JobRun | undefined
}

export interface SchedulerMetrics {
  observe(job: string, result: 'ok' | 'error', durationMs: number, rowsTouched: number): void
  skipped(job: string): void
}

export interface SchedulerOptions {
  clock: Clock
  recorder: RunRecorder
  logger: Logger
  metrics?: SchedulerMetrics
}

// setTimeout overflows past 2^31-1 ms; far-off cron times are re-armed in steps.
const MAX_TIMER_MS = 86_400_000

interface Entry {
  spec: JobSpec
  cron: CronSchedule | null
  nextRunMs: number | null
  timer: unknown
  running: Promise<JobRun> | null
}

export function createScheduler(options: SchedulerOptions) {
  const { clock, recorder, logger: log } = options
  const jobs = new Map<string, Entry>()
  let started = false

  const nextAfter = (entry: Entry, afterMs: number): number =>
    entry.cron
      ? nextCronTime(entry.cron, afterMs)
      : afterMs + (entry.spec.schedule as { everyMs: number }).everyMs

  const arm = (entry: Entry) => {
    if (!started || entry.nextRunMs === null) return
    const delayMs = Math.max(0, entry.nextRunMs - clock.now())
    entry.timer = clock.setTimeout(() => fire(entry), Math.min(delayMs, MAX_TIMER_MS))
  }

  const fire = (entry: Entry) => {
    entry.timer = null
    const nowMs = clock.now()
    if (entry.nextRunMs === null) return
    if (nowMs < entry.nextRunMs) return arm(entry) // a long wait re-armed in steps
    if (entry.running) {
      options.metrics?.skipped(entry.spec.name)
      log.warn({ job: entry.spec.name }, 'job still running; this run is skipped')
    } else {
      try {
        void execute(entry)
      } catch (error) {
        // Recording the start needs the database; locked (a long commit under heavy ingest) it threw from
        // this timer and brought the whole process down. Skip this run instead: the next one is on time.
        options.metrics?.skipped(entry.spec.name)
        if (isBusy(error))
          log.warn({ job: entry.spec.name, code: 'DB_BUSY' }, 'database busy; this job run is skipped')
        else log.error({ job: entry.spec.name, err: error }, 'job run could not start; skipped')
      }
    }
    // Catch up without a burst: the next run is the first one due after now.
    entry.nextRunMs = nextAfter(entry, Math.max(entry.nextRunMs, nowMs))
    arm(entry)
  }

  const execute = (entry: Entry): Promise<JobRun> => {
    const name = entry.spec.name
    const startedMs = clock.now()
    const run = recorder.startRun(name, startedMs)
    const finish = (result: 'ok' | 'error', rowsTouched: number, error: string | null): JobRun => {
      const endedMs = clock.now()
      try {
        recorder.finishRun(run.id, name, endedMs, result, rowsTouched, error)
      } catch (recordError) {
        if (isBusy(recordError))
          log.warn({ job: name, code: 'DB_BUSY' }, 'database busy; this job run ran but is not recorded')
        else log.error({ job: name, err: recordError }, 'job run could not be recorded')
      }
      options.metrics?.observe(name, result, endedMs - startedMs, rowsTouched)
      return { ...run, endedMs, result, rowsTouched, error }
    }
    const running = (async () => {
      try {
        const rows = await entry.spec.run({ nowMs: startedMs })
        return finish('ok', rows, null)
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        log.error({ job: name, err: error }, 'job failed')
        return finish('error', 0, message)
      }
    })()
    entry.running = running
    // Cleared after assignment: a job that finishes synchronously must not leave itself marked running.
    void running.then(() => {
      if (entry.running === running) entry.running = null
    })
    return running
  }

  return {
    add(spec: JobSpec): void {
      if (jobs.has(spec.name)) throw new Error(`job "${spec.name}" is already scheduled`)
      const cron = 'cron' in spec.schedule ? parseCron(spec.schedule.cron) : null
      if ('everyMs' in spec.schedule && !(spec.schedule.everyMs > 0))
        throw new Error(`job "${spec.name}": everyMs must be positive`)
      const entry: Entry = { spec, cron, nextRunMs: null, timer: null, running: null }
      jobs.set(spec.name, entry)
      if (started) {
        entry.nextRunMs = nextAfter(entry, clock.now())
        arm(entry)
      }
    },
    start(): void {
      if (started) return
      started = true
      for (const entry of jobs.values()) {
        entry.nextRunMs = nextAfter(entry, clock.now())
        arm(entry)
      }
    },
    /** Runs a job now (or joins its current run); the schedule is unchanged. */
    runNow(name: string): Promise<JobRun> {
      const entry = jobs.get(name)
      if (!entry) return Promise.reject(new Error(`no job "${name}"`))
      return entry.running ?? execute(entry)
    },
    list(): JobStatus[] {
      return [...jobs.values()].map((e) => ({
        name: e.spec.name,
        description: e.spec.description,
        schedule: e.spec.schedule,
        running: e.running !== null,
        nextRunMs: e.nextRunMs,
        lastRun: recorder.lastRun(e.spec.name) ?? null,
      }))
    },
    /** Stops the timers and waits for runs in progress. */
    async stop(): Promise<void> {
      started = false
      const running: Promise<unknown>[] = []
      for (const entry of jobs.values()) {
        if (entry.timer !== null) clock.clearTimeout(entry.timer)
        entry.timer = null
        entry.nextRunMs = null
        if (entry.running) running.push(entry.running)
      }
      await Promise.allSettled(running)
    },
  }
}

export type Scheduler = ReturnType<typeof createScheduler>
