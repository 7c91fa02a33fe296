// When the writer thread runs compaction, between batches. Compaction and retention need the one writer
// connection, so they run there in small steps; a step never delays an acknowledgement already computed,
// but a batch that arrives during a step waits for it. Under light load (small batches) steps are short, so
// devices' PUBACKs wait little; under heavy load (large batches) they are long, so compaction keeps up with
// fewer, cheaper transactions, and once it is behind, it runs as many steps as it takes to move what the
// batches add (`owed`).
import type { CompactionResult } from '../db/index.ts'

/** The writer's side of maintenance (db's openReadingWriter). */
export interface MaintainedWriter {
  /** One compaction step when one is due (at most `maxRows` readings); null when none is. */
  maintain(nowMs: number, maxRows?: number): CompactionResult | null
  /** The hot tier is past the size at which compaction starts. */
  compactionBehind(): boolean
  /** The hot tier is past its hard limit (`maxHotRows`). */
  compactionOverLimit(): boolean
}

export interface MaintenanceClock {
  /** Monotonic milliseconds: turn budgets and rests. */
  now(): number
  /** Wall-clock milliseconds: what a step compares block ages with. */
  wallMs(): number
  immediate(run: () => void): void
  after(ms: number, run: () => void): void
}

const NODE_CLOCK: MaintenanceClock = {
  now: () => performance.now(),
  wallMs: () => Date.now(),
  immediate: (run) => void setImmediate(run),
  after: (ms, run) => void setTimeout(run, ms),
}

/** Batches of fewer messages than this mean light load. */
const LIGHT_BATCH_MESSAGES = 256
/** Readings per compaction step under light load (the storage default, 12,000, under heavy load). */
const LIGHT_STEP_ROWS = 2000
/**
 * Steps per turn while compaction owes readings. One step per batch fell behind a sustained flood, and the
 * hot tier, with its index in the writer thread's memory, grew for as long as the flood lasted. The turn
 * budget alone fell behind too once ingestion got faster (the 1,000-machine flood at ~580,000 readings/s
 * grew the hot tier by ~50,000 readings a second, to 1.7 M in 22 s); past the hot tier's hard limit a turn
 * therefore runs until it is back under it.
 */
export const OWED_TURN_MS = 50

export function createMaintenance(writer: MaintainedWriter, clock: MaintenanceClock = NODE_CLOCK) {
  let lightLoad = true
  let owed = 0
  /**
   * Work no batch is waiting for (merging small chunks, purging) took one step after every batch: a merge
   * step of ~12,000 readings (~25 ms) beside ~1 ms batches left ingestion a fifth of its rate for as long
   * as a merge ran (measured after ~20 M readings: 29,000 msg/s where 150,000 was the rate before). While
   * batches keep coming, such a step now rests as long as it ran before the next, so batches get at least
   * half of the thread; with no batches in between, steps follow at once. Paying `owed` keeps its pace.
   */
  let batchesSinceStep = 0
  let restUntilMs = 0
  let pending = false

  function schedule(): void {
    if (pending) return
    pending = true
    const restMs = restUntilMs - clock.now()
    if (restMs > 0) clock.after(restMs, turn)
    else clock.immediate(turn)
  }

  function turn(): void {
    pending = false
    const busy = batchesSinceStep > 0
    batchesSinceStep = 0
    try {
      const startMs = clock.now()
      for (;;) {
        const step = writer.maintain(clock.wallMs(), lightLoad ? LIGHT_STEP_ROWS : undefined)
        if (!step) {
          owed = 0
          restUntilMs = 0
          return
        }
        if (step.kind === 'hot') owed -= step.readings
        if (owed <= 0) break
        // Past the hot tier's hard limit the turn goes on until it is back under it: batches wait, and
        // with them the PUBACKs that let devices send more.
        if (clock.now() - startMs > OWED_TURN_MS && !writer.compactionOverLimit()) break
      }
      const endMs = clock.now()
      restUntilMs = busy && owed <= 0 ? endMs + (endMs - startMs) : 0
      schedule()
    } catch {
      // A step that fails (e.g. SQLITE_BUSY) rolls back whole and is retried on the next tick.
    }
  }

  return {
    /** After each batch: its size sets the step size; while compaction is behind, its readings are owed. */
    afterBatch(messages: number, committedReadings: number): void {
      lightLoad = messages < LIGHT_BATCH_MESSAGES
      if (committedReadings > 0 && writer.compactionBehind()) owed += committedReadings
      batchesSinceStep++
      schedule()
    },
    /** Runs a turn soon (the idle tick: age-based compaction, merges, purges). */
    schedule,
    /** Readings compaction still owes (below 0: it moved that many more than batches added). */
    owed: () => owed,
  }
}
