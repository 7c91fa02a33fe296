// The storage module: the only place with SQL. Another engine implements the same two entry points.
export { deviceUsername } from './access.ts'
export {
  type AlertLedger,
  type AlertSensor,
  createAlertLedger,
  type NewAlert,
  type OpenAlertRow,
  type RuleStateRow,
} from './alert-ledger.ts'
export type * from './alert-types.ts'
export { ALERT_SEVERITIES, ALERT_STATES } from './alert-types.ts'
export { type AlertRuleChange, type AlertStore, createAlertStore } from './alerts.ts'
export type { Audit, AuditEvent, AuditEventInput, AuditFilter, AuditSource } from './audit.ts'
export { type BucketSpec, type BucketUnit, bucketBoundaries, parseBucket } from './buckets.ts'
export type { CatalogChange } from './catalog.ts'
export { type Checkpointer, type CheckpointResult, openCheckpointer } from './checkpointer.ts'
export {
  type CompactionOptions,
  type CompactionResult,
  createCompactor,
  DEFAULT_COMPACTION,
} from './compaction.ts'
export { openConnection } from './connection.ts'
export { STORAGE_ERROR_CODES, StorageError, type StorageErrorCode } from './errors.ts'
export { createJobStore, JOB_RUNS_KEPT, type JobResult, type JobRun, type JobStore } from './jobs.ts'
export {
  createReadingWriter,
  type ReadingColumns,
  type ReadingWriter,
  type RejectRecord,
  type SensorSpec,
  type StatusChange,
  type WriteResult,
} from './reading-writer.ts'
export {
  createRetention,
  DEFAULT_RETENTION,
  type RetentionOptions,
  type RetentionResult,
} from './retention.ts'
export type { BucketQuery, BucketResult, BucketRow, Fill, Tier } from './series.ts'
export { databaseFile, openStorage, type Storage, type StorageOptions } from './storage.ts'
export type * from './types.ts'
export {
  createWebhookStore,
  type DeliveryStatus,
  type PendingDelivery,
  type Webhook,
  type WebhookDelivery,
  type WebhookInput,
  type WebhookStore,
  type WebhookWithSecret,
} from './webhooks.ts'

import { createAlertLedger } from './alert-ledger.ts'
import {
  type CompactionOptions,
  type CompactionResult,
  createCompactor,
  DEFAULT_COMPACTION,
} from './compaction.ts'
import { openConnection } from './connection.ts'
import { createReadingWriter } from './reading-writer.ts'
import { createRetention, DEFAULT_RETENTION, type RetentionOptions } from './retention.ts'

/** Retention runs at most this often once it has caught up. */

/** Opens the writer's own connection (used inside the gateway's writer thread only). */
export function openReadingWriter(options: {
  file: string
  synchronous: 'NORMAL' | 'FULL'
  busyTimeoutMs: number
  walSizeLimitBytes?: number
  cacheMib?: number
  retention?: RetentionOptions
  compaction?: CompactionOptions
  /** WAL pages after which a commit checkpoints inline (SQLite wal_autocheckpoint); 0 leaves it to the caller. */
  walAutoCheckpointPages?: number
}) {
  const db = openConnection(options)
  if (options.walAutoCheckpointPages !== undefined)
    db.pragma(`wal_autocheckpoint = ${Math.trunc(options.walAutoCheckpointPages)}`)
  const writer = createReadingWriter(db)
  const compaction = options.compaction ?? DEFAULT_COMPACTION
  const compactor = createCompactor(db, writer.index, writer.hotTier, writer.hotCache, compaction)
  const retention = createRetention(db, options.retention ?? DEFAULT_RETENTION)
  return {
    ...writer,
    /** Alert state, written on this same connection inside the batch transaction. */
    alerts: createAlertLedger(db),
    /** Runs fn in one immediate transaction; writes made inside nest as savepoints. */
    transaction: <T>(fn: () => T): T => {
      let result: T
      try {
        result = db.transaction(fn).immediate()
      } catch (error) {
        writer.settle(false)
        throw error
      }
      writer.settle(true)
      return result
    },
    /** One compaction step (hot blocks -> chunks + rollups, or a merge of small chunks). */
    compactStep: (nowMs = Date.now()) => compactor.step(nowMs),
    /** One bounded retention step. */
    retentionStep: (nowMs = Date.now()) => retention.step(nowMs),
    /** Compacts every hot block (shutdown, tests, benchmarks). */
    compactAll: (nowMs = Date.now()) => compactor.drain(nowMs),
    /** Merges every small chunk now (tests, benchmarks). */
    mergeAll: (nowMs = Date.now()) => compactor.mergeAll(nowMs),
    /**
     * Runs one small compaction step when one is due (rollups are kept up to date by compaction);
     * retention runs as the scheduler's `retention` job. `maxRows` caps the readings the step handles
     * (default: the compaction options'). Returns what the step did, or null when nothing was due.
     */
    maintain(nowMs = Date.now(), maxRows?: number): CompactionResult | null {
      return compactor.isDue(nowMs) ? compactor.step(nowMs, maxRows) : null
    },
    /** Whether the hot tier holds more than compaction lets it grow to before starting (it falls behind). */
    compactionBehind: () => writer.hotTier.rows() > compaction.minHotRows,
    /** Whether the hot tier is past its hard limit (`maxHotRows`): moving blocks comes before batches. */
    compactionOverLimit: () => writer.hotTier.rows() > compaction.maxHotRows,
    close: () => db.close(),
  }
}
