// Child process for the crash test: writes numbered batches through the reading writer and runs every
// maintenance step (compaction, merging, retention) in between, printing a line after each commit, until
// the parent kills it.
import { openReadingWriter } from '../../db/index.ts'

const [file, sensorList] = process.argv.slice(2) as [string, string]
const sensorIds = sensorList.split(',').map(Number)
const T0 = Date.UTC(2024, 0, 1)
const STEP_MS = 60_000
const writer = openReadingWriter({
  file,
  synchronous: 'NORMAL',
  busyTimeoutMs: 1000,
  retention: { rawMs: 30 * STEP_MS, minuteMs: null, hourMs: null },
  compaction: {
    minHotRows: 1,
    maxHotBlocks: 1,
    maxHotAgeMs: 0,
    maxHotRows: Number.MAX_SAFE_INTEGER,
    maxRowsPerStep: 5,
    minMergeReadings: 20,
    maxMergeAgeMs: 0,
    // Small, so that crashes also land in merge jobs that leave a busy sensor's chunks where they are.
    maxMergeSensorReadings: 30,
  },
})
const batch = (k: number) => {
  // Batch k holds reading k of every sensor plus a resend of reading k - 1.
  const rows = sensorIds.flatMap((id) => [
    [id, T0 + k * STEP_MS, k + id / 10],
    [id, T0 + Math.max(0, k - 1) * STEP_MS, Math.max(0, k - 1) + id / 10],
  ])
  return {
    count: rows.length,
    sensorId: Int32Array.from(rows, (r) => r[0]!),
    tsMs: Float64Array.from(rows, (r) => r[1]!),
    value: Float64Array.from(rows, (r) => r[2]!),
  }
}
for (let k = 0; ; k++) {
  writer.write(batch(k), [])
  process.stdout.write(`ack ${k}\n`)
  const nowMs = T0 + k * STEP_MS + 1
  while (writer.maintain(nowMs)) process.stdout.write('step\n')
  // Retention is the scheduler's job in the service; here it runs after every batch so kills land inside it.
  while (!writer.retentionStep(nowMs).done) process.stdout.write('step\n')
}
