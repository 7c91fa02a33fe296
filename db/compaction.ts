// Compaction: moves hot blocks into per-sensor compressed chunks (with rollups and latest values), one sensor group per short transaction; then merges the small chunks those steps write into
// larger ones, a window of sensors per transaction. The writer runs the steps between batches.
import { compute } from '../crates/factory_compute/binding.ts'
import type { Sqlite } from './connection.ts'
import { COMPACTED_MARK, PART_SHIFT, UNCOMPACTED } from './hot-blocks.ts'
import type { CachedBlock, HotCache } from './hot-cache.ts'
import type { HotIndex } from './hot-index.ts'
import { multiRowInsert } from './multi-row.ts'
import { createRollupStore } from './rollups.ts'

export interface CompactionOptions {
  /** Compact once the hot blocks hold this many rows... */
  minHotRows: number
  /** ...or one sensor group has this many blocks (a lone device's one-reading commits make many tiny ones,
   * and every query of its sensors reads them all)... */
  maxHotBlocks: number
  /** ...or once the oldest block is this old. */
  maxHotAgeMs: number
  /**
   * Past this many hot rows the writer moves hot blocks before it takes the next batch, so ingestion slows
   * to the pace compaction keeps (the broker stops reading devices' sockets) instead of the hot tier, and
   * its index in the writer's memory, growing for as long as a flood lasts.
   */
  maxHotRows: number
  /** Readings moved per step (whole blocks of one sensor group; at least one block). Keeps steps short. */
  maxRowsPerStep: number
  /** Merge small chunks once their segments hold this many readings... */
  minMergeReadings: number
  /** ...or once the oldest of them is this old. */
  maxMergeAgeMs: number
  /** A sensor with more readings than this in one merge job's small chunks keeps them as they are. */
  maxMergeSensorReadings: number
}

export const DEFAULT_COMPACTION: CompactionOptions = {
  minHotRows: 800_000,
  maxHotBlocks: 4096,
  maxHotRows: 1_200_000,
  maxHotAgeMs: 60_000,
  maxRowsPerStep: 12_000,
  minMergeReadings: 20_000_000,
  maxMergeAgeMs: 3_600_000,
  maxMergeSensorReadings: 100_000,
}

export interface CompactionResult {
  /** 'hot': hot blocks moved into chunks; 'purge': moved blocks deleted; 'merge': small chunks merged. */
  kind: 'hot' | 'purge' | 'merge'
  segmentId: number
  readings: number
  chunks: number
}

type Columns = ReturnType<typeof compute.compactHotBlocks>

/** Bounds of a segment before its first chunk: no query range matches them. */
const EMPTY_MIN_MS = Number.MAX_SAFE_INTEGER
const EMPTY_MAX_MS = Number.MIN_SAFE_INTEGER
/** Ids of moved hot blocks deleted per step (a step deletes the moved ones among them). */
const PURGE_BLOCKS_PER_STEP = 400
/** How often the writer looks whether small chunks are due for merging. */
const MERGE_CHECK_MS = 1000

export function createCompactor(
  db: Sqlite,
  index: HotIndex,
  hotTier: {
    rows(): number
    largestPart(): number
    moved(rows: number): void
    set(rows: number): void
    grouped(): void
  },
  hotCache: HotCache,
  options: CompactionOptions = DEFAULT_COMPACTION,
) {
  const rollups = createRollupStore(db)
  const q = {
    oldestBlock: db
      .prepare(`SELECT id, created_ms FROM hot_blocks b WHERE ${UNCOMPACTED('b')} ORDER BY id LIMIT 1`)
      .raw(),
    lastBlock: db.prepare(`SELECT max(id) FROM hot_blocks b WHERE ${UNCOMPACTED('b')}`).pluck(),
    // Once a group is done every block up to its newest is in chunks: the hot rows are the newer blocks'.
    hotRowsAfter: db.prepare('SELECT coalesce(sum(rows), 0) FROM hot_blocks WHERE id > ?').pluck(),
    partsUpTo: db.prepare('SELECT DISTINCT part FROM hot_blocks WHERE id <= ? ORDER BY part').pluck(),
    // The mark as a parameter bounds the (part, id) index: the blocks are one range seek, not a scan of the
    // group's moved blocks that are not purged yet.
    markOf: db.prepare(`SELECT ${COMPACTED_MARK('?')}`).pluck(),
    blocksOfPart: db
      .prepare(
        'SELECT id, rows, data FROM hot_blocks WHERE part = ? AND id > ? AND id <= ? ORDER BY id LIMIT ?',
      )
      .raw(),
    hotBlockEdits: db.prepare('SELECT n FROM hot_block_edits').pluck(),
    mark: db.prepare(
      `INSERT INTO hot_compacted (part, last_block_id) VALUES (?, ?)
       ON CONFLICT (part) DO UPDATE SET last_block_id = max(last_block_id, excluded.last_block_id)`,
    ),
    firstBlock: db.prepare('SELECT min(id) FROM hot_blocks').pluck(),
    lastMarked: db.prepare('SELECT max(last_block_id) FROM hot_compacted').pluck(),
    purge: db.prepare(
      `DELETE FROM hot_blocks WHERE id >= ? AND id < ?
       AND id <= (SELECT last_block_id FROM hot_compacted c WHERE c.part = hot_blocks.part)`,
    ),
    resolutions: db.prepare('SELECT id, resolution FROM sensors WHERE id >= ? AND id < ?').raw(),
    segmentExists: db.prepare('SELECT 1 FROM reading_segments WHERE id = ?').pluck(),
    segment: db.prepare(
      `INSERT INTO reading_segments (min_ts_ms, max_ts_ms, readings, created_ms, level)
       VALUES (?, ?, 0, ?, ?) RETURNING id`,
    ),
    growSegment: db.prepare(
      `UPDATE reading_segments SET min_ts_ms = min(min_ts_ms, ?), max_ts_ms = max(max_ts_ms, ?),
       readings = readings + ? WHERE id = ?`,
    ),
    chunks: multiRowInsert(
      db,
      6,
      (values) =>
        `INSERT INTO reading_chunks (segment_id, sensor_id, min_ts_ms, max_ts_ms, count, data) VALUES ${values}`,
    ),
    // A sensor deleted meanwhile gets no row (its id may be reused).
    latest: multiRowInsert(
      db,
      3,
      (values) =>
        `INSERT INTO sensor_latest (sensor_id, ts_ms, value) SELECT v.column1, v.column2, v.column3
         FROM (VALUES ${values}) v WHERE EXISTS (SELECT 1 FROM sensors WHERE id = v.column1)
         ON CONFLICT (sensor_id) DO UPDATE SET ts_ms = excluded.ts_ms, value = excluded.value
         WHERE excluded.ts_ms >= sensor_latest.ts_ms`,
    ),
    // Merging: small segments old enough, their readings, and the chunks of a window of sensors.
    smallSegments: db
      .prepare(
        'SELECT id, min_ts_ms, max_ts_ms, readings, created_ms FROM reading_segments WHERE level = 0 ORDER BY id',
      )
      .raw(),
    maxSensorOf: db.prepare('SELECT max(sensor_id) FROM reading_chunks WHERE segment_id = ?').pluck(),
    chunksIn: db
      .prepare(
        'SELECT sensor_id, count, data FROM reading_chunks WHERE segment_id = ? AND sensor_id >= ? AND sensor_id < ?',
      )
      .raw(),
    deleteChunk: db.prepare('DELETE FROM reading_chunks WHERE segment_id = ? AND sensor_id = ?'),
    keepSegment: db.prepare(
      'UPDATE reading_segments SET level = 1 WHERE id = ? AND EXISTS (SELECT 1 FROM reading_chunks WHERE segment_id = ?)',
    ),
    deleteChunksIn: db.prepare(
      'DELETE FROM reading_chunks WHERE segment_id = ? AND sensor_id >= ? AND sensor_id < ?',
    ),
    deleteSegmentIfEmpty: db.prepare(
      'DELETE FROM reading_segments WHERE id = ? AND NOT EXISTS (SELECT 1 FROM reading_chunks WHERE segment_id = ?)',
    ),
  }

  const resolutionsOf = (fromId: number, toId: number) => {
    const rows = q.resolutions.all(fromId, toId) as [number, number | null][]
    return {
      ids: Int32Array.from(rows, (r) => r[0]),
      values: Float64Array.from(rows, (r) => r[1] ?? Number.NaN),
    }
  }

  const writeChunks = (segmentId: number, c: Columns, withRollups: boolean) => {
    q.chunks(c.sensorId.length, (k, p, at) => {
      p[at] = segmentId
      p[at + 1] = c.sensorId[k]!
      p[at + 2] = c.minTsMs[k]!
      p[at + 3] = c.maxTsMs[k]!
      p[at + 4] = c.count[k]!
      p[at + 5] = c.data.subarray(c.offsets[k]!, c.offsets[k + 1]!)
    })
    if (!withRollups) return
    // sensor_latest doubles as the newest chunked timestamp per sensor (the writer's chunk bound).
    q.latest(c.sensorId.length, (k, p, at) => {
      p[at] = c.sensorId[k]!
      p[at + 1] = c.maxTsMs[k]!
      p[at + 2] = c.lastValue[k]!
    })
    rollups.addColumns('rollups_1m', c.minute)
    rollups.addColumns('rollups_1h', c.hour)
  }

  const span = (c: Columns) => {
    let min = Number.POSITIVE_INFINITY
    let max = Number.NEGATIVE_INFINITY
    let readings = 0
    for (let k = 0; k < c.sensorId.length; k++) {
      if (c.minTsMs[k]! < min) min = c.minTsMs[k]!
      if (c.maxTsMs[k]! > max) max = c.maxTsMs[k]!
      readings += c.count[k]!
    }
    return { min, max, readings }
  }

  // ---- hot blocks -> chunks: a group is every block up to the newest at its start, moved part by part.
  /** The group's segments, each with the sensor groups already in it (a sensor has one chunk per segment). */
  let group: { lastBlockId: number; parts: number[]; segments: { id: number; parts: Set<number> }[] } | null =
    null

  const moveBlocks = db.transaction((part: number, nowMs: number, maxRows: number) => {
    const g = group!
    // Every block holds at least one reading: a step never needs more blocks than readings. Without the
    // limit, a sensor group of many one-reading blocks (a lone device's commits) was read whole every step.
    const mark = q.markOf.get(part) as number
    const rows =
      hotCache.blocks(part, mark, g.lastBlockId, maxRows + 1, q.hotBlockEdits.get() as number) ??
      (q.blocksOfPart.all(part, mark, g.lastBlockId, maxRows + 1) as CachedBlock[])
    let n = 0
    let last = 0
    const data: Buffer[] = []
    for (const [id, count, blob] of rows) {
      if (n > 0 && n + count > maxRows) break
      n += count
      last = id
      data.push(blob)
    }
    if (data.length === 0) return null
    const res = resolutionsOf(part << PART_SHIFT, (part + 1) << PART_SHIFT)
    const c = compute.compactHotBlocks(data, res.ids, res.values)
    // One chunk per sensor per segment: a second visit to a sensor group goes to the group's next segment.
    let segment = g.segments.find((x) => !x.parts.has(part) && q.segmentExists.get(x.id) !== undefined)
    if (!segment) {
      segment = {
        id: (q.segment.get(EMPTY_MIN_MS, EMPTY_MAX_MS, nowMs, 0) as { id: number }).id,
        parts: new Set(),
      }
      g.segments.push(segment)
    }
    segment.parts.add(part)
    const s = span(c)
    if (c.sensorId.length > 0) q.growSegment.run(s.min, s.max, s.readings, segment.id)
    writeChunks(segment.id, c, true)
    q.mark.run(part, last)
    return { c, last, moved: n, more: rows.length > data.length, segmentId: segment.id }
  })

  const hotStep = (nowMs: number, maxRows = options.maxRowsPerStep): CompactionResult | null => {
    if (!group) {
      const lastBlockId = q.lastBlock.get() as number | null
      if (lastBlockId === null) return null
      group = { lastBlockId, parts: q.partsUpTo.all(lastBlockId) as number[], segments: [] }
      hotTier.grouped()
    }
    const g = group
    const endGroup = () => {
      group = null
      hotTier.set(q.hotRowsAfter.get(g.lastBlockId) as number)
      startPurge()
    }
    const part = g.parts[0]
    if (part === undefined) {
      endGroup()
      return null
    }
    const moved = moveBlocks.immediate(part, nowMs, maxRows)
    if (!moved?.more) g.parts.shift()
    if (g.parts.length === 0) endGroup()
    if (!moved) return { kind: 'hot', segmentId: 0, readings: 0, chunks: 0 }
    // Only after the commit: a failed step leaves both the blocks and the index as they were.
    const { c, last } = moved
    hotCache.moved(part, last)
    for (let k = 0; k < c.sensorId.length; k++) index.noteChunk(c.sensorId[k]!, c.maxTsMs[k]!)
    index.compacted(c.sensorId, c.count)
    hotTier.moved(moved.moved)
    return { kind: 'hot', segmentId: moved.segmentId, readings: moved.moved, chunks: c.sensorId.length }
  }

  // ---- compacted blocks are deleted later, in id order, so each page of the hot table is rewritten once.
  let purge: { nextId: number; endId: number } | null = null
  const startPurge = () => {
    const first = q.firstBlock.get() as number | null
    const end = q.lastMarked.get() as number | null
    purge = first === null || end === null || first > end ? null : { nextId: first, endId: end }
  }
  startPurge()
  const purgeStep = (): CompactionResult => {
    const p = purge!
    const to = Math.min(p.nextId + PURGE_BLOCKS_PER_STEP, p.endId + 1)
    q.purge.run(p.nextId, to)
    p.nextId = to
    if (to > p.endId) purge = null
    return { kind: 'purge', segmentId: 0, readings: 0, chunks: 0 }
  }

  const hotDue = (nowMs: number): boolean => {
    if (group || purge) return true
    if (hotTier.rows() >= options.minHotRows || hotTier.largestPart() >= options.maxHotBlocks) return true
    const oldest = q.oldestBlock.get() as [number, number] | undefined
    return oldest !== undefined && oldest[1] <= nowMs - options.maxHotAgeMs
  }

  // ---- small chunks -> merged chunks: the small segments at the job's start, a window of sensors per step.
  let merge: {
    sources: number[]
    target: number
    nextSensor: number
    endSensor: number
    window: number
  } | null = null

  const mergeWindow = db.transaction((maxRows: number): CompactionResult => {
    const m = merge!
    const from = m.nextSensor
    const to = Math.min(from + m.window, m.endSensor + 1)
    const rows: [number, number, Buffer][][] = m.sources.map(
      (segmentId) => q.chunksIn.all(segmentId, from, to) as [number, number, Buffer][],
    )
    // A sensor with more small-chunk readings than maxMergeSensorReadings stays as it is: a window is at least
    // one sensor, so merging it would be one long step, and at that rate its chunks are large already.
    const perSensor = new Map<number, number>()
    for (const list of rows)
      for (const [sensorId, count] of list) perSensor.set(sensorId, (perSensor.get(sensorId) ?? 0) + count)
    const kept = new Set(
      [...perSensor].filter(([, n]) => n > options.maxMergeSensorReadings).map(([id]) => id),
    )
    const owners: number[] = []
    const data: Buffer[] = []
    for (const list of rows)
      for (const [sensorId, , blob] of list) {
        if (kept.has(sensorId)) continue
        owners.push(sensorId)
        data.push(blob)
      }
    m.nextSensor = to
    if (data.length === 0) return { kind: 'merge', segmentId: m.target, readings: 0, chunks: 0 }
    const res = resolutionsOf(from, to)
    const c = compute.mergeChunks(data, Int32Array.from(owners), res.ids, res.values)
    m.sources.forEach((segmentId, k) => {
      if (kept.size === 0) q.deleteChunksIn.run(segmentId, from, to)
      else for (const [sensorId] of rows[k]!) if (!kept.has(sensorId)) q.deleteChunk.run(segmentId, sensorId)
    })
    writeChunks(m.target, c, false)
    const readings = span(c).readings
    // Aim the next window at about maxRows readings, growing it at most twofold: past sparse sensors, the
    // next ids may be ones with many readings each.
    m.window = Math.max(
      1,
      Math.min(4096, 2 * m.window, Math.floor((m.window * maxRows) / Math.max(readings, 1))),
    )
    return { kind: 'merge', segmentId: m.target, readings, chunks: c.sensorId.length }
  })

  const finishMerge = db.transaction(() => {
    const m = merge!
    for (const id of [...m.sources, m.target]) q.deleteSegmentIfEmpty.run(id, id)
    // What is left in a source belongs to sensors too busy to merge: it is not small, and never merged again.
    for (const id of m.sources) q.keepSegment.run(id, id)
  })

  const startMerge = db.transaction((nowMs: number, force: boolean): boolean => {
    // Segments compaction is still writing are left for the next job.
    const busy = Math.min(...(group?.segments.map((x) => x.id) ?? []))
    const small = (q.smallSegments.all() as [number, number, number, number, number][]).filter(
      ([id]) => id < busy,
    )
    if (small.length < 2) return false
    const readings = small.reduce((n, s) => n + s[3], 0)
    const oldestMs = Math.min(...small.map((s) => s[4]))
    if (!force && readings < options.minMergeReadings && oldestMs > nowMs - options.maxMergeAgeMs)
      return false
    const sources = small.map((s) => s[0])
    const min = Math.min(...small.map((s) => s[1]))
    const max = Math.max(...small.map((s) => s[2]))
    const target = (q.segment.get(min, max, nowMs, 1) as { id: number }).id
    q.growSegment.run(min, max, readings, target)
    let endSensor = -1
    for (const id of sources) endSensor = Math.max(endSensor, (q.maxSensorOf.get(id) as number | null) ?? -1)
    // The first window is one sensor: 64 sensors of a high-rate device (170,000 readings each in one run)
    // made a single step of 11 M readings that held the writer for minutes.
    merge = { sources, target, nextSensor: 0, endSensor, window: 1 }
    return true
  })

  let mergeCheckedMs = Number.NEGATIVE_INFINITY
  const mergeStep = (
    nowMs: number,
    force = false,
    maxRows = options.maxRowsPerStep,
  ): CompactionResult | null => {
    if (!merge) {
      if (!force && nowMs < mergeCheckedMs + MERGE_CHECK_MS) return null
      mergeCheckedMs = nowMs
      if (!startMerge.immediate(nowMs, force)) return null
    }
    const m = merge!
    if (m.nextSensor > m.endSensor || q.segmentExists.get(m.target) === undefined) {
      finishMerge.immediate()
      merge = null
      return { kind: 'merge', segmentId: m.target, readings: 0, chunks: 0 }
    }
    return mergeWindow.immediate(maxRows)
  }

  return {
    /** Whether a step would do something now. */
    isDue(nowMs: number): boolean {
      return hotDue(nowMs) || merge !== null || nowMs >= mergeCheckedMs + MERGE_CHECK_MS
    },

    /**
     * One short transaction: moves one sensor group's oldest hot blocks (up to maxRows readings, by default
     * maxRowsPerStep; at least one block) into chunks when compaction is due, else merges one window of small
     * chunks (about maxRows readings) when that is due.
     * Returns null when there was nothing to do.
     */
    step(nowMs = Date.now(), maxRows = options.maxRowsPerStep): CompactionResult | null {
      if (purge) return purgeStep()
      if (hotDue(nowMs)) {
        const r = hotStep(nowMs, maxRows)
        if (r) return r
      }
      return mergeStep(nowMs, false, maxRows)
    },

    /** Moves every hot block into chunks (tests, shutdown, benchmarks); returns the readings moved. */
    drain(nowMs = Date.now()): number {
      let moved = 0
      for (;;) {
        const r = purge ? purgeStep() : hotStep(nowMs)
        if (r === null) {
          if (q.lastBlock.get() === null) return moved
          continue
        }
        moved += r.readings
      }
    },

    /** Merges all small chunks now, whatever their size or age (tests, benchmarks). */
    mergeAll(nowMs = Date.now()): number {
      let merged = 0
      for (let r = mergeStep(nowMs, true); r !== null; r = mergeStep(nowMs, true)) {
        merged += r.readings
        if (!merge) break
      }
      return merged
    },
  }
}

export type Compactor = ReturnType<typeof createCompactor>
