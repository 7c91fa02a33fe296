// The hot tier as read by queries: compressed blocks, one per (commit, group of 128 sensor ids), decoded
// in Rust. Blocks hold readings not yet compacted, so they add to the chunks and to sensor_latest.
import { compute } from '../crates/factory_compute/binding.ts'
import type { Sqlite } from './connection.ts'

/**
 * sensor_id >> PART_SHIFT names a block's sensor group: 128 consecutive ids. Smaller groups mean more
 * blocks per commit; larger ones longer compaction steps (each step handles one group's sensors).
 */
export const PART_SHIFT = 7
export const partOf = (sensorId: number): number => sensorId >> PART_SHIFT

/** SQL: the newest block id of a group already in chunks (0 when none). */
export const COMPACTED_MARK = (part: string) =>
  `coalesce((SELECT last_block_id FROM hot_compacted WHERE part = ${part}), 0)`
/** SQL condition: block alias `b` still holds readings that are not in chunks. */
export const UNCOMPACTED = (b: string) => `${b}.id > ${COMPACTED_MARK(`${b}.part`)}`
/** SQL run in the transaction of any change to hot blocks other than appending or purging moved ones. */
export const HOT_BLOCKS_EDITED = 'UPDATE hot_block_edits SET n = n + 1'

export interface LatestPoint {
  tsMs: number
  value: number
}

export function createHotReader(db: Sqlite) {
  const q = {
    blocks: db
      .prepare(
        `SELECT data FROM hot_blocks WHERE part = ? AND id > ${COMPACTED_MARK('?')}
         AND max_ts_ms >= ? AND min_ts_ms < ? ORDER BY id`,
      )
      .pluck(),
    blocksOfPart: db.prepare(`SELECT data FROM hot_blocks b WHERE part = ? AND ${UNCOMPACTED('b')}`).pluck(),
    allBlocks: db.prepare(`SELECT data FROM hot_blocks b WHERE ${UNCOMPACTED('b')}`).pluck(),
  }

  return {
    /** One sensor's hot readings in [fromMs, toMs), unordered across blocks. */
    points(sensorId: number, fromMs: number, toMs: number): { tsMs: Float64Array; values: Float64Array } {
      const part = partOf(sensorId)
      const blocks = q.blocks.all(part, part, fromMs, toMs) as Buffer[]
      if (blocks.length === 0) return { tsMs: new Float64Array(0), values: new Float64Array(0) }
      return compute.hotBlockPoints(blocks, sensorId, fromMs, toMs)
    },

    /**
     * The newest hot reading of each sensor (of the listed ones, or of all). The caller reads this and
     * sensor_latest in one read transaction, so a compaction in between cannot hide a reading.
     */
    latest(sensorIds?: Iterable<number>): Map<number, LatestPoint> {
      let blocks: Buffer[]
      let wanted: Set<number> | null = null
      if (sensorIds === undefined) blocks = q.allBlocks.all() as Buffer[]
      else {
        wanted = new Set(sensorIds)
        blocks = []
        for (const part of new Set([...wanted].map(partOf)))
          for (const b of q.blocksOfPart.all(part) as Buffer[]) blocks.push(b)
      }
      const out = new Map<number, LatestPoint>()
      if (blocks.length === 0) return out
      // One entry per sensor: Rust keeps the newest over all blocks.
      const c = compute.hotBlockLatest(blocks)
      for (let i = 0; i < c.sensorId.length; i++) {
        const id = c.sensorId[i]!
        if (!wanted || wanted.has(id)) out.set(id, { tsMs: c.tsMs[i]!, value: c.values[i]! })
      }
      return out
    },
  }
}

export type HotReader = ReturnType<typeof createHotReader>

/**
 * Newest readings of sensors: sensor_latest (compacted readings) overlaid with the hot blocks, read in one
 * transaction. `rows` carry the stored latest (or null); returns them with hot values applied.
 */
export function overlayHotLatest<T extends { sensorId: number; tsMs: number | null; value: number | null }>(
  hot: HotReader,
  rows: T[],
  all = false,
): T[] {
  const newer = hot.latest(all ? undefined : rows.map((r) => r.sensorId))
  if (newer.size === 0) return rows
  for (const r of rows) {
    const h = newer.get(r.sensorId)
    if (h && (r.tsMs === null || h.tsMs >= r.tsMs)) {
      r.tsMs = h.tsMs
      r.value = h.value
    }
  }
  return rows
}

/** Removes one sensor's readings from the hot blocks (the sensor was deleted; its id may be reused). */
export function deleteHotReadings(db: Sqlite, sensorId: number): void {
  const blocks = db.prepare('SELECT id, data FROM hot_blocks WHERE part = ?').raw().all(partOf(sensorId)) as [
    number,
    Buffer,
  ][]
  const update = db.prepare(
    'UPDATE hot_blocks SET min_ts_ms = ?, max_ts_ms = ?, rows = ?, data = ? WHERE id = ?',
  )
  const remove = db.prepare('DELETE FROM hot_blocks WHERE id = ?')
  const edited = db.prepare(HOT_BLOCKS_EDITED)
  for (const [id, data] of blocks) {
    const c = compute.decodeHotBlock(data)
    const keep: number[] = []
    for (let i = 0; i < c.sensorId.length; i++) if (c.sensorId[i] !== sensorId) keep.push(i)
    if (keep.length === c.sensorId.length) continue
    edited.run()
    if (keep.length === 0) {
      remove.run(id)
      continue
    }
    const b = compute.encodeHotBlocks(c.sensorId, c.tsMs, c.values, Uint32Array.from(keep), PART_SHIFT)
    update.run(b.minTsMs[0], b.maxTsMs[0], b.rows[0], b.data[0], id)
  }
}
