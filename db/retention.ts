// Retention per tier: raw readings older than rawMs, rollup buckets that ended before their tier's
// horizon. Each step is one small transaction so ingestion never waits long behind it.
import { compute } from '../crates/factory_compute/binding.ts'
import { decodeChunk, encodeChunk } from './chunks.ts'
import type { Sqlite } from './connection.ts'
import { HOT_BLOCKS_EDITED, PART_SHIFT, UNCOMPACTED } from './hot-blocks.ts'
import { TIERS } from './rollups.ts'

export interface RetentionOptions {
  /** null keeps raw readings (and each tier below) forever. */
  rawMs: number | null
  minuteMs: number | null
  hourMs: number | null
}

export const DEFAULT_RETENTION: RetentionOptions = {
  rawMs: 30 * 86_400_000,
  minuteMs: 365 * 86_400_000,
  hourMs: null,
}

export interface RetentionResult {
  chunksDeleted: number
  chunksTrimmed: number
  hotRowsDeleted: number
  rollupsDeleted: number
  /** True when nothing older than the horizons is left. */
  done: boolean
}

export function createRetention(db: Sqlite, options: RetentionOptions = DEFAULT_RETENTION) {
  const q = {
    oldChunks: db
      .prepare(
        `SELECT c.segment_id, c.sensor_id, c.max_ts_ms, c.data FROM reading_segments s
         JOIN reading_chunks c ON c.segment_id = s.id WHERE s.min_ts_ms < ? AND c.min_ts_ms < ? LIMIT ?`,
      )
      .raw(),
    deleteChunk: db.prepare('DELETE FROM reading_chunks WHERE segment_id = ? AND sensor_id = ?'),
    updateChunk: db.prepare(
      'UPDATE reading_chunks SET min_ts_ms = ?, count = ?, data = ? WHERE segment_id = ? AND sensor_id = ?',
    ),
    resolution: db.prepare('SELECT resolution FROM sensors WHERE id = ?').pluck(),
    segmentMin: db.prepare('SELECT min(min_ts_ms) FROM reading_chunks WHERE segment_id = ?').pluck(),
    updateSegment: db.prepare('UPDATE reading_segments SET min_ts_ms = ? WHERE id = ?'),
    deleteSegment: db.prepare('DELETE FROM reading_segments WHERE id = ?'),
    oldBlocks: db
      .prepare(`SELECT id, data FROM hot_blocks b WHERE min_ts_ms < ? AND ${UNCOMPACTED('b')} LIMIT ?`)
      .raw(),
    updateBlock: db.prepare(
      'UPDATE hot_blocks SET min_ts_ms = ?, max_ts_ms = ?, rows = ?, data = ? WHERE id = ?',
    ),
    deleteBlock: db.prepare('DELETE FROM hot_blocks WHERE id = ?'),
    hotBlocksEdited: db.prepare(HOT_BLOCKS_EDITED),
    oldestBucket: Object.fromEntries(
      TIERS.map((t) => [t.name, db.prepare(`SELECT min(bucket_ms) FROM ${t.name}`).pluck()]),
    ),
    deleteBuckets: Object.fromEntries(
      TIERS.map((t) => [t.name, db.prepare(`DELETE FROM ${t.name} WHERE bucket_ms < ?`)]),
    ),
  }
  const horizonMs = { rollups_1m: options.minuteMs, rollups_1h: options.hourMs }

  const run = db.transaction((nowMs: number, maxChunks: number, bucketSpanMs: number): RetentionResult => {
    // No raw horizon: a cutoff before every timestamp deletes nothing.
    const cutoff = options.rawMs === null ? Number.MIN_SAFE_INTEGER : nowMs - options.rawMs
    const result = { chunksDeleted: 0, chunksTrimmed: 0, hotRowsDeleted: 0, rollupsDeleted: 0, done: true }
    const rows = q.oldChunks.all(cutoff, cutoff, maxChunks) as [number, number, number, Buffer][]
    if (rows.length === maxChunks) result.done = false
    const segments = new Set<number>()
    for (const [segmentId, sensorId, maxTs, data] of rows) {
      segments.add(segmentId)
      if (maxTs < cutoff) {
        q.deleteChunk.run(segmentId, sensorId)
        result.chunksDeleted++
        continue
      }
      const chunk = decodeChunk(data)
      let keep = 0
      while (chunk.tsMs[keep]! < cutoff) keep++
      const tsMs = chunk.tsMs.subarray(keep)
      const values = chunk.values.subarray(keep)
      const resolution = (q.resolution.get(sensorId) as number | null | undefined) ?? null
      q.updateChunk.run(tsMs[0]!, tsMs.length, encodeChunk(tsMs, values, resolution), segmentId, sensorId)
      result.chunksTrimmed++
    }
    for (const segmentId of segments) {
      const min = q.segmentMin.get(segmentId) as number | null
      if (min === null) q.deleteSegment.run(segmentId)
      else q.updateSegment.run(min, segmentId)
    }
    // Hot blocks keep their readings at or after the cutoff (re-encoded), or go when none is left.
    const blocks = q.oldBlocks.all(cutoff, maxChunks) as [number, Buffer][]
    if (blocks.length === maxChunks) result.done = false
    for (const [id, data] of blocks) {
      const c = compute.decodeHotBlock(data)
      const keep: number[] = []
      for (let i = 0; i < c.tsMs.length; i++) if (c.tsMs[i]! >= cutoff) keep.push(i)
      result.hotRowsDeleted += c.tsMs.length - keep.length
      q.hotBlocksEdited.run()
      if (keep.length === 0) {
        q.deleteBlock.run(id)
        continue
      }
      const b = compute.encodeHotBlocks(c.sensorId, c.tsMs, c.values, Uint32Array.from(keep), PART_SHIFT)
      q.updateBlock.run(b.minTsMs[0], b.maxTsMs[0], b.rows[0], b.data[0], id)
    }
    for (const tier of TIERS) {
      const horizon = horizonMs[tier.name]
      if (horizon === null) continue
      // A bucket goes once all of it is older than the horizon.
      const limit = nowMs - horizon - tier.widthMs + 1
      const oldest = q.oldestBucket[tier.name]!.get() as number | null
      if (oldest === null || oldest >= limit) continue
      const upTo = Math.min(limit, oldest + bucketSpanMs)
      result.rollupsDeleted += q.deleteBuckets[tier.name]!.run(upTo).changes
      if (upTo < limit) result.done = false
    }
    return result
  })

  return {
    options,
    /** One bounded step: up to maxChunks chunks and bucketSpanMs of each rollup tier. */
    step(nowMs = Date.now(), maxChunks = 2000, bucketSpanMs = 3_600_000): RetentionResult {
      return run.immediate(nowMs, maxChunks, bucketSpanMs)
    },
    /** Steps until nothing is left to delete. */
    runAll(nowMs = Date.now()): RetentionResult {
      const total = { chunksDeleted: 0, chunksTrimmed: 0, hotRowsDeleted: 0, rollupsDeleted: 0, done: false }
      while (!total.done) {
        const r = this.step(nowMs)
        total.chunksDeleted += r.chunksDeleted
        total.chunksTrimmed += r.chunksTrimmed
        total.hotRowsDeleted += r.hotRowsDeleted
        total.rollupsDeleted += r.rollupsDeleted
        total.done = r.done
      }
      return total
    },
  }
}

export type Retention = ReturnType<typeof createRetention>
