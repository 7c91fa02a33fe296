// Factories, machines and sensors: the catalog the API edits and the gateway validates against.
import type { Sqlite } from './connection.ts'
import { StorageError, translateSqliteError } from './errors.ts'
import { deleteHotReadings } from './hot-blocks.ts'
import type {
  Factory,
  FactoryInput,
  Machine,
  MachineInput,
  MachineStatus,
  Sensor,
  SensorInput,
} from './types.ts'

interface FactoryRow {
  id: number
  key: string
  name: string
  timezone: string
  created_ms: number
  updated_ms: number
}
interface MachineRow {
  id: number
  factory_id: number
  factory_key: string
  key: string
  name: string
  auto_register_sensors: number
  status: MachineStatus
  status_since_ms: number | null
  created_ms: number
  updated_ms: number
}
interface SensorRow {
  id: number
  machine_id: number
  key: string
  name: string
  unit: string
  kind: string
  min_value: number | null
  max_value: number | null
  resolution: number | null
  expected_interval_ms: number | null
  created_ms: number
  updated_ms: number
}

const toFactory = (r: FactoryRow): Factory => ({
  id: r.id,
  key: r.key,
  name: r.name,
  timezone: r.timezone,
  createdMs: r.created_ms,
  updatedMs: r.updated_ms,
})
const toMachine = (r: MachineRow): Machine => ({
  id: r.id,
  factoryId: r.factory_id,
  factoryKey: r.factory_key,
  key: r.key,
  name: r.name,
  autoRegisterSensors: r.auto_register_sensors === 1,
  status: r.status,
  statusSinceMs: r.status_since_ms,
  createdMs: r.created_ms,
  updatedMs: r.updated_ms,
})
export const toSensor = (r: SensorRow): Sensor => ({
  id: r.id,
  machineId: r.machine_id,
  key: r.key,
  name: r.name,
  unit: r.unit,
  kind: r.kind,
  minValue: r.min_value,
  maxValue: r.max_value,
  resolution: r.resolution,
  expectedIntervalMs: r.expected_interval_ms,
  createdMs: r.created_ms,
  updatedMs: r.updated_ms,
})

const MACHINE_SELECT = `SELECT m.*, f.key AS factory_key FROM machines m JOIN factories f ON f.id = m.factory_id`

export type CatalogChange =
  | { kind: 'sensors'; machineId: number }
  | { kind: 'machine-deleted'; machineId: number }

export function createCatalog(db: Sqlite, onChange: (change: CatalogChange) => void) {
  const q = {
    listFactories: db.prepare('SELECT * FROM factories ORDER BY id'),
    getFactory: db.prepare('SELECT * FROM factories WHERE id = ?'),
    insertFactory: db.prepare(
      'INSERT INTO factories (key, name, timezone, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?) RETURNING *',
    ),
    updateFactory: db.prepare(
      'UPDATE factories SET name = coalesce(?, name), timezone = coalesce(?, timezone), updated_ms = ? WHERE id = ? RETURNING *',
    ),
    deleteFactory: db.prepare('DELETE FROM factories WHERE id = ?'),
    listMachines: db.prepare(`${MACHINE_SELECT} WHERE m.factory_id = ? ORDER BY m.id`),
    getMachine: db.prepare(`${MACHINE_SELECT} WHERE m.id = ?`),
    insertMachine: db.prepare(
      `INSERT INTO machines (factory_id, key, name, auto_register_sensors, created_ms, updated_ms)
       VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
    ),
    updateMachine: db.prepare(
      `UPDATE machines SET name = coalesce(?, name), auto_register_sensors = coalesce(?, auto_register_sensors),
       updated_ms = ? WHERE id = ?`,
    ),
    deleteMachine: db.prepare('DELETE FROM machines WHERE id = ?'),
    machineIdsOfFactory: db.prepare('SELECT id FROM machines WHERE factory_id = ?').pluck(),
    listSensors: db.prepare('SELECT * FROM sensors WHERE machine_id = ? ORDER BY id'),
    getSensor: db.prepare('SELECT * FROM sensors WHERE id = ?'),
    insertSensor: db.prepare(
      `INSERT INTO sensors (machine_id, key, name, unit, kind, min_value, max_value, resolution,
       expected_interval_ms, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    ),
    deleteSensor: db.prepare('DELETE FROM sensors WHERE id = ?'),
    // Rare and admin-only, so full scans of the (time-keyed) reading tables are acceptable here.
    deleteSensorReadings: {
      run: (sensorId: number) => {
        deleteHotReadings(db, sensorId)
        for (const table of [
          'readings_hot',
          'reading_chunks',
          'rollups_1m',
          'rollups_1h',
          'sensor_chunk_bounds',
        ])
          db.prepare(`DELETE FROM ${table} WHERE sensor_id = ?`).run(sensorId)
      },
    },
    sensorIdsOfMachine: db.prepare('SELECT id FROM sensors WHERE machine_id = ?').pluck(),
  }

  const write = <T>(what: string, fn: () => T): T => {
    try {
      return db.transaction(fn).immediate()
    } catch (error) {
      if (error instanceof StorageError) throw error
      return translateSqliteError(error, what)
    }
  }

  const deleteMachineReadings = (machineId: number) => {
    for (const sensorId of q.sensorIdsOfMachine.all(machineId) as number[])
      q.deleteSensorReadings.run(sensorId)
  }

  return {
    listFactories: (): Factory[] => (q.listFactories.all() as FactoryRow[]).map(toFactory),
    getFactory(id: number): Factory | undefined {
      const row = q.getFactory.get(id) as FactoryRow | undefined
      return row && toFactory(row)
    },
    createFactory(input: FactoryInput): Factory {
      const now = Date.now()
      return write(`factory "${input.key}"`, () =>
        toFactory(
          q.insertFactory.get(input.key, input.name, input.timezone ?? 'UTC', now, now) as FactoryRow,
        ),
      )
    },
    updateFactory(id: number, patch: Partial<Omit<FactoryInput, 'key'>>): Factory | undefined {
      return write('factory', () => {
        const row = q.updateFactory.get(patch.name ?? null, patch.timezone ?? null, Date.now(), id)
        return row ? toFactory(row as FactoryRow) : undefined
      })
    },
    deleteFactory(id: number): boolean {
      const machineIds = q.machineIdsOfFactory.all(id) as number[]
      const deleted = write('factory', () => {
        for (const machineId of machineIds) deleteMachineReadings(machineId)
        return q.deleteFactory.run(id).changes > 0
      })
      for (const machineId of machineIds) onChange({ kind: 'machine-deleted', machineId })
      return deleted
    },

    listMachines: (factoryId: number): Machine[] =>
      (q.listMachines.all(factoryId) as MachineRow[]).map(toMachine),
    getMachine(id: number): Machine | undefined {
      const row = q.getMachine.get(id) as MachineRow | undefined
      return row && toMachine(row)
    },
    createMachine(factoryId: number, input: MachineInput): Machine {
      const now = Date.now()
      const id = write(`machine "${input.key}"`, () => {
        if (!q.getFactory.get(factoryId))
          throw new StorageError('DB_NOT_FOUND', `factory ${factoryId} not found`)
        return (
          q.insertMachine.get(
            factoryId,
            input.key,
            input.name,
            input.autoRegisterSensors ? 1 : 0,
            now,
            now,
          ) as {
            id: number
          }
        ).id
      })
      onChange({ kind: 'sensors', machineId: id })
      return toMachine(q.getMachine.get(id) as MachineRow)
    },
    updateMachine(id: number, patch: Partial<Omit<MachineInput, 'key'>>): Machine | undefined {
      const auto = patch.autoRegisterSensors === undefined ? null : patch.autoRegisterSensors ? 1 : 0
      const changed = write(
        'machine',
        () => q.updateMachine.run(patch.name ?? null, auto, Date.now(), id).changes,
      )
      if (changed === 0) return undefined
      onChange({ kind: 'sensors', machineId: id })
      return toMachine(q.getMachine.get(id) as MachineRow)
    },
    deleteMachine(id: number): boolean {
      const deleted = write('machine', () => {
        deleteMachineReadings(id)
        return q.deleteMachine.run(id).changes > 0
      })
      if (deleted) onChange({ kind: 'machine-deleted', machineId: id })
      return deleted
    },

    listSensors: (machineId: number): Sensor[] => (q.listSensors.all(machineId) as SensorRow[]).map(toSensor),
    getSensor(id: number): Sensor | undefined {
      const row = q.getSensor.get(id) as SensorRow | undefined
      return row && toSensor(row)
    },
    createSensor(machineId: number, input: SensorInput): Sensor {
      const now = Date.now()
      const sensor = write(`sensor "${input.key}"`, () => {
        if (!q.getMachine.get(machineId))
          throw new StorageError('DB_NOT_FOUND', `machine ${machineId} not found`)
        return toSensor(
          q.insertSensor.get(
            machineId,
            input.key,
            input.name,
            input.unit ?? '',
            input.kind ?? 'gauge',
            input.minValue ?? null,
            input.maxValue ?? null,
            input.resolution ?? null,
            input.expectedIntervalMs ?? null,
            now,
            now,
          ) as SensorRow,
        )
      })
      onChange({ kind: 'sensors', machineId })
      return sensor
    },
    updateSensor(id: number, patch: Partial<Omit<SensorInput, 'key'>>): Sensor | undefined {
      const current = q.getSensor.get(id) as SensorRow | undefined
      if (!current) return undefined
      // null clears an optional bound; undefined keeps it.
      const pick = <K extends keyof SensorRow>(value: SensorRow[K] | undefined, key: K) =>
        value === undefined ? current[key] : value
      const row = write('sensor', () =>
        db
          .prepare(
            `UPDATE sensors SET name = ?, unit = ?, kind = ?, min_value = ?, max_value = ?, resolution = ?,
             expected_interval_ms = ?, updated_ms = ? WHERE id = ? RETURNING *`,
          )
          .get(
            pick(patch.name, 'name'),
            pick(patch.unit, 'unit'),
            pick(patch.kind, 'kind'),
            pick(patch.minValue, 'min_value'),
            pick(patch.maxValue, 'max_value'),
            pick(patch.resolution, 'resolution'),
            pick(patch.expectedIntervalMs, 'expected_interval_ms'),
            Date.now(),
            id,
          ),
      ) as SensorRow
      onChange({ kind: 'sensors', machineId: row.machine_id })
      return toSensor(row)
    },
    deleteSensor(id: number): boolean {
      const current = q.getSensor.get(id) as SensorRow | undefined
      if (!current) return false
      write('sensor', () => {
        q.deleteSensorReadings.run(id)
        q.deleteSensor.run(id)
      })
      onChange({ kind: 'sensors', machineId: current.machine_id })
      return true
    },
  }
}

export type Catalog = ReturnType<typeof createCatalog>
