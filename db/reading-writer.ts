// The single writer of readings: one transaction per batch (readings, latest values, rejects, statuses).
import type { Sqlite } from './connection.ts'
import { translateSqliteError } from './errors.ts'
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
    `INSERT INTO readings (sensor_id, ts_ms, value) VALUES ${Array(rows).fill('(?, ?, ?)').join(', ')}
     ON CONFLICT DO NOTHING`
  const insertMany = db.prepare(insertSql(ROWS_PER_STATEMENT))
  const insertOne = db.prepare(insertSql(1))
  const params: number[] = new Array(ROWS_PER_STATEMENT * 3).fill(0)
  const q = {
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

  const insertReadings = (rows: ReadingColumns): number => {
    let inserted = 0
    let i = 0
    for (; i + ROWS_PER_STATEMENT <= rows.count; i += ROWS_PER_STATEMENT) {
      for (let j = 0; j < ROWS_PER_STATEMENT; j++) {
        params[j * 3] = rows.sensorId[i + j]!
        params[j * 3 + 1] = rows.tsMs[i + j]!
        params[j * 3 + 2] = rows.value[i + j]!
      }
      inserted += insertMany.run(params).changes
    }
    for (; i < rows.count; i++)
      inserted += insertOne.run(rows.sensorId[i]!, rows.tsMs[i]!, rows.value[i]!).changes
    return inserted
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

  const commit = db.transaction(
    (rows: ReadingColumns, rejects: RejectRecord[], statuses: StatusChange[]): WriteResult => {
      const inserted = insertReadings(rows)
      if (rows.count > 0) updateLatest(rows)
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
      return { inserted, duplicates: rows.count - inserted, rejects: rejects.length }
    },
  )

  return {
    /** Commits one batch atomically; throws a StorageError (DB_WRITE_FAILED) when the commit fails. */
    write(rows: ReadingColumns, rejects: RejectRecord[], statuses: StatusChange[] = []): WriteResult {
      try {
        return commit.immediate(rows, rejects, statuses)
      } catch (error) {
        return translateSqliteError(error, 'batch')
      }
    },

    sensorSpecs(machineId?: number): SensorSpec[] {
      return (
        machineId === undefined ? q.sensorSpecs.all() : q.sensorSpecsOfMachine.all(machineId)
      ) as SensorSpec[]
    },

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
