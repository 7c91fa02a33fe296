// Storage benchmark: seeds a large database, then measures size per reading, query medians, ingest
// through the reading writer (with compaction and merging) against a plain append-only insert, commit
// latency of large batches and of a lone device's one-reading batches between maintenance steps, and
// bytes written per reading. Run: just bench-storage (env BENCH_HOURS, BENCH_ACTIVE_SENSORS, BENCH_INGEST_ROWS).
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { openReadingWriter, openStorage, parseBucket } from '../../db/index.ts'
import { seed } from '../../db/seeds/seed.ts'

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback)
const HOURS = env('BENCH_HOURS', 28)
const ACTIVE = env('BENCH_ACTIVE_SENSORS', 10_000)
const INGEST_ROWS = env('BENCH_INGEST_ROWS', 10_000_000)
const BATCH_ROWS = env('BENCH_BATCH_ROWS', 50_000)
const INGEST_SENSORS = 10_000

const writeBytes = () => Number(/write_bytes: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))![1])
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * p)]!
function timeIt(fn: () => unknown, runs = 20): number {
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const t = performance.now()
    fn()
    times.push(performance.now() - t)
  }
  return median(times)
}

const dataDir = mkdtempSync(path.join(tmpdir(), 'fm-bench-'))
const report: Record<string, unknown> = {
  hours: HOURS,
  activeSensors: ACTIVE,
  loadAverageAtStart: loadavg()[0],
}
try {
  const endMs = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000
  let t = performance.now()
  const seeded = seed(
    {
      dataDir,
      machines: 200,
      sensorsPerMachine: 100,
      activeSensors: ACTIVE,
      hours: HOURS,
      intervalMs: 1000,
      shape: 'mixed',
      resolution: 0.01,
      endMs,
    },
    (d, n) => process.stderr.write(`\rseeding ${d}/${n} hours`),
  )
  process.stderr.write('\n')
  report.seededReadings = seeded.readings
  report.seedSeconds = (performance.now() - t) / 1000

  const storage = openStorage({ dataDir, synchronous: 'NORMAL', busyTimeoutMs: 5000 })
  storage.close()
  const file = path.join(dataDir, 'factory-monitor.db')
  const writer = openReadingWriter({ file, synchronous: 'NORMAL', busyTimeoutMs: 5000 })
  writer.checkpoint('TRUNCATE')
  // The seed's writes must reach the disk before the clock starts, or their writeback throttles the ingest.
  for (const f of [file, dataDir]) {
    const fd = openSync(f, 'r')
    fsyncSync(fd)
    closeSync(fd)
  }
  report.bytesPerReadingSeeded = statSync(file).size / seeded.readings

  const reader = openStorage({ dataDir, synchronous: 'NORMAL', busyTimeoutMs: 5000 })
  const sensor = seeded.sensorIds[17]!
  const last = seeded.endMs
  report.queryLastHourRawMs = timeIt(() => reader.readings.range(sensor, last - 3_600_000, last, 10_000))
  const minute = parseBucket('1m')!
  const hour = parseBucket('1h')!
  report.queryDay1mMs = timeIt(() =>
    reader.readings.buckets(sensor, { fromMs: last - 86_400_000, toMs: last, bucket: minute }),
  )
  report.query30d1hMs = timeIt(() =>
    reader.readings.buckets(sensor, { fromMs: last - 30 * 86_400_000, toMs: last, bucket: hour }),
  )
  report.queryLatestFactoryMs = timeIt(() => reader.readings.latestForFactory(seeded.factoryId))
  report.latestFactorySensors = reader.readings.latestForFactory(seeded.factoryId).sensorId.length

  // Ingest: 10,000 interleaved sensors continuing after the seed, batches as the gateway sends them.
  const ids = seeded.sensorIds.slice(0, INGEST_SENSORS)
  const makeBatch = (b: number) => {
    const rows = {
      count: BATCH_ROWS,
      sensorId: new Int32Array(BATCH_ROWS),
      tsMs: new Float64Array(BATCH_ROWS),
      value: new Float64Array(BATCH_ROWS),
    }
    for (let i = 0; i < BATCH_ROWS; i++) {
      const n = b * BATCH_ROWS + i
      rows.sensorId[i] = ids[n % ids.length]!
      rows.tsMs[i] = last + Math.floor(n / ids.length) * 1000 + (ids[n % ids.length]! % 1000)
      rows.value[i] = Math.round((20 + Math.sin(n / 1e5) * 5) * 100) / 100
    }
    return rows
  }
  const batches = Math.ceil(INGEST_ROWS / BATCH_ROWS)
  // A lone device: one reading of one sensor per message, committed between maintenance steps.
  const lone = seeded.sensorIds[INGEST_SENSORS]!
  let loneTsMs = last
  const loneRow = {
    count: 1,
    sensorId: Int32Array.of(lone),
    tsMs: new Float64Array(1),
    value: Float64Array.of(1),
  }
  // Baseline: the same rows appended to a plain rowid table, no index, same connection settings, batch by
  // batch between the writer's batches, so both see the same moments of a shared machine.
  const Database = (await import('better-sqlite3')).default
  const plain = new Database(path.join(dataDir, 'plain.db'))
  plain.pragma('journal_mode = WAL')
  plain.pragma('synchronous = NORMAL')
  plain.exec('CREATE TABLE r (sensor_id INTEGER, ts_ms INTEGER, value REAL)')
  const insert = plain.prepare(`INSERT INTO r VALUES ${Array(128).fill('(?, ?, ?)').join(',')}`)
  const params = new Array(384)
  const appendPlain = plain.transaction((rows: ReturnType<typeof makeBatch>) => {
    for (let i = 0; i + 128 <= rows.count; i += 128) {
      for (let j = 0; j < 128; j++) {
        params[j * 3] = rows.sensorId[i + j]
        params[j * 3 + 1] = rows.tsMs[i + j]
        params[j * 3 + 2] = rows.value[i + j]
      }
      insert.run(params)
    }
  })
  let plainMs = 0
  let plainWriteBytes = 0
  const commitMs: number[] = []
  const loneCommitMs: number[] = []
  const stepMs: number[] = []
  let loneStored = 0
  const bytesBefore = writeBytes()
  t = performance.now()
  for (let b = 0; b < batches; b++) {
    const rows = makeBatch(b)
    const c = performance.now()
    writer.write(rows, [])
    commitMs.push(performance.now() - c)
    for (;;) {
      const s = performance.now()
      const more = writer.maintain()
      stepMs.push(performance.now() - s)
      if (!more) break
      loneRow.tsMs[0] = loneTsMs += 1000
      const l = performance.now()
      loneStored += writer.write(loneRow, []).inserted
      loneCommitMs.push(performance.now() - l)
    }
    if (b % 20 === 19) writer.checkpoint('PASSIVE')
    const p = performance.now()
    const w = writeBytes()
    appendPlain.immediate(rows)
    plainWriteBytes += writeBytes() - w
    plainMs += performance.now() - p
  }
  // The lone device's commits are a latency probe, not part of the 10,000-sensor stream: their time is not
  // counted, nor is the baseline's.
  const loopSeconds = (performance.now() - t - plainMs - loneCommitMs.reduce((a, b) => a + b, 0)) / 1000
  // With hot blocks and small chunks present, as a live gateway has them.
  report.queryLastHourRawWhileIngestingMs = timeIt(() =>
    reader.readings.range(ids[17]!, last, last + 3_600_000, 10_000),
  )
  report.queryLatestFactoryWhileIngestingMs = timeIt(() => reader.readings.latestForFactory(seeded.factoryId))
  // Everything written is compacted and merged before the clock stops: no work is left for later.
  t = performance.now()
  writer.compactAll()
  report.finalCompactionSeconds = (performance.now() - t) / 1000
  t = performance.now()
  writer.mergeAll()
  report.finalMergeSeconds = (performance.now() - t) / 1000
  t = performance.now()
  writer.checkpoint('TRUNCATE')
  const ingestSeconds =
    loopSeconds +
    (report.finalCompactionSeconds as number) +
    (report.finalMergeSeconds as number) +
    (performance.now() - t) / 1000
  const stored = batches * BATCH_ROWS
  report.ingestReadingsPerSecond = stored / ingestSeconds
  report.ingestLoopReadingsPerSecond = stored / loopSeconds
  report.commitP99Ms = pct(commitMs, 0.99)
  report.commitMaxMs = Math.max(...commitMs)
  report.loneCommits = loneCommitMs.length
  report.loneCommitP99Ms = pct(loneCommitMs, 0.99)
  report.loneCommitMaxMs = Math.max(...loneCommitMs)
  report.maintenanceSteps = stepMs.length
  report.maintenanceStepP99Ms = pct(stepMs, 0.99)
  report.maintenanceStepMaxMs = Math.max(...stepMs)
  // The baseline's bytes (counted at page-dirtying time, around its commits) are not the writer's.
  report.writeBytesPerReading = (writeBytes() - bytesBefore - plainWriteBytes) / (stored + loneStored)
  report.bytesPerReadingAfterIngest = statSync(file).size / (seeded.readings + stored + loneStored)
  report.queryLastHourRawAfterIngestMs = timeIt(() =>
    reader.readings.range(ids[17]!, last, last + 3_600_000, 10_000),
  )
  writer.close()

  report.plainAppendReadingsPerSecond = (batches * BATCH_ROWS) / (plainMs / 1000)
  report.ingestVsPlain =
    (report.ingestReadingsPerSecond as number) / (report.plainAppendReadingsPerSecond as number)
  plain.close()

  report.loadAverageAtEnd = loadavg()[0]
  reader.close()
  console.log(JSON.stringify(report, null, 2))
} finally {
  if (existsSync(dataDir)) rmSync(dataDir, { recursive: true, force: true })
}
