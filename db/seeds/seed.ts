// Seed generator: builds a large realistic database straight into chunks and rollups (no hot log),
// with a progress bar on stderr. Run: node --import tsx db/seeds/seed.ts --data-dir ./data-seed [options]
import { parseArgs } from 'node:util'
import BetterSqlite from 'better-sqlite3'
import { encodeChunk } from '../chunks.ts'
import { bucketPoints, createRollupStore, TIERS } from '../rollups.ts'
import { openStorage } from '../storage.ts'

export interface SeedOptions {
  dataDir: string
  machines: number
  sensorsPerMachine: number
  /** Sensors that get readings; the rest only a latest value. */
  activeSensors: number
  hours: number
  intervalMs: number
  shape: 'sine' | 'walk' | 'step' | 'mixed'
  resolution: number
  endMs: number
}

const HOUR_MS = 3_600_000

function signal(shape: SeedOptions['shape'], sensor: number) {
  const kind = shape === 'mixed' ? (['sine', 'walk', 'step'] as const)[sensor % 3]! : shape
  let level = 20 + (sensor % 50)
  let seed = sensor * 2654435761
  const noise = () => {
    seed = (seed * 1103515245 + 12345) >>> 0
    return seed / 2 ** 32 - 0.5
  }
  return (tsMs: number): number => {
    if (kind === 'sine') return level + 5 * Math.sin(tsMs / 600_000 + sensor) + noise() * 0.1
    if (kind === 'walk') {
      level += noise() * 0.05
      return level
    }
    return level + (Math.floor(tsMs / 900_000) % 2) * 10
  }
}

export function seed(options: SeedOptions, progress: (done: number, total: number) => void = () => {}) {
  const storage = openStorage({ dataDir: options.dataDir, synchronous: 'NORMAL', busyTimeoutMs: 5000 })
  const db = openBulk(storage.file)
  const rollups = createRollupStore(db)
  const now = Date.now()
  const factoryId = (
    db
      .prepare(
        `INSERT INTO factories (key, name, timezone, created_ms, updated_ms) VALUES (?, ?, 'UTC', ?, ?) RETURNING id`,
      )
      .get(`seed-${now}`, 'Seeded plant', now, now) as { id: number }
  ).id
  const sensorIds: number[] = []
  db.transaction(() => {
    const machine = db.prepare(
      'INSERT INTO machines (factory_id, key, name, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?) RETURNING id',
    )
    const sensor = db.prepare(
      `INSERT INTO sensors (machine_id, key, name, unit, resolution, expected_interval_ms, created_ms, updated_ms)
       VALUES (?, ?, ?, 'C', ?, ?, ?, ?) RETURNING id`,
    )
    for (let m = 0; m < options.machines; m++) {
      const machineId = (machine.get(factoryId, `m${m}`, `Machine ${m}`, now, now) as { id: number }).id
      for (let s = 0; s < options.sensorsPerMachine; s++) {
        const r = sensor.get(
          machineId,
          `s${s}`,
          `Sensor ${s}`,
          options.resolution,
          options.intervalMs,
          now,
          now,
        )
        sensorIds.push((r as { id: number }).id)
      }
    }
  })()
  const latest = db.prepare(
    `INSERT INTO sensor_latest (sensor_id, ts_ms, value) VALUES (?, ?, ?)
     ON CONFLICT (sensor_id) DO UPDATE SET ts_ms = excluded.ts_ms, value = excluded.value`,
  )
  const segment = db.prepare(
    'INSERT INTO reading_segments (min_ts_ms, max_ts_ms, readings, created_ms) VALUES (?, ?, ?, ?) RETURNING id',
  )
  const chunk = db.prepare(
    'INSERT INTO reading_chunks (segment_id, sensor_id, min_ts_ms, max_ts_ms, count, data) VALUES (?, ?, ?, ?, ?, ?)',
  )
  const bound = db.prepare(
    `INSERT INTO sensor_chunk_bounds (sensor_id, max_ts_ms) VALUES (?, ?)
     ON CONFLICT (sensor_id) DO UPDATE SET max_ts_ms = max(max_ts_ms, excluded.max_ts_ms)`,
  )
  const active = sensorIds.slice(0, options.activeSensors)
  const signals = active.map((id) => signal(options.shape, id))
  const startMs = Math.floor((options.endMs - options.hours * HOUR_MS) / HOUR_MS) * HOUR_MS
  const perHour = Math.floor(HOUR_MS / options.intervalMs)
  const q = options.resolution
  let readings = 0
  // One segment per hour of data: chunks of one hour per sensor, rollups of the same points.
  for (let h = 0; h < options.hours; h++) {
    const hourMs = startMs + h * HOUR_MS
    db.transaction(() => {
      const id = (segment.get(hourMs, hourMs + HOUR_MS - 1, active.length * perHour, now) as { id: number })
        .id
      const tsMs = new Float64Array(perHour)
      const values = new Float64Array(perHour)
      active.forEach((sensorId, i) => {
        const phase = sensorId % options.intervalMs
        for (let k = 0; k < perHour; k++) {
          tsMs[k] = hourMs + phase + k * options.intervalMs
          values[k] = Math.round(signals[i]!(tsMs[k]!) / q) / Math.round(1 / q)
        }
        chunk.run(id, sensorId, tsMs[0]!, tsMs[perHour - 1]!, perHour, encodeChunk(tsMs, values, q))
        for (const tier of TIERS) rollups.add(tier.name, sensorId, bucketPoints(tsMs, values, tier.widthMs))
        if (h === options.hours - 1) {
          latest.run(sensorId, tsMs[perHour - 1]!, values[perHour - 1]!)
          bound.run(sensorId, tsMs[perHour - 1]!)
        }
      })
    })()
    readings += active.length * perHour
    progress(h + 1, options.hours)
  }
  for (const sensorId of sensorIds.slice(options.activeSensors)) latest.run(sensorId, options.endMs, 0)
  db.close()
  storage.close()
  return { factoryId, sensorIds, readings, startMs, endMs: startMs + options.hours * HOUR_MS }
}

/** A second connection with a large cache and no fsync: seeding is a bulk load. */
function openBulk(file: string) {
  const db = new BetterSqlite(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = OFF')
  db.pragma('cache_size = -262144')
  return db
}

function progressBar(done: number, total: number): void {
  const width = 40
  const filled = Math.round((done / total) * width)
  process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} hours`)
  if (done === total) process.stderr.write('\n')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      'data-dir': { type: 'string', default: './data-seed' },
      machines: { type: 'string', default: '200' },
      'sensors-per-machine': { type: 'string', default: '100' },
      'active-sensors': { type: 'string', default: '10000' },
      hours: { type: 'string', default: '28' },
      'interval-ms': { type: 'string', default: '1000' },
      shape: { type: 'string', default: 'mixed' },
      resolution: { type: 'string', default: '0.01' },
    },
  })
  const started = performance.now()
  const result = seed(
    {
      dataDir: values['data-dir']!,
      machines: Number(values.machines),
      sensorsPerMachine: Number(values['sensors-per-machine']),
      activeSensors: Number(values['active-sensors']),
      hours: Number(values.hours),
      intervalMs: Number(values['interval-ms']),
      shape: values.shape as SeedOptions['shape'],
      resolution: Number(values.resolution),
      endMs: Date.now(),
    },
    progressBar,
  )
  const seconds = (performance.now() - started) / 1000
  console.log(JSON.stringify({ readings: result.readings, factoryId: result.factoryId, seconds }))
}
