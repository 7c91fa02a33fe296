// The checkpoint thread: folds the WAL back into the database file twice a second on its own connection,
// so that no batch commit on the writer thread pays for a checkpoint (see db/checkpointer.ts).
import { parentPort, workerData } from 'node:worker_threads'
import { openCheckpointer } from '../db/index.ts'

export interface CheckpointWorkerOptions {
  file: string
  synchronous: 'NORMAL' | 'FULL'
  walSizeLimitBytes?: number
  intervalMs: number
}

const port = parentPort!
const options = workerData as CheckpointWorkerOptions
const checkpointer = openCheckpointer(options)
const timer = setInterval(() => {
  try {
    checkpointer.checkpoint()
  } catch {
    // Busy (another checkpoint runs) or a transient I/O error: the next interval tries again.
  }
}, options.intervalMs)

port.on('message', (message: { type: 'close' }) => {
  if (message.type !== 'close') return
  clearInterval(timer)
  checkpointer.close()
  port.postMessage({ type: 'closed' })
  port.close()
})
port.postMessage({ type: 'ready' })
