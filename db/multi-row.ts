// Many rows per INSERT: one statement call per row cost more than SQLite's own work per row when
// compaction writes thousands of small rows (chunks, latest values, rollup buckets) per step.
import type { Statement } from 'better-sqlite3'
import type { Sqlite } from './connection.ts'

const ROWS_PER_STATEMENT = 64

/**
 * Prepares `sql(values)` for 64 rows and for one; `values` is the VALUES list of `(?, …)` groups with
 * `columns` parameters each. The returned function binds `count` rows through `fill(k, params, at)`, which
 * writes row k's parameters at params[at..at+columns). The parameters reach `run` as arguments, not as one
 * array, which better-sqlite3 reads element by element through V8's generic property lookup: a rollup-shaped
 * upsert runs 1.2x as fast this way (tests/bench/multi-row-bench.ts).
 */
export function multiRowInsert(db: Sqlite, columns: number, sql: (values: string) => string) {
  const group = `(${Array(columns).fill('?').join(', ')})`
  const many: Statement = db.prepare(sql(Array(ROWS_PER_STATEMENT).fill(group).join(', ')))
  const one: Statement = db.prepare(sql(group))
  const params: unknown[] = new Array(ROWS_PER_STATEMENT * columns)
  const single: unknown[] = new Array(columns)
  return (count: number, fill: (k: number, params: unknown[], at: number) => void): void => {
    let k = 0
    for (; k + ROWS_PER_STATEMENT <= count; k += ROWS_PER_STATEMENT) {
      for (let j = 0; j < ROWS_PER_STATEMENT; j++) fill(k + j, params, j * columns)
      many.run(...params)
    }
    for (; k < count; k++) {
      fill(k, single, 0)
      one.run(...single)
    }
  }
}
