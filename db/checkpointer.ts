// A second connection that folds the WAL back into the database file, so the writer's commits never pay for
// it: with SQLite's automatic checkpoint, every ~250th small commit copied 1,000 pages and synced the file
// (4-10 ms), which is what the devices behind that commit waited for.
import { type ConnectionOptions, openConnection } from './connection.ts'

/** SQLite's automatic checkpoint size: the WAL is recycled from its start once it holds this many frames. */
const RESTART_FRAMES = 1000

export interface CheckpointResult {
  /** Frames in the WAL, and how many of them are now in the database file. */
  walFrames: number
  checkpointed: number
  /** Whether the WAL was reset to start over (the writer's next commit trims the file to its size limit). */
  restarted: boolean
}

export function openCheckpointer(
  options: Pick<ConnectionOptions, 'file' | 'synchronous'> & { walSizeLimitBytes?: number },
) {
  // busy_timeout 0: a checkpoint that would wait for the writer gives up and is tried again later.
  const db = openConnection({ ...options, busyTimeoutMs: 0, cacheMib: 1 })
  const pageSize = db.pragma('page_size', { simple: true }) as number
  const restartFrames = Math.max(
    1,
    Math.min(RESTART_FRAMES, Math.floor((options.walSizeLimitBytes ?? Number.POSITIVE_INFINITY) / pageSize)),
  )
  const run = (mode: 'PASSIVE' | 'RESTART') => {
    const [row] = db.pragma(`wal_checkpoint(${mode})`) as {
      busy: number
      log: number
      checkpointed: number
    }[]
    return row ?? { busy: 0, log: 0, checkpointed: 0 }
  }
  return {
    /**
     * PASSIVE: copies what it can without waiting for the writer or readers. Once everything is copied and
     * the WAL is long, RESTART (which then has nothing to copy and only takes the write lock for a moment)
     * lets the writer start over at the beginning of the file.
     */
    checkpoint(): CheckpointResult {
      const passive = run('PASSIVE')
      let restarted = false
      if (passive.busy === 0 && passive.log >= restartFrames && passive.checkpointed === passive.log) {
        try {
          restarted = run('RESTART').busy === 0
        } catch {
          // SQLITE_BUSY: the writer is in a transaction; the next interval tries again.
        }
      }
      return { walFrames: passive.log, checkpointed: passive.checkpointed, restarted }
    },
    close: () => db.close(),
  }
}

export type Checkpointer = ReturnType<typeof openCheckpointer>
