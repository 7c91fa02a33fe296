import { afterEach, describe, expect, it } from 'vitest'
import { openReadingWriter } from '../../db/index.ts'
import { createMaintenance, type MaintenanceClock, OWED_TURN_MS } from '../../gateway/maintenance.ts'
import { openTestDb } from '../db/helpers.ts'

const T0 = Date.UTC(2026, 0, 1)
/** What each compaction step takes on the test's clock: a turn's budget lasts three steps. */
const STEP_MS = OWED_TURN_MS / 2.5

describe('maintenance turns', () => {
  /** Closed after each test, newest first. */
  let opened: { close(): void }[] = []
  afterEach(() => {
    for (const o of opened.reverse()) o.close()
    opened = []
  })

  /** A writer whose hot tier holds `blocks` blocks of 100 readings each, and a clock driven by hand. */
  function setUp(blocks: number) {
    const t = openTestDb(1)
    opened.push(t)
    const [sensor] = t.sensorIds as [number]
    const writer = openReadingWriter({
      file: t.storage.file,
      synchronous: 'NORMAL',
      busyTimeoutMs: 1000,
      compaction: {
        minHotRows: 1000,
        maxHotRows: 3000,
        maxHotBlocks: Number.MAX_SAFE_INTEGER,
        maxHotAgeMs: Number.MAX_SAFE_INTEGER,
        maxRowsPerStep: 100,
        minMergeReadings: Number.MAX_SAFE_INTEGER,
        maxMergeAgeMs: Number.MAX_SAFE_INTEGER,
        maxMergeSensorReadings: Number.MAX_SAFE_INTEGER,
      },
    })
    opened.push(writer)
    for (let b = 0; b < blocks; b++) {
      const ts = Float64Array.from({ length: 100 }, (_, i) => T0 + (b * 100 + i) * 1000)
      writer.write({ count: 100, sensorId: new Int32Array(100).fill(sensor), tsMs: ts, value: ts }, [])
    }
    const scheduled: { after: number | null; run: () => void }[] = []
    let nowMs = 0
    const clock: MaintenanceClock = {
      now: () => nowMs,
      wallMs: () => T0,
      immediate: (run) => scheduled.push({ after: null, run }),
      after: (ms, run) => scheduled.push({ after: ms, run }),
    }
    const steps: string[] = []
    const maintenance = createMaintenance(
      {
        maintain(now, maxRows) {
          const step = writer.maintain(now, maxRows)
          nowMs += STEP_MS
          if (step) steps.push(`${step.kind} ${step.readings}`)
          return step
        },
        compactionBehind: writer.compactionBehind,
        compactionOverLimit: writer.compactionOverLimit,
      },
      clock,
    )
    /** Runs the next scheduled turn and says what it did. */
    const runTurn = () => {
      const next = scheduled.shift()
      steps.length = 0
      next?.run()
      return {
        scheduledAfter: next?.after,
        steps: [...steps],
        hotRows: writer.hotTier.rows(),
        owed: maintenance.owed(),
      }
    }
    return { maintenance, runTurn }
  }

  it('past the hot tier limit, a turn runs past its budget until the hot tier is back under the limit', () => {
    const m = setUp(50)
    m.maintenance.afterBatch(1000, 5000)
    // Each step moves one 100-reading block (maxRowsPerStep).
    expect(m.runTurn()).toEqual({
      scheduledAfter: null,
      steps: Array(20).fill('hot 100'),
      hotRows: 3000,
      owed: 3000,
    })
    // Under the limit again, the next turn keeps to its budget.
    expect(m.runTurn()).toEqual({
      scheduledAfter: null,
      steps: Array(3).fill('hot 100'),
      hotRows: 2700,
      owed: 2700,
    })
  })

  it('behind but under the limit, a turn stops at its budget; once the debt is paid, the next turn rests', () => {
    const m = setUp(25)
    m.maintenance.afterBatch(1000, 500)
    expect(m.runTurn()).toEqual({
      scheduledAfter: null,
      steps: Array(3).fill('hot 100'),
      hotRows: 2200,
      owed: 200,
    })
    m.maintenance.afterBatch(1000, 0)
    // Two more steps pay the debt; a batch came meanwhile, so the next turn waits as long as this one ran.
    expect(m.runTurn()).toEqual({
      scheduledAfter: null,
      steps: ['hot 100', 'hot 100'],
      hotRows: 2000,
      owed: 0,
    })
    expect(m.runTurn().scheduledAfter).toBe(2 * STEP_MS)
  })

  it('under light load (small batches) a step moves up to 2,000 readings, under heavy load the storage default', () => {
    const m = setUp(15)
    m.maintenance.afterBatch(10, 0)
    // Moved while nothing was owed: a credit against what later batches add.
    expect(m.runTurn()).toEqual({ scheduledAfter: null, steps: ['hot 1500'], hotRows: 0, owed: -1500 })
    const heavy = setUp(15)
    heavy.maintenance.afterBatch(1000, 0)
    expect(heavy.runTurn()).toEqual({ scheduledAfter: null, steps: ['hot 100'], hotRows: 1400, owed: -100 })
  })
})
