// Benchmarks how compaction's multi-row inserts hand their parameters to better-sqlite3: as arguments
// (db/multi-row.ts) against as one array, on a rollup-shaped upsert (64 rows × 10 columns per statement),
// rounds alternating in one process. Run: node --import tsx tests/bench/multi-row-bench.ts
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { openConnection } from '../../db/connection.ts'
import { multiRowInsert } from '../../db/multi-row.ts'

const ROWS = 64 * 2_000
const ROUNDS = 5
const COLUMNS = 10

const dir = mkdtempSync(path.join(tmpdir(), 'fm-multirow-'))
const db = openConnection({ file: path.join(dir, 'bench.db'), synchronous: 'NORMAL', busyTimeoutMs: 1000 })
db.exec(`CREATE TABLE rollup (bucket_ms INTEGER NOT NULL, sensor_id INTEGER NOT NULL, count REAL, min REAL,
  max REAL, sum REAL, first_ts_ms REAL, first REAL, last_ts_ms REAL, last REAL,
  PRIMARY KEY (bucket_ms, sensor_id)) WITHOUT ROWID`)
const sql = (values: string) =>
  `INSERT INTO rollup VALUES ${values} ON CONFLICT (bucket_ms, sensor_id) DO UPDATE SET
   count = count + excluded.count, min = min(min, excluded.min), max = max(max, excluded.max),
   sum = sum + excluded.sum`
const fill = (k: number, params: unknown[], at: number) => {
  params[at] = 60_000 * Math.floor(k / 1000)
  params[at + 1] = k % 1000
  for (let c = 2; c < COLUMNS; c++) params[at + c] = k * 0.25 + c
}

/** The same statement bound the other way: one array per call. */
function asOneArray(count: number): void {
  const group = `(${Array(COLUMNS).fill('?').join(', ')})`
  const many = db.prepare(sql(Array(64).fill(group).join(', ')))
  const params: unknown[] = new Array(64 * COLUMNS)
  for (let k = 0; k < count; k += 64) {
    for (let j = 0; j < 64; j++) fill(k + j, params, j * COLUMNS)
    many.run(params)
  }
}
const asArguments = multiRowInsert(db, COLUMNS, sql)

function time(insert: () => void): number {
  db.exec('DELETE FROM rollup')
  const start = performance.now()
  db.transaction(insert)()
  return performance.now() - start
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const array: number[] = []
const args: number[] = []
for (let round = 0; round < ROUNDS; round++) {
  array.push(time(() => asOneArray(ROWS)))
  args.push(time(() => asArguments(ROWS, fill)))
}
const rate = (ms: number) => Math.round(ROWS / (ms / 1000)).toLocaleString('en-US')
console.log(`multi-row upsert, ${ROWS.toLocaleString('en-US')} rows, median of ${ROUNDS} alternating rounds`)
console.log(`  parameters as one array: ${rate(median(array))} rows/s`)
console.log(`  parameters as arguments: ${rate(median(args))} rows/s`)
console.log(`  arguments / array: ${(median(array) / median(args)).toFixed(2)}x`)
db.close()
rmSync(dir, { recursive: true, force: true })
