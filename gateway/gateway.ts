// Ingest front: queues published messages, ships them to the writer thread in group commits, and
// releases each message's callback (hence its PUBACK) only after the batch holding it committed.
import { Worker, type WorkerOptions } from 'node:worker_threads'
import type { Logger } from 'pino'
import type { TelemetryMessage } from '../broker/index.ts'
import type { MachineStatus } from '../db/index.ts'
import type { CheckpointWorkerOptions } from './checkpoint-worker.ts'
import { INGEST_ERROR_CODES, IngestError } from './errors.ts'
import { createReleaseSlices } from './release-slices.ts'
import type {
  AlertReply,
  AlertRequest,
  BatchDone,
  BatchRequest,
  FromWriter,
  ToWriter,
  WriterWorkerOptions,
} from './writer-protocol.ts'

export interface GatewayOptions {
  writer: WriterWorkerOptions
  /** V8 young generation of the writer thread in MiB; absent: V8's default. */
  writerYoungGenerationMb?: number
  maxBatchMessages: number
  maxBatchBytes: number
  logger: Logger
  /** Called after every batch, committed or not, for metrics. */
  onBatch?: (done: BatchDone, messages: number) => void
  /** Replies to `alerts()` requests. */
  onAlertReply?: (reply: AlertReply) => void
}

// Two batches in flight: while one commits, the next already waits in the writer's queue.
const MAX_BATCHES_IN_FLIGHT = 2
/** Committed batches' callbacks released per event-loop turn (release-slices.ts says why by device). */
const RELEASE_SLICE = { devicesPerSlice: 64, messagesPerSlice: 1024 }

export interface Gateway {
  ingest(message: TelemetryMessage): void
  setMachineStatus(machineId: number, status: MachineStatus, atMs: number): void
  reloadSensors(machineId: number): void
  forgetMachine(machineId: number): void
  checkpoint(mode: 'PASSIVE' | 'TRUNCATE'): void
  /** Sends work to the writer's alert engine; replies arrive through `onAlertReply`. */
  alerts(message: AlertRequest | { type: 'reload-rules' }): void
  /** Messages waiting for a commit, queued or in flight. */
  queueDepth(): number
  isWriterAlive(): boolean
  close(): Promise<void>
}

/** How often the checkpoint thread folds the WAL into the database file. */
const CHECKPOINT_INTERVAL_MS = 500

/**
 * Compiled (dist/, `npm run build`): a worker starts as plain JS. From source, worker-entry.mjs first
 * registers the TypeScript loader (a loader thread and isolate of its own), then imports the module.
 */
function startWorker(name: string, options: WorkerOptions): Worker {
  if (import.meta.url.endsWith('.js')) return new Worker(new URL(`./${name}.js`, import.meta.url), options)
  return new Worker(new URL('./worker-entry.mjs', import.meta.url), { ...options, argv: [`./${name}.ts`] })
}

/** The checkpoint thread; resolves once its connection is open. */
async function startCheckpointer(options: CheckpointWorkerOptions, log: Logger): Promise<Worker> {
  const worker = startWorker('checkpoint-worker', {
    workerData: options,
    resourceLimits: { maxYoungGenerationSizeMb: 4 },
  })
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve())
    worker.once('error', reject)
  })
  // Should it ever fail, the scheduled wal-checkpoint job (through the writer) still bounds the WAL.
  worker.on('error', (error) => log.error({ err: error }, 'checkpoint thread failed'))
  return worker
}

export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const log = options.logger
  // The writer never checkpoints inline: the checkpoint thread does, on its own connection.
  const worker = startWorker('writer-worker', {
    workerData: { ...options.writer, walAutoCheckpointPages: 0 } satisfies WriterWorkerOptions,
    ...(options.writerYoungGenerationMb
      ? { resourceLimits: { maxYoungGenerationSizeMb: options.writerYoungGenerationMb } }
      : {}),
  })
  let queue: TelemetryMessage[] = []
  let statuses: BatchRequest['statuses'] = []
  const inFlight = new Map<number, TelemetryMessage[]>()
  let nextBatchId = 1
  let flushScheduled = false
  let alive = true
  let closing: (() => void) | null = null
  // Committed or failed batches whose callbacks are still being released, oldest first (PUBACK order per device).
  const releasing = createReleaseSlices<TelemetryMessage>(RELEASE_SLICE)

  const send = (message: ToWriter, transfer?: ArrayBuffer[]) => worker.postMessage(message, transfer)

  const flush = () => {
    flushScheduled = false
    while (alive && inFlight.size < MAX_BATCHES_IN_FLIGHT && (queue.length > 0 || statuses.length > 0)) {
      let count = 0
      let bytes = 0
      while (
        count < queue.length &&
        count < options.maxBatchMessages &&
        (count === 0 || bytes + queue[count]!.payload.length <= options.maxBatchBytes)
      ) {
        bytes += queue[count]!.payload.length
        count++
      }
      const taken = queue.slice(0, count)
      queue = queue.slice(count)
      const payloads = new Uint8Array(bytes)
      const offsets = new Uint32Array(count + 1)
      const machineIds = new Int32Array(count)
      const receivedMs = new Float64Array(count)
      const sources: string[] = []
      const sourceIndex = new Int32Array(count)
      const sourceOf = new Map<number, number>()
      let at = 0
      for (let i = 0; i < count; i++) {
        const m = taken[i]!
        payloads.set(m.payload, at)
        at += m.payload.length
        offsets[i + 1] = at
        machineIds[i] = m.machineId
        receivedMs[i] = m.receivedMs
        // Cloning two strings per message cost more than the rest of postMessage; send each pair once.
        let k = sourceOf.get(m.machineId)
        if (k === undefined || sources[2 * k] !== m.clientId || sources[2 * k + 1] !== m.topic) {
          k = sources.length / 2
          sources.push(m.clientId, m.topic)
          sourceOf.set(m.machineId, k)
        }
        sourceIndex[i] = k
      }
      const id = nextBatchId++
      inFlight.set(id, taken)
      const request: BatchRequest = {
        type: 'batch',
        id,
        payloads,
        offsets,
        machineIds,
        receivedMs,
        sources,
        sourceIndex,
        statuses,
      }
      statuses = []
      send(request, [
        payloads.buffer,
        offsets.buffer,
        machineIds.buffer,
        receivedMs.buffer,
        sourceIndex.buffer,
      ] as ArrayBuffer[])
    }
  }

  const schedule = () => {
    if (flushScheduled) return
    flushScheduled = true
    // setImmediate gathers every message parsed in this I/O phase into one batch.
    setImmediate(flush)
  }

  const failAll = (error: Error) => {
    for (const batch of inFlight.values()) for (const p of batch) p.done(error)
    inFlight.clear()
    for (const p of queue) p.done(error)
    queue = []
  }

  const onBatchDone = (done: BatchDone) => {
    const batch = inFlight.get(done.id) ?? []
    inFlight.delete(done.id)
    const rejects = Object.values(done.rejectsByReason).reduce((a, b) => a + b, 0)
    if (done.ok) {
      releasing.release(batch, null)
      const entry = {
        batch: done.id,
        messages: batch.length,
        readings: done.readings,
        inserted: done.inserted,
        duplicates: done.duplicates,
        commitMs: Math.round(done.commitMs * 100) / 100,
      }
      if (rejects > 0)
        log.info({ ...entry, rejectsByReason: done.rejectsByReason }, 'batch committed with rejects')
      else log.debug(entry, 'batch committed')
    } else {
      const error = new IngestError(
        done.error?.code ?? 'DB_WRITE_FAILED',
        done.error?.message ?? 'commit failed',
      )
      log.error(
        { batch: done.id, messages: batch.length, err: done.error },
        'batch commit failed; no PUBACK sent',
      )
      releasing.release(batch, error)
    }
    options.onBatch?.(done, batch.length)
    if (queue.length > 0 || statuses.length > 0) flush()
  }

  await new Promise<void>((resolve, reject) => {
    const onMessage = (message: FromWriter) => {
      if (message.type === 'ready') {
        log.info({ sensors: message.sensors }, 'writer thread ready')
        worker.off('error', reject)
        resolve()
      } else if (message.type === 'batch-done') onBatchDone(message)
      else if (message.type === 'closed') closing?.()
      else if (message.type === 'alerts-done') options.onAlertReply?.(message)
    }
    worker.on('message', onMessage)
    worker.once('error', reject)
  })

  worker.on('error', (error) => {
    alive = false
    log.fatal({ err: error }, 'writer thread crashed')
    failAll(new IngestError(INGEST_ERROR_CODES.INGEST_WRITER_DOWN, `writer thread crashed: ${error.message}`))
  })
  worker.on('exit', () => {
    alive = false
    failAll(new IngestError(INGEST_ERROR_CODES.INGEST_WRITER_DOWN, 'writer thread stopped'))
    closing?.()
  })
  const checkpointer = await startCheckpointer(
    {
      file: options.writer.file,
      synchronous: options.writer.synchronous,
      walSizeLimitBytes: options.writer.walSizeLimitBytes,
      intervalMs: CHECKPOINT_INTERVAL_MS,
    },
    log,
  )
  let checkpointerExited = false
  checkpointer.once('exit', () => {
    checkpointerExited = true
  })
  /** Stops the checkpoint thread, so the writer's closing TRUNCATE checkpoint does not meet it. */
  const stopCheckpointer = async () => {
    if (checkpointerExited) return
    await new Promise<void>((resolve) => {
      checkpointer.once('exit', () => resolve())
      checkpointer.once('message', () => resolve())
      checkpointer.postMessage({ type: 'close' })
    })
    await checkpointer.terminate()
  }

  return {
    ingest(message) {
      if (!alive)
        return message.done(
          new IngestError(INGEST_ERROR_CODES.INGEST_WRITER_DOWN, 'writer thread is not running'),
        )
      queue.push(message)
      schedule()
    },
    setMachineStatus(machineId, status, atMs) {
      statuses.push({ machineId, status, atMs })
      schedule()
    },
    reloadSensors: (machineId) => send({ type: 'reload-sensors', machineId }),
    forgetMachine: (machineId) => send({ type: 'forget-machine', machineId }),
    checkpoint: (mode) => send({ type: 'checkpoint', mode }),
    alerts(message) {
      if (alive) send(message)
      else if (message.type !== 'reload-rules') {
        options.onAlertReply?.({
          type: 'alerts-done',
          id: message.id,
          transitions: [],
          rowsTouched: 0,
          error: { code: 'INGEST_WRITER_DOWN', message: 'writer thread is not running' },
        })
      }
    },
    queueDepth: () => queue.length + [...inFlight.values()].reduce((n, b) => n + b.length, 0),
    isWriterAlive: () => alive,
    async close() {
      if (!alive) return stopCheckpointer()
      // Let everything queued commit first, then checkpoint and close in the writer thread.
      while (queue.length > 0 || inFlight.size > 0 || releasing.waiting() > 0) {
        flush()
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      await stopCheckpointer()
      await new Promise<void>((resolve) => {
        closing = resolve
        send({ type: 'close' })
      })
      await worker.terminate()
    },
  }
}
