// Compaction: moves the oldest hot batches into one new segment of per-sensor compressed chunks and
// folds them into the rollup tiers, all in one short transaction run by the writer between batches.
import { encodeChunk } from './chunks.ts'
import type { Sqlite } from './connection.ts'
import type { HotIndex } from './hot-index.ts'
import { bucketPoints, createRollupStore, TIERS } from './rollups.ts'

export interface CompactionOptions {
  /** Compact once the hot log holds this many rows... */
  minHotRows: number
  /** ...or once its oldest batch is this old. */
  maxHotAgeMs: number
  /** Rows moved per step (whole batches; at least one). Keeps each transaction short. */
  maxRowsPerStep: number
}

export const DEFAULT_COMPACTION: CompactionOptions = {
  minHotRows: 400_000,
  maxHotAgeMs: 120_000,
  maxRowsPerStep: 200_000,
}

export interface CompactionResult {
  segmentId: number
  readings: number
  chunks: number
  lastBatchId: number
  /** Newest chunked timestamp per sensor written by this step. */
  bounds: [sensorId: number, maxTsMs: number][]
}

export function createCompactor(
  db: Sqlite,
  index: HotIndex,
  options: CompactionOptions = DEFAULT_COMPACTION,
) {
  const rollups = createRollupStore(db)
  const q = {
    hotState: db.prepare(
      'SELECT coalesce(sum(rows), 0) AS rows, min(created_ms) AS oldestMs FROM hot_batches',
    ),
    batches: db.prepare('SELECT id, rows FROM hot_batches ORDER BY id LIMIT 4096').raw(),
    rows: db.prepare('SELECT sensor_id, ts_ms, value FROM readings_hot WHERE batch_id BETWEEN ? AND ?').raw(),
    resolutions: db.prepare('SELECT id, resolution FROM sensors').raw(),
    segment: db.prepare(
      'INSERT INTO reading_segments (min_ts_ms, max_ts_ms, readings, created_ms) VALUES (?, ?, ?, ?) RETURNING id',
    ),
    chunk: db.prepare(
      'INSERT INTO reading_chunks (segment_id, sensor_id, min_ts_ms, max_ts_ms, count, data) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    bound: db.prepare(
      `INSERT INTO sensor_chunk_bounds (sensor_id, max_ts_ms) VALUES (?, ?)
       ON CONFLICT (sensor_id) DO UPDATE SET max_ts_ms = max(max_ts_ms, excluded.max_ts_ms)`,
    ),
    segmentBounds: db.prepare('UPDATE reading_segments SET min_ts_ms = ?, max_ts_ms = ? WHERE id = ?'),
    deleteRows: db.prepare('DELETE FROM readings_hot WHERE batch_id BETWEEN ? AND ?'),
    deleteBatches: db.prepare('DELETE FROM hot_batches WHERE id BETWEEN ? AND ?'),
  }

  const move = db.transaction((firstBatch: number, lastBatch: number, nowMs: number): CompactionResult => {
    const rows = q.rows.all(firstBatch, lastBatch) as [number, number, number][]
    const bounds: [number, number][] = []
    if (rows.length === 0) {
      q.deleteBatches.run(firstBatch, lastBatch)
      return { segmentId: 0, readings: 0, chunks: 0, lastBatchId: lastBatch, bounds }
    }
    rows.sort((a, b) => a[0] - b[0] || a[1] - b[1])
    const resolution = new Map(q.resolutions.all() as [number, number | null][])
    const segmentId = (q.segment.get(rows[0]![1], rows[0]![1], rows.length, nowMs) as { id: number }).id
    let minTs = Number.POSITIVE_INFINITY
    let maxTs = Number.NEGATIVE_INFINITY
    let chunks = 0
    for (let start = 0; start < rows.length; ) {
      const sensorId = rows[start]![0]
      let end = start
      while (end < rows.length && rows[end]![0] === sensorId) end++
      const tsMs = new Float64Array(end - start)
      const values = new Float64Array(end - start)
      for (let i = start; i < end; i++) {
        tsMs[i - start] = rows[i]![1]
        values[i - start] = rows[i]![2]
      }
      const first = tsMs[0]!
      const last = tsMs[tsMs.length - 1]!
      q.chunk.run(
        segmentId,
        sensorId,
        first,
        last,
        tsMs.length,
        encodeChunk(tsMs, values, resolution.get(sensorId) ?? null),
      )
      q.bound.run(sensorId, last)
      bounds.push([sensorId, last])
      for (const tier of TIERS) rollups.add(tier.name, sensorId, bucketPoints(tsMs, values, tier.widthMs))
      minTs = Math.min(minTs, first)
      maxTs = Math.max(maxTs, last)
      chunks++
      start = end
    }
    q.segmentBounds.run(minTs, maxTs, segmentId)
    q.deleteRows.run(firstBatch, lastBatch)
    q.deleteBatches.run(firstBatch, lastBatch)
    return { segmentId, readings: rows.length, chunks, lastBatchId: lastBatch, bounds }
  })

  return {
    /** Whether a step would do something now. */
    isDue(nowMs: number): boolean {
      const state = q.hotState.get() as { rows: number; oldestMs: number | null }
      return (
        state.rows > 0 &&
        (state.rows >= options.minHotRows || (state.oldestMs ?? nowMs) <= nowMs - options.maxHotAgeMs)
      )
    },

    /** Moves the oldest hot batches (up to maxRowsPerStep rows) into a new segment; null when the log is empty. */
    step(nowMs = Date.now()): CompactionResult | null {
      const batches = q.batches.all() as [number, number][]
      if (batches.length === 0) return null
      let rows = 0
      let last = batches[0]![0]
      for (const [id, n] of batches) {
        if (rows > 0 && rows + n > options.maxRowsPerStep) break
        rows += n
        last = id
      }
      const result = move.immediate(batches[0]![0], last, nowMs)
      // Only after the commit: a failed step leaves both the log and the index as they were.
      for (const [sensorId, maxTsMs] of result.bounds) index.noteChunk(sensorId, maxTsMs)
      index.compacted(last)
      return result
    },

    /** Compacts until the hot log is empty (tests, shutdown, benchmarks). */
    drain(nowMs = Date.now()): number {
      let moved = 0
      for (let r = this.step(nowMs); r !== null; r = this.step(nowMs)) moved += r.readings
      return moved
    },
  }
}

export type Compactor = ReturnType<typeof createCompactor>
