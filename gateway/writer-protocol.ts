// Messages between the gateway (broker thread) and its writer worker thread.
import type { MachineStatus } from '../db/index.ts'

export interface WriterWorkerOptions {
  file: string
  synchronous: 'NORMAL' | 'FULL'
  busyTimeoutMs: number
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
  clientIds: string[]
  topics: string[]
  statuses: { machineId: number; status: MachineStatus; atMs: number }[]
}

export type ToWriter =
  | BatchRequest
  | { type: 'reload-sensors'; machineId: number }
  | { type: 'forget-machine'; machineId: number }
  | { type: 'checkpoint'; mode: 'PASSIVE' | 'TRUNCATE' }
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
}

export type FromWriter =
  | { type: 'ready'; sensors: number }
  | BatchDone
  | { type: 'closed' }
  | { type: 'fatal'; message: string }
