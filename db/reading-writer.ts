// The single writer of readings: one transaction per batch (hot log rows, latest values, rejects, statuses),
// de-duplicated on (sensor, ts) against the hot log and the chunks through the in-memory hot index.
import { decodeChunk } from './chunks.ts'
import type { Sqlite } from './connection.ts'
import { translateSqliteError } from './errors.ts'
import { createHotIndex, type HotIndex } from './hot-index.ts'
import type { MachineStatus } from './types.ts'

/** Accepted readings as columns; only the first `count` entries are used. */
export interface ReadingColumns {
  count: number
  sensorId: Int32Array
  tsMs: Float64Array
  value: Float64Array
}

export interface RejectRecord {
  receivedMs: number
  machineId: number | null
  clientId: string
  topic: string
  reason: string
  sensorKey: string | null
  detail: string
  payload: Uint8Array
  payloadTruncated: boolean
}

export interface StatusChange {
  machineId: number
  status: MachineStatus
  atMs: number
}

export interface WriteResult {
  inserted: number
  duplicates: number
  rejects: number
}

/** What the validator needs to know about a sensor. */
export interface SensorSpec {
  machineId: number
  sensorId: number
  key: string
  minValue: number | null
  maxValue: number | null
}

const ROWS_PER_STATEMENT = 128

export function createReadingWriter(db: Sqlite) {
  const insertSql = (rows: number) =>
    `INSERT INTO readings_hot (batch_id, sensor_id, ts_ms, value) VALUES ${Array(rows).fill('(?, ?, ?, ?)').join(', ')}`
  const insertMany = db.prepare(insertSql(ROWS_PER_STATEMENT))
  const insertOne = db.prepare(insertSql(1))
  const params: number[] = new Array(ROWS_PER_STATEMENT * 4).fill(0)
  const q = {
    batch: db.prepare(
      'INSERT INTO hot_batches (min_ts_ms, max_ts_ms, rows, created_ms) VALUES (?, ?, ?, ?) RETURNING id',
    ),
    chunksAt: db
      .prepare(
        `SELECT c.data FROM reading_segments s JOIN reading_chunks c ON c.segment_id = s.id AND c.sensor_id = ?
         WHERE s.max_ts_ms >= ? AND s.min_ts_ms <= ? AND c.min_ts_ms <= ? AND c.max_ts_ms >= ?`,
      )
      .pluck(),
    hotRows: db.prepare('SELECT batch_id, sensor_id, ts_ms FROM readings_hot ORDER BY batch_id').raw(),
    hotRowsOf: db
      .prepare('SELECT batch_id, sensor_id, ts_ms FROM readings_hot WHERE sensor_id = ? ORDER BY batch_id')
      .raw(),
    chunkBounds: db.prepare('SELECT sensor_id, max_ts_ms FROM sensor_chunk_bounds').raw(),
    chunkBoundOf: db.prepare('SELECT max_ts_ms FROM sensor_chunk_bounds WHERE sensor_id = ?').pluck(),
    latest: db.prepare(
      `INSERT INTO sensor_latest (sensor_id, ts_ms, value) VALUES (?, ?, ?)
       ON CONFLICT (sensor_id) DO UPDATE SET ts_ms = excluded.ts_ms, value = excluded.value
       WHERE excluded.ts_ms >= sensor_latest.ts_ms`,
    ),
    reject: db.prepare(
      `INSERT INTO rejected_readings (received_ms, machine_id, client_id, topic, reason, sensor_key, detail,
       payload, payload_truncated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    status: db.prepare(
      `UPDATE machines SET status = ?, status_since_ms = ? WHERE id = ?
       AND (status <> ? OR status_since_ms IS NULL) AND coalesce(status_since_ms, 0) <= ?`,
    ),
    sensorSpecs: db.prepare(
      'SELECT machine_id AS machineId, id AS sensorId, key, min_value AS minValue, max_value AS maxValue FROM sensors',
    ),
    sensorSpecsOfMachine: db.prepare(
      `SELECT machine_id AS machineId, id AS sensorId, key, min_value AS minValue, max_value AS maxValue
       FROM sensors WHERE machine_id = ?`,
    ),
    autoRegisterMachines: db.prepare('SELECT id FROM machines WHERE auto_register_sensors = 1').pluck(),
    autoRegister: db.prepare('SELECT auto_register_sensors FROM machines WHERE id = ?').pluck(),
    registerSensor: db.prepare(
      `INSERT INTO sensors (machine_id, key, name, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (machine_id, key) DO UPDATE SET updated_ms = updated_ms RETURNING id`,
    ),
  }

  const index: HotIndex = createHotIndex()
  const loadIndex = (hotRows: unknown[][], bounds: [number, number][]) => {
    for (const [sensorId, maxTsMs] of bounds) index.noteChunk(sensorId, maxTsMs)
    for (const [batchId, sensorId, tsMs] of hotRows as number[][]) index.noteHot(sensorId!, tsMs!, batchId!)
  }
  loadIndex(q.hotRows.all() as unknown[][], q.chunkBounds.all() as [number, number][])

  const inChunks = (sensorId: number, tsMs: number): boolean => {
    for (const data of q.chunksAt.all(sensorId, tsMs, tsMs, tsMs, tsMs) as Buffer[]) {
      const chunk = decodeChunk(data)
      let lo = 0
      let hi = chunk.tsMs.length - 1
      while (lo <= hi) {
        const mid = (lo + hi) >> 1
        const t = chunk.tsMs[mid]!
        if (t === tsMs) return true
        if (t < tsMs) lo = mid + 1
        else hi = mid - 1
      }
    }
    return false
  }

  /** Indices of rows not yet stored (nor repeated earlier in the batch), sorted by (sensor, ts). */
  const newRows = (rows: ReadingColumns): number[] => {
    const batchMax = new Map<number, number>()
    let seen: Set<string> | null = null
    const accepted: number[] = []
    for (let i = 0; i < rows.count; i++) {
      const sensorId = rows.sensorId[i]!
      const tsMs = rows.tsMs[i]!
      const inBatch = batchMax.get(sensorId)
      const kind = index.classify(sensorId, tsMs)
      if (kind === 'hot') continue
      if (inBatch === undefined || tsMs > inBatch) {
        if (kind === 'check-chunks' && inChunks(sensorId, tsMs)) continue
        batchMax.set(sensorId, tsMs)
        if (seen) seen.add(`${sensorId}:${tsMs}`)
        accepted.push(i)
        continue
      }
      // Out of order within the batch: rare, so only now pay for an exact set.
      if (!seen) seen = new Set(accepted.map((j) => `${rows.sensorId[j]}:${rows.tsMs[j]}`))
      const key = `${sensorId}:${tsMs}`
      if (seen.has(key) || (kind === 'check-chunks' && inChunks(sensorId, tsMs))) continue
      seen.add(key)
      accepted.push(i)
    }
    // Sorted rows fill the batch's fresh pages densely.
    return accepted.sort((x, y) => rows.sensorId[x]! - rows.sensorId[y]! || rows.tsMs[x]! - rows.tsMs[y]!)
  }

  const insertReadings = (rows: ReadingColumns, accepted: number[]): number => {
    if (accepted.length === 0) return 0
    let minTs = Number.POSITIVE_INFINITY
    let maxTs = Number.NEGATIVE_INFINITY
    for (const i of accepted) {
      const t = rows.tsMs[i]!
      if (t < minTs) minTs = t
      if (t > maxTs) maxTs = t
    }
    const batchId = (q.batch.get(minTs, maxTs, accepted.length, Date.now()) as { id: number }).id
    let k = 0
    for (; k + ROWS_PER_STATEMENT <= accepted.length; k += ROWS_PER_STATEMENT) {
      for (let j = 0; j < ROWS_PER_STATEMENT; j++) {
        const i = accepted[k + j]!
        params[j * 4] = batchId
        params[j * 4 + 1] = rows.sensorId[i]!
        params[j * 4 + 2] = rows.tsMs[i]!
        params[j * 4 + 3] = rows.value[i]!
      }
      insertMany.run(params)
    }
    for (; k < accepted.length; k++) {
      const i = accepted[k]!
      insertOne.run(batchId, rows.sensorId[i]!, rows.tsMs[i]!, rows.value[i]!)
    }
    return batchId
  }

  const updateLatest = (rows: ReadingColumns) => {
    const newest = new Map<number, number>()
    for (let i = 0; i < rows.count; i++) {
      const id = rows.sensorId[i]!
      const at = newest.get(id)
      if (at === undefined || rows.tsMs[i]! >= rows.tsMs[at]!) newest.set(id, i)
    }
    for (const [id, i] of newest) q.latest.run(id, rows.tsMs[i]!, rows.value[i]!)
  }

  const reindexSensor = (sensorId: number) => {
    index.forget(sensorId)
    const bound = q.chunkBoundOf.get(sensorId) as number | undefined
    loadIndex(q.hotRowsOf.all(sensorId) as unknown[][], bound === undefined ? [] : [[sensorId, bound]])
  }

  const commit = db.transaction((rows: ReadingColumns, rejects: RejectRecord[], statuses: StatusChange[]) => {
    const accepted = newRows(rows)
    const batchId = insertReadings(rows, accepted)
    if (accepted.length > 0) updateLatest(rows)
    for (const r of rejects) {
      q.reject.run(
        r.receivedMs,
        r.machineId,
        r.clientId,
        r.topic,
        r.reason,
        r.sensorKey,
        r.detail,
        r.payload,
        r.payloadTruncated ? 1 : 0,
      )
    }
    for (const s of statuses) q.status.run(s.status, s.atMs, s.machineId, s.status, s.atMs)
    return {
      result: {
        inserted: accepted.length,
        duplicates: rows.count - accepted.length,
        rejects: rejects.length,
      },
      accepted,
      batchId,
    }
  })

  return {
    /** Commits one batch atomically; throws a StorageError (DB_WRITE_FAILED) when the commit fails. */
    write(rows: ReadingColumns, rejects: RejectRecord[], statuses: StatusChange[] = []): WriteResult {
      try {
        const { result, accepted, batchId } = commit.immediate(rows, rejects, statuses)
        // The index learns the rows only once they are committed.
        for (const i of accepted) index.noteHot(rows.sensorId[i]!, rows.tsMs[i]!, batchId)
        return result
      } catch (error) {
        return translateSqliteError(error, 'batch')
      }
    },

    sensorSpecs(machineId?: number): SensorSpec[] {
      const specs = (
        machineId === undefined ? q.sensorSpecs.all() : q.sensorSpecsOfMachine.all(machineId)
      ) as SensorSpec[]
      // A sensor may have been deleted (and its id reused) since the index learnt it: relearn from disk.
      if (machineId !== undefined) for (const s of specs) reindexSensor(s.sensorId)
      return specs
    },

    /** The in-memory index; compaction tells it what moved into chunks. */
    index,

    autoRegisterMachineIds: (): number[] => q.autoRegisterMachines.all() as number[],
    isAutoRegister: (machineId: number): boolean => q.autoRegister.get(machineId) === 1,

    /** Creates (or finds) a sensor a device reported on a machine that auto-registers sensors. */
    registerSensor(machineId: number, key: string): number {
      const now = Date.now()
      return (q.registerSensor.get(machineId, key, key, now, now) as { id: number }).id
    },

    /** Folds the WAL back into the database file; TRUNCATE also resets the WAL to zero bytes. */
    checkpoint(mode: 'PASSIVE' | 'TRUNCATE' = 'PASSIVE'): void {
      db.pragma(`wal_checkpoint(${mode})`)
    },
  }
}

export type ReadingWriter = ReturnType<typeof createReadingWriter>
