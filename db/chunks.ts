// Compressed per-sensor chunks: encoding through the Rust codec and reading a sensor's points back,
// merged with the hot blocks, in time order.
import { compute } from '../crates/factory_compute/binding.ts'
import type { Sqlite } from './connection.ts'
import { createHotReader } from './hot-blocks.ts'

export interface Points {
  tsMs: Float64Array
  values: Float64Array
}

export const encodeChunk = (tsMs: Float64Array, values: Float64Array, resolution: number | null): Buffer =>
  compute.encodeChunk(tsMs, values, resolution ?? Number.NaN)

export function decodeChunk(data: Uint8Array): Points {
  const decoded = compute.decodeChunk(data)
  return { tsMs: decoded.tsMs, values: decoded.values }
}

interface ChunkRow {
  min_ts_ms: number
  max_ts_ms: number
  count: number
  data: Buffer
}

/** Reads one sensor's points from chunks and the hot log; both are disjoint by construction. */
export function createPointReader(db: Sqlite) {
  const q = {
    chunks: db.prepare(
      `SELECT c.min_ts_ms, c.max_ts_ms, c.count, c.data FROM reading_segments s
       JOIN reading_chunks c ON c.segment_id = s.id AND c.sensor_id = ?
       WHERE s.max_ts_ms >= ? AND s.min_ts_ms < ? AND c.max_ts_ms >= ? AND c.min_ts_ms < ?
       ORDER BY c.min_ts_ms`,
    ),
    chunkCounts: db
      .prepare(
        `SELECT c.min_ts_ms, c.max_ts_ms, c.count, CASE WHEN c.min_ts_ms >= ? AND c.max_ts_ms < ? THEN NULL
         ELSE c.data END AS data FROM reading_segments s
         JOIN reading_chunks c ON c.segment_id = s.id AND c.sensor_id = ?
         WHERE s.max_ts_ms >= ? AND s.min_ts_ms < ? AND c.max_ts_ms >= ? AND c.min_ts_ms < ?`,
      )
      .raw(),
  }
  const hot = createHotReader(db)

  const hotPoints = (sensorId: number, fromMs: number, toMs: number): [number, number][] => {
    const p = hot.points(sensorId, fromMs, toMs)
    const out: [number, number][] = new Array(p.tsMs.length)
    for (let i = 0; i < p.tsMs.length; i++) out[i] = [p.tsMs[i]!, p.values[i]!]
    return out
  }
  /** Runs fn in one read transaction, so a compaction committing meanwhile is seen wholly or not at all. */
  const snapshot = <T>(fn: () => T): T => (db.inTransaction ? fn() : db.transaction(fn).deferred())

  return {
    hotPoints,
    snapshot,

    /** Points of [fromMs, toMs) oldest first; with a limit, stops decoding once the first `limit` are known. */
    points(sensorId: number, fromMs: number, toMs: number, limit = Number.POSITIVE_INFINITY): Points {
      const [hot, chunks] = snapshot(() => [
        hotPoints(sensorId, fromMs, toMs),
        q.chunks.all(sensorId, fromMs, toMs, fromMs, toMs) as ChunkRow[],
      ])
      const ts: number[] = []
      const vs: number[] = []
      for (const [t, v] of hot) ts.push(t) && vs.push(v)
      for (let i = 0; i < chunks.length; i++) {
        const chunk = decodeChunk(chunks[i]!.data)
        for (let j = 0; j < chunk.tsMs.length; j++) {
          const t = chunk.tsMs[j]!
          if (t >= fromMs && t < toMs) ts.push(t) && vs.push(chunk.values[j]!)
        }
        // Chunks come by start time: once `limit` points precede the next chunk's start, we are done.
        const next = chunks[i + 1]
        if (next && ts.length >= limit && countBefore(ts, next.min_ts_ms) >= limit) break
      }
      const order = Array.from(ts.keys()).sort((a, b) => ts[a]! - ts[b]!)
      const n = Math.min(order.length, limit)
      const out = { tsMs: new Float64Array(n), values: new Float64Array(n) }
      for (let i = 0; i < n; i++) {
        out.tsMs[i] = ts[order[i]!]!
        out.values[i] = vs[order[i]!]!
      }
      return out
    },

    /** How many points of [fromMs, toMs) are stored; chunks wholly inside the range are not decoded. */
    count(sensorId: number, fromMs: number, toMs: number): number {
      const [hotCount, rows] = snapshot(() => [
        hotPoints(sensorId, fromMs, toMs).length,
        q.chunkCounts.all(fromMs, toMs, sensorId, fromMs, toMs, fromMs, toMs) as [
          number,
          number,
          number,
          Buffer | null,
        ][],
      ])
      let n = hotCount
      for (const [, , count, data] of rows) {
        if (data === null) {
          n += count
          continue
        }
        const chunk = decodeChunk(data)
        for (const t of chunk.tsMs) if (t >= fromMs && t < toMs) n++
      }
      return n
    },
  }
}

function countBefore(ts: number[], limitMs: number): number {
  let n = 0
  for (const t of ts) if (t < limitMs) n++
  return n
}

export type PointReader = ReturnType<typeof createPointReader>
