// The writer thread: validates whole batches in Rust and commits each in one SQLite transaction.
import { getHeapStatistics } from 'node:v8'
import { parentPort, workerData } from 'node:worker_threads'
import { compute } from '../crates/factory_compute/binding.ts'
import {
  openReadingWriter,
  type ReadingColumns,
  type RejectRecord,
  type SensorSpec,
  StorageError,
} from '../db/index.ts'
import { AlertActionError, createAlertEngine } from './alerts/engine.ts'
import { INGEST_ERROR_CODES } from './errors.ts'
import { createMaintenance } from './maintenance.ts'
import type {
  AlertReply,
  AlertRequest,
  BatchDone,
  BatchRequest,
  FromWriter,
  ToWriter,
  WriterWorkerOptions,
} from './writer-protocol.ts'

/** Per-reading rejects keep this much of the payload; message-level rejects keep all of it. */
const READING_REJECT_PAYLOAD_BYTES = 4096
const UNKNOWN_SENSOR = 'READING_SENSOR_UNKNOWN'
/** Stored when the validator itself fails on a message, so one poison payload cannot wedge ingestion. */
const VALIDATOR_FAILED = INGEST_ERROR_CODES.PAYLOAD_VALIDATOR_FAILED

const port = parentPort!

const options = workerData as WriterWorkerOptions
const post = (message: FromWriter) => port.postMessage(message)

const writer = openReadingWriter(options)
const validator = new compute.Validator({
  maxReadingsPerMessage: options.maxReadingsPerMessage,
  futureToleranceMs: options.futureToleranceMs,
  backfillWindowMs: options.backfillWindowMs,
})
const codes = compute.rejectCodes()
const alertEngine = createAlertEngine(writer.alerts)
const sensorsByMachine = new Map<number, Set<number>>()
let autoRegister = new Set(writer.autoRegisterMachineIds())

function registerSpecs(specs: SensorSpec[]): void {
  if (specs.length === 0) return
  validator.upsertSensors(
    Int32Array.from(specs, (s) => s.machineId),
    Int32Array.from(specs, (s) => s.sensorId),
    specs.map((s) => s.key),
    Float64Array.from(specs, (s) => s.minValue ?? Number.NaN),
    Float64Array.from(specs, (s) => s.maxValue ?? Number.NaN),
  )
  for (const s of specs) {
    const ids = sensorsByMachine.get(s.machineId) ?? new Set<number>()
    sensorsByMachine.set(s.machineId, ids.add(s.sensorId))
  }
}

function forgetMachine(machineId: number): void {
  const ids = sensorsByMachine.get(machineId)
  if (ids && ids.size > 0) validator.removeSensors(Int32Array.from(ids))
  sensorsByMachine.delete(machineId)
}

function reloadMachine(machineId: number): void {
  forgetMachine(machineId)
  registerSpecs(writer.sensorSpecs(machineId))
  autoRegister = new Set(writer.autoRegisterMachineIds())
}

type Validation = ReturnType<typeof validator.validate>

function validateIsolating(batch: BatchRequest, nowMs: number, failed: RejectRecord[]): Validation[] {
  try {
    return [validator.validate(batch.payloads, batch.offsets, batch.machineIds, batch.receivedMs, nowMs)]
  } catch {
    // Validate message by message so only the offending one is set aside.
    const results: Validation[] = []
    for (let m = 0; m < batch.machineIds.length; m++) {
      const payload = batch.payloads.subarray(batch.offsets[m], batch.offsets[m + 1])
      try {
        const one = validator.validate(
          payload,
          Uint32Array.of(0, payload.length),
          batch.machineIds.subarray(m, m + 1),
          batch.receivedMs.subarray(m, m + 1),
          nowMs,
        )
        one.msgIndex.fill(m)
        one.rejectMsgIndex.fill(m)
        results.push(one)
      } catch (error) {
        failed.push(rejectRecord(batch, m, VALIDATOR_FAILED, null, String(error), true))
      }
    }
    return results
  }
}

function rejectRecord(
  batch: BatchRequest,
  m: number,
  reason: string,
  sensorKey: string | null,
  detail: string,
  wholeMessage: boolean,
): RejectRecord {
  const payload = batch.payloads.subarray(batch.offsets[m], batch.offsets[m + 1])
  const truncated = !wholeMessage && payload.length > READING_REJECT_PAYLOAD_BYTES
  return {
    receivedMs: batch.receivedMs[m]!,
    machineId: batch.machineIds[m]! > 0 ? batch.machineIds[m]! : null,
    clientId: batch.sources[2 * batch.sourceIndex[m]!] ?? '',
    topic: batch.sources[2 * batch.sourceIndex[m]! + 1] ?? '',
    reason,
    sensorKey,
    detail,
    payload: truncated ? payload.subarray(0, READING_REJECT_PAYLOAD_BYTES) : payload,
    payloadTruncated: truncated,
  }
}

function handleBatch(batch: BatchRequest): BatchDone {
  const started = performance.now()
  const rejects: RejectRecord[] = []
  const parts = validateIsolating(batch, Date.now(), rejects)
  const extra: { sensorId: number; tsMs: number; value: number }[] = []

  for (const part of parts) {
    for (let i = 0; i < part.rejectCode.length; i++) {
      const m = part.rejectMsgIndex[i]!
      const reason = codes[part.rejectCode[i]!] ?? `UNKNOWN_${part.rejectCode[i]}`
      const key = part.rejectKey[i] ?? ''
      const machineId = batch.machineIds[m]!
      if (reason === UNKNOWN_SENSOR && autoRegister.has(machineId)) {
        const sensorId = writer.registerSensor(machineId, key)
        registerSpecs([{ machineId, sensorId, key, minValue: null, maxValue: null }])
        // A new sensor may fall under a machine- or factory-scoped rule.
        alertEngine.invalidate()
        extra.push({ sensorId, tsMs: part.rejectTsMs[i]!, value: part.rejectValue[i]! })
        continue
      }
      rejects.push(
        rejectRecord(batch, m, reason, key === '' ? null : key, part.rejectDetail[i] ?? '', key === ''),
      )
    }
  }

  const rows = mergeColumns(parts, extra)
  const validated = performance.now()
  const rejectsByReason: Record<string, number> = {}
  for (const r of rejects) rejectsByReason[r.reason] = (rejectsByReason[r.reason] ?? 0) + 1
  const base = { type: 'batch-done' as const, id: batch.id, readings: rows.count, rejectsByReason }
  try {
    let alerts: Pick<BatchDone, 'alerts' | 'alertError'> = {}
    const result = writer.transaction(() => {
      const written = writer.write(rows, rejects, batch.statuses)
      alerts = evaluateAlerts(rows)
      return written
    })
    const committed = performance.now()
    return {
      ...base,
      ...storageState(),
      ok: true,
      inserted: result.inserted,
      duplicates: result.duplicates,
      validateMs: validated - started,
      commitMs: committed - validated,
      ...alerts,
    }
  } catch (error) {
    const code = error instanceof StorageError ? error.code : 'DB_WRITE_FAILED'
    const message = error instanceof Error ? error.message : String(error)
    return {
      ...base,
      ...storageState(),
      ok: false,
      error: { code, message },
      inserted: 0,
      duplicates: 0,
      validateMs: validated - started,
      commitMs: performance.now() - validated,
    }
  }
}

/** What /metrics shows of the writer thread, sent with every batch's answer. */
const storageState = () => ({
  hotReadings: writer.hotTier.rows(),
  heapUsedBytes: getHeapStatistics().used_heap_size,
})

/** Alert evaluation runs in a savepoint: if it fails, the readings still commit and the engine reloads. */
function evaluateAlerts(rows: ReadingColumns): Pick<BatchDone, 'alerts' | 'alertError'> {
  try {
    const alerts = alertEngine.onBatch(rows, Date.now())
    return alerts.length > 0 ? { alerts } : {}
  } catch (error) {
    return { alertError: error instanceof Error ? error.message : String(error) }
  }
}

function handleAlertRequest(request: Exclude<AlertRequest, { type: 'retention' }>): AlertReply {
  const reply = { type: 'alerts-done' as const, id: request.id }
  try {
    if (request.type === 'alerts-tick') {
      const { transitions, rowsTouched } = alertEngine.tick(request.nowMs)
      return { ...reply, transitions, rowsTouched }
    }
    const act = request.action === 'acknowledge' ? alertEngine.acknowledge : alertEngine.clear
    const transitions = act(request.alertId, request.actor, request.comment, request.nowMs)
    return { ...reply, transitions, rowsTouched: transitions.length }
  } catch (error) {
    const code =
      error instanceof AlertActionError || error instanceof StorageError ? error.code : 'DB_WRITE_FAILED'
    const message = error instanceof Error ? error.message : String(error)
    return { ...reply, transitions: [], rowsTouched: 0, error: { code, message } }
  }
}

function mergeColumns(
  parts: Validation[],
  extra: { sensorId: number; tsMs: number; value: number }[],
): ReadingColumns {
  const only = parts[0]
  if (parts.length === 1 && only && extra.length === 0) {
    return { count: only.sensorId.length, sensorId: only.sensorId, tsMs: only.tsMs, value: only.value }
  }
  const count = parts.reduce((n, p) => n + p.sensorId.length, 0) + extra.length
  const rows: ReadingColumns = {
    count,
    sensorId: new Int32Array(count),
    tsMs: new Float64Array(count),
    value: new Float64Array(count),
  }
  let at = 0
  for (const p of parts) {
    rows.sensorId.set(p.sensorId, at)
    rows.tsMs.set(p.tsMs, at)
    rows.value.set(p.value, at)
    at += p.sensorId.length
  }
  for (const e of extra) {
    rows.sensorId[at] = e.sensorId
    rows.tsMs[at] = e.tsMs
    rows.value[at] = e.value
    at++
  }
  return rows
}

// Compaction runs here, between batches (maintenance.ts decides when).
const MAINTENANCE_IDLE_MS = 1000
const maintenance = createMaintenance(writer)
setInterval(maintenance.schedule, MAINTENANCE_IDLE_MS).unref()

port.on('message', (message: ToWriter) => {
  switch (message.type) {
    case 'batch': {
      const done = handleBatch(message)
      post(done)
      maintenance.afterBatch(message.machineIds.length, done.ok ? done.inserted : 0)
      break
    }
    case 'reload-sensors':
      reloadMachine(message.machineId)
      alertEngine.invalidate()
      break
    case 'forget-machine':
      forgetMachine(message.machineId)
      alertEngine.invalidate()
      break
    case 'reload-rules':
      alertEngine.invalidate()
      break
    case 'retention':
      runRetention(message.id, message.nowMs)
      break
    case 'alerts-tick':
    case 'alert-action':
      post(handleAlertRequest(message))
      break
    case 'checkpoint':
      try {
        writer.checkpoint(message.mode)
      } catch {
        // A checkpoint blocked by readers is retried on the next interval.
      }
      break
    case 'close':
      try {
        writer.checkpoint('TRUNCATE')
      } finally {
        writer.close()
        post({ type: 'closed' })
        port.close()
      }
      break
  }
})

/** A scheduled retention run: bounded steps, each its own transaction, with batches served in between. */
function runRetention(id: number, nowMs: number): void {
  let rowsTouched = 0
  const step = () => {
    try {
      const r = writer.retentionStep(nowMs)
      rowsTouched += r.chunksDeleted + r.chunksTrimmed + r.hotRowsDeleted + r.rollupsDeleted
      if (!r.done) return void setImmediate(step)
      post({ type: 'alerts-done', id, transitions: [], rowsTouched })
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      post({
        type: 'alerts-done',
        id,
        transitions: [],
        rowsTouched,
        error: { code: 'DB_WRITE_FAILED', message },
      })
    }
  }
  step()
}

const specs = writer.sensorSpecs()
registerSpecs(specs)
post({ type: 'ready', sensors: specs.length })
