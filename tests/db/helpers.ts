// Test helpers for the storage module: a migrated database in a temp dir with one machine and sensors.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import {
  createCompactor,
  createReadingWriter,
  createRetention,
  openConnection,
  openStorage,
} from '../../db/index.ts'

export function openTestDb(sensorCount = 3, resolution: number | null = 0.5) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'fm-db-'))
  const storage = openStorage({ dataDir, synchronous: 'NORMAL', busyTimeoutMs: 1000 })
  const factory = storage.catalog.createFactory({ key: 'f', name: 'F', timezone: 'Europe/Berlin' })
  const machine = storage.catalog.createMachine(factory.id, { key: 'm', name: 'M' })
  const sensorIds = Array.from(
    { length: sensorCount },
    (_, i) => storage.catalog.createSensor(machine.id, { key: `s${i}`, name: `S${i}`, resolution }).id,
  )
  const db = openConnection({ file: storage.file, synchronous: 'NORMAL', busyTimeoutMs: 1000 })
  const writer = createReadingWriter(db)
  const compactor = createCompactor(db, writer.index, writer.hotTier, writer.hotCache, {
    minHotRows: 1,
    maxHotBlocks: 1,
    maxHotAgeMs: 0,
    maxHotRows: Number.MAX_SAFE_INTEGER,
    maxRowsPerStep: 50,
    minMergeReadings: Number.MAX_SAFE_INTEGER,
    maxMergeAgeMs: Number.MAX_SAFE_INTEGER,
    maxMergeSensorReadings: Number.MAX_SAFE_INTEGER,
  })
  const retention = createRetention(db, { rawMs: 10 * 86_400_000, minuteMs: 20 * 86_400_000, hourMs: null })
  return {
    storage,
    db,
    writer,
    compactor,
    retention,
    factoryId: factory.id,
    sensorIds,
    write(rows: [sensorId: number, tsMs: number, value: number][]) {
      return writer.write(
        {
          count: rows.length,
          sensorId: Int32Array.from(rows, (r) => r[0]),
          tsMs: Float64Array.from(rows, (r) => r[1]),
          value: Float64Array.from(rows, (r) => r[2]),
        },
        [],
      )
    },
    close() {
      db.close()
      storage.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
