// Messages between the gateway (broker thread) and its writer worker thread.
import type { AlertTransition, MachineStatus, RetentionOptions } from '../db/index.ts'

export interface WriterWorkerOptions {
  file: string
  synchronous: 'NORMAL' | 'FULL'
  busyTimeoutMs: number
  walSizeLimitBytes?: number
  cacheMib?: number
  /** WAL pages after which a commit checkpoints inline; 0 when the checkpoint thread does it. */
  walAutoCheckpointPages?: number
  /** Retention horizons (FACTORY_RETENTION_*); absent: the storage defaults. */
  retention?: RetentionOptions
  maxReadingsPerMessage: number
  futureToleranceMs: number
  backfillWindowMs: number
}

/** One group commit's worth of messages, as columns; `payloads` is transferred, not copied. */
export interface BatchRequest {
  type: 'batch'
  id: number
  payloads: Uint8Array
  /** n+1 offsets into payloads. */
  offsets: Uint32Array
  machineIds: Int32Array
  receivedMs: Float64Array
  /**
   * Client id and topic of each message, for reject records: `sources` holds distinct pairs flat
   * (client id at 2k, topic at 2k+1) and `sourceIndex[i]` is message i's k. A device sends under one pair,
   * so a batch carries one pair per device instead of two strings per message.
   */
  sources: string[]
  sourceIndex: Int32Array
  statuses: { machineId: number; status: MachineStatus; atMs: number }[]
}

export type ToWriter =
  | BatchRequest
  | { type: 'reload-sensors'; machineId: number }
  | { type: 'forget-machine'; machineId: number }
  | { type: 'checkpoint'; mode: 'PASSIVE' | 'TRUNCATE' }
  | { type: 'reload-rules' }
  | AlertRequest
  | { type: 'close' }

export interface BatchDone {
  type: 'batch-done'
  id: number
  ok: boolean
  error?: { code: string; message: string }
  readings: number
  inserted: number
  duplicates: number
  rejectsByReason: Record<string, number>
  validateMs: number
  commitMs: number
  /** Readings in hot blocks, not yet compacted into chunks, after this batch. */
  hotReadings: number
  /** The writer thread's V8 heap in use, bytes. */
  heapUsedBytes: number
  /** Alert changes made in this batch's transaction. */
  alerts?: AlertTransition[]
  /** Set when alert evaluation failed; the readings committed anyway. */
  alertError?: string
}

/**
 * Work for the writer that is not a batch: a scheduler tick of the alert engine, an acknowledge/clear from
 * the API, or a scheduled storage job (retention), each answered by one `alerts-done` reply.
 */
export type AlertRequest =
  | { type: 'alerts-tick'; id: number; nowMs: number }
  | { type: 'retention'; id: number; nowMs: number }
  | {
      type: 'alert-action'
      id: number
      action: 'acknowledge' | 'clear'
      alertId: number
      actor: string
      comment: string | null
      nowMs: number
    }

export interface AlertReply {
  type: 'alerts-done'
  id: number
  transitions: AlertTransition[]
  rowsTouched: number
  error?: { code: string; message: string }
}

export type FromWriter =
  | { type: 'ready'; sensors: number }
  | BatchDone
  | AlertReply
  | { type: 'closed' }
  | { type: 'fatal'; message: string }
