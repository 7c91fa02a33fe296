// The scheduler on a manual clock with a real job store: intervals, cron, no overlap, run history.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pino from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openConnection, openStorage, type Storage } from '../../../db/index.ts'
import { createScheduler, type Scheduler } from '../../../gateway/scheduler/index.ts'
import { createManualClock, type ManualClock } from './manual-clock.ts'

const T0 = Date.parse('2026-03-01T00:00:00Z')
let dataDir: string
let storage: Storage
let clock: ManualClock
let scheduler: Scheduler
const skipped: string[] = []
/** What the scheduler logged at warn and above: [level, msg, code]. */
const logged: [number, string, string | undefined][] = []

/** A scheduler recording into `storage`, counting skipped runs in `skipped`. */
const newScheduler = () =>
  createScheduler({
    clock,
    recorder: storage.jobs,
    logger: pino(
      { level: 'warn' },
      {
        write(line: string) {
          const { level, msg, code } = JSON.parse(line) as { level: number; msg: string; code?: string }
          logged.push([level, msg, code])
        },
      },
    ),
    metrics: { observe: () => {}, skipped: (job) => skipped.push(job) },
  })

beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'fm-sched-'))
  storage = openStorage({ dataDir, synchronous: 'NORMAL', busyTimeoutMs: 5000 })
  clock = createManualClock(T0)
  skipped.length = 0
  logged.length = 0
  scheduler = newScheduler()
})
afterEach(async () => {
  await scheduler.stop()
  storage.close()
  rmSync(dataDir, { recursive: true, force: true })
})

/** Adds the job 'tick', every second, reporting `rowsTouched`; returns the times it ran at. */
function addTick(rowsTouched: number): number[] {
  const seen: number[] = []
  scheduler.add({
    name: 'tick',
    description: 'test',
    schedule: { everyMs: 1000 },
    run: ({ nowMs }) => {
      seen.push(nowMs)
      return rowsTouched
    },
  })
  return seen
}

describe('scheduler', () => {
  it('runs an interval job every interval and records each run', async () => {
    const seen = addTick(2)
    scheduler.start()
    await clock.advance(3500)
    expect(seen).toEqual([T0 + 1000, T0 + 2000, T0 + 3000])
    expect(storage.jobs.listRuns('tick')).toEqual(
      [3, 2, 1].map((n) => ({
        id: n,
        job: 'tick',
        startedMs: T0 + n * 1000,
        endedMs: T0 + n * 1000,
        result: 'ok',
        rowsTouched: 2,
        error: null,
      })),
    )
  })

  it('runs a cron job at the matching minutes', async () => {
    const seen: string[] = []
    scheduler.add({
      name: 'quarterly',
      description: 'test',
      schedule: { cron: '*/15 * * * *' },
      run: ({ nowMs }) => {
        seen.push(new Date(nowMs).toISOString())
        return 0
      },
    })
    scheduler.start()
    await clock.advance(46 * 60_000)
    expect(seen).toEqual(['2026-03-01T00:15:00.000Z', '2026-03-01T00:30:00.000Z', '2026-03-01T00:45:00.000Z'])
  })

  it('never overlaps a job with itself: a due run is skipped while the last one is going', async () => {
    let release: () => void = () => {}
    let starts = 0
    scheduler.add({
      name: 'slow',
      description: 'test',
      schedule: { everyMs: 1000 },
      run: () => {
        starts++
        return new Promise<number>((resolve) => {
          release = () => resolve(1)
        })
      },
    })
    scheduler.start()
    await clock.advance(3000)
    expect(starts).toBe(1)
    expect(skipped).toEqual(['slow', 'slow'])
    expect(scheduler.list()[0]).toMatchObject({ name: 'slow', running: true, nextRunMs: T0 + 4000 })
    release()
    await clock.advance(1000)
    expect(starts).toBe(2)
    release()
  })

  it('records a failing run with its error and keeps the schedule', async () => {
    let calls = 0
    scheduler.add({
      name: 'flaky',
      description: 'test',
      schedule: { everyMs: 1000 },
      run: () => {
        calls++
        if (calls === 1) throw new Error('disk on fire')
        return 0
      },
    })
    scheduler.start()
    await clock.advance(2000)
    expect(storage.jobs.listRuns('flaky').map((r) => [r.result, r.error])).toEqual([
      ['ok', null],
      ['error', 'disk on fire'],
    ])
  })

  it('runs a job on demand with runNow', async () => {
    scheduler.add({ name: 'manual', description: 'test', schedule: { cron: '@daily' }, run: () => 7 })
    const run = await scheduler.runNow('manual')
    expect(run).toMatchObject({ job: 'manual', result: 'ok', rowsTouched: 7, startedMs: T0 })
    expect(scheduler.list()[0]!.lastRun).toEqual(run)
  })

  it('never waits for the writer lock to record a run: that run is skipped, the next one recorded', async () => {
    // A busy timeout far longer than the test's: waiting for the lock would fail the test.
    storage.close()
    storage = openStorage({ dataDir, synchronous: 'NORMAL', busyTimeoutMs: 600_000 })
    scheduler = newScheduler()
    const seen = addTick(0)
    scheduler.start()
    const writer = openConnection({ file: storage.file, synchronous: 'NORMAL', busyTimeoutMs: 0 })
    writer.exec('BEGIN IMMEDIATE')
    await clock.advance(1000)
    writer.exec('COMMIT')
    writer.close()
    await clock.advance(1000)
    expect([seen, skipped, storage.jobs.listRuns('tick').map((r) => r.startedMs), logged]).toEqual([
      [T0 + 2000],
      ['tick'],
      [T0 + 2000],
      // Expected under heavy ingest: a warning naming the cause, not an error.
      [[40, 'database busy; this job run is skipped', 'DB_BUSY']],
    ])
  })
})
