// The single writer of readings: one transaction per batch (one compressed hot block per group of sensors,
// rejects, statuses), de-duplicated on (sensor, ts) against hot blocks and chunks through the in-memory
// hot index. Latest values are kept by compaction; readers overlay the hot blocks.
import { compute } from '../crates/factory_compute/binding.ts'
import { decodeChunk } from './chunks.ts'
import type { Sqlite } from './connection.ts'
import { translateSqliteError } from './errors.ts'
import { PART_SHIFT, partOf, UNCOMPACTED } from './hot-blocks.ts'
import { createHotCache } from './hot-cache.ts'
import { createHotIndex, type HotIndex } from './hot-index.ts'
import type { MachineStatus } from './types.ts'

/** Accepted readings as columns; only the first `count` entries are used. */
export interface ReadingColumns {
  count: number
  sensorId: Int32Array
  tsMs: Float64Array
  value: Float64Array
}

export interface RejectRecord {
  receivedMs: number
  machineId: number | null
  clientId: string
  topic: string
  reason: string
  sensorKey: string | null
  detail: string
  payload: Uint8Array
  payloadTruncated: boolean
}

export interface StatusChange {
  machineId: number
  status: MachineStatus
  atMs: number
}

export interface WriteResult {
  inserted: number
  duplicates: number
  rejects: number
}

/** What the validator needs to know about a sensor. */
export interface SensorSpec {
  machineId: number
  sensorId: number
  key: string
  minValue: number | null
  maxValue: number | null
}

/** Hot rows converted per transaction when an older database still holds a row-per-reading hot log. */
const LEGACY_ROWS_PER_STEP = 200_000
/** The copy of hot blocks kept for compaction stops growing here (~800,000 readings take 2–3 MB). */
const HOT_CACHE_MAX_BYTES = 16 * 1024 * 1024

export function createReadingWriter(db: Sqlite) {
  const q = {
    block: db.prepare(
      'INSERT INTO hot_blocks (part, min_ts_ms, max_ts_ms, rows, created_ms, data) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    chunksAt: db
      .prepare(
        `SELECT c.segment_id FROM reading_segments s JOIN reading_chunks c ON c.segment_id = s.id AND c.sensor_id = ?
         WHERE s.max_ts_ms >= ? AND s.min_ts_ms <= ? AND c.min_ts_ms <= ? AND c.max_ts_ms >= ?`,
      )
      .pluck(),
    chunkData: db.prepare('SELECT data FROM reading_chunks WHERE segment_id = ? AND sensor_id = ?').pluck(),
    // In id order: the index keeps each sensor's hot timestamps in the order of their blocks.
    blocks: db.prepare(`SELECT part, data FROM hot_blocks b WHERE ${UNCOMPACTED('b')} ORDER BY id`).raw(),
    newestBlock: db.prepare('SELECT coalesce(max(id), 0) FROM hot_blocks').pluck(),
    hotBlockEdits: db.prepare('SELECT n FROM hot_block_edits').pluck(),
    blocksOfPart: db
      .prepare(`SELECT data FROM hot_blocks b WHERE part = ? AND ${UNCOMPACTED('b')} ORDER BY id`)
      .pluck(),
    // Compaction keeps sensor_latest at the newest chunked reading; sensor_chunk_bounds is from older versions.
    chunkBounds: db
      .prepare(
        `SELECT sensor_id, max(t) FROM (SELECT sensor_id, max_ts_ms AS t FROM sensor_chunk_bounds
         UNION ALL SELECT sensor_id, ts_ms FROM sensor_latest) GROUP BY sensor_id`,
      )
      .raw(),
    chunkBoundOf: db
      .prepare(
        `SELECT max(t) FROM (SELECT max_ts_ms AS t FROM sensor_chunk_bounds WHERE sensor_id = ?
         UNION ALL SELECT ts_ms FROM sensor_latest WHERE sensor_id = ?)`,
      )
      .pluck(),
    legacyBatches: db.prepare('SELECT id FROM hot_batches ORDER BY id LIMIT 1').pluck(),
    legacyRows: db
      .prepare(
        'SELECT sensor_id, ts_ms, value FROM readings_hot WHERE batch_id = ? ORDER BY sensor_id, ts_ms LIMIT ?',
      )
      .raw(),
    legacyDelete: db.prepare('DELETE FROM readings_hot WHERE batch_id = ? AND (sensor_id, ts_ms) <= (?, ?)'),
    legacyDeleteBatch: db.prepare('DELETE FROM hot_batches WHERE id = ?'),
    reject: db.prepare(
      `INSERT INTO rejected_readings (received_ms, machine_id, client_id, topic, reason, sensor_key, detail,
       payload, payload_truncated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    status: db.prepare(
      `UPDATE machines SET status = ?, status_since_ms = ? WHERE id = ?
       AND (status <> ? OR status_since_ms IS NULL) AND coalesce(status_since_ms, 0) <= ?`,
    ),
    sensorSpecs: db.prepare(
      'SELECT machine_id AS machineId, id AS sensorId, key, min_value AS minValue, max_value AS maxValue FROM sensors',
    ),
    sensorSpecsOfMachine: db.prepare(
      `SELECT machine_id AS machineId, id AS sensorId, key, min_value AS minValue, max_value AS maxValue
       FROM sensors WHERE machine_id = ?`,
    ),
    autoRegisterMachines: db.prepare('SELECT id FROM machines WHERE auto_register_sensors = 1').pluck(),
    autoRegister: db.prepare('SELECT auto_register_sensors FROM machines WHERE id = ?').pluck(),
    registerSensor: db.prepare(
      `INSERT INTO sensors (machine_id, key, name, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (machine_id, key) DO UPDATE SET updated_ms = updated_ms RETURNING id`,
    ),
  }

  const index: HotIndex = createHotIndex()
  /** Rows and blocks in the hot tier, kept here so the compactor need not scan the blocks to decide. */
  let hotRows = 0
  /** Blocks per sensor group since compaction last started a group, and the most any group has. */
  let partBlocks = new Map<number, number>()
  let largestPart = 0
  const countBlock = (part: number) => {
    const n = (partBlocks.get(part) ?? 0) + 1
    partBlocks.set(part, n)
    if (n > largestPart) largestPart = n
  }

  // Timestamps of the chunks one batch's resends were checked against, decoded once per batch: a device
  // replaying thousands of readings that are already in one large chunk decoded it for every reading.
  let decodedChunks = new Map<string, Float64Array>()
  const chunkTimestamps = (segmentId: number, sensorId: number): Float64Array => {
    const key = `${segmentId}:${sensorId}`
    let ts = decodedChunks.get(key)
    if (!ts) {
      ts = decodeChunk(q.chunkData.get(segmentId, sensorId) as Buffer).tsMs
      decodedChunks.set(key, ts)
    }
    return ts
  }
  const inChunks = (sensorId: number, tsMs: number): boolean => {
    for (const segmentId of q.chunksAt.all(sensorId, tsMs, tsMs, tsMs, tsMs) as number[]) {
      const ts = chunkTimestamps(segmentId, sensorId)
      let lo = 0
      let hi = ts.length - 1
      while (lo <= hi) {
        const mid = (lo + hi) >> 1
        const t = ts[mid]!
        if (t === tsMs) return true
        if (t < tsMs) lo = mid + 1
        else hi = mid - 1
      }
    }
    return false
  }

  /** Inserts one block per sensor group; returns the groups, and the block id of each from the first one's up. */
  const insertBlocks = (
    sensorId: Int32Array,
    tsMs: Float64Array,
    value: Float64Array,
    accepted: Uint32Array,
  ): {
    parts: Int32Array
    firstPart: number
    blockOfPart: Float64Array
    rows: Uint32Array
    data: Buffer[]
  } => {
    if (accepted.length === 0)
      return {
        parts: new Int32Array(0),
        firstPart: 0,
        blockOfPart: new Float64Array(0),
        rows: new Uint32Array(0),
        data: [],
      }
    const blocks = compute.encodeHotBlocks(sensorId, tsMs, value, accepted, PART_SHIFT)
    const now = Date.now()
    // Parts come back ascending.
    const firstPart = blocks.part[0]!
    const blockOfPart = new Float64Array(blocks.part[blocks.part.length - 1]! - firstPart + 1)
    for (let k = 0; k < blocks.part.length; k++) {
      const { lastInsertRowid } = q.block.run(
        blocks.part[k]!,
        blocks.minTsMs[k]!,
        blocks.maxTsMs[k]!,
        blocks.rows[k]!,
        now,
        blocks.data[k]!,
      )
      blockOfPart[blocks.part[k]! - firstPart] = Number(lastInsertRowid)
    }
    return { parts: blocks.part, firstPart, blockOfPart, rows: blocks.rows, data: blocks.data }
  }

  const learnBlock = (part: number, data: Buffer) => {
    const c = compute.decodeHotBlock(data)
    for (let i = 0; i < c.sensorId.length; i++) index.noteHot(c.sensorId[i]!, c.tsMs[i]!)
    hotRows += c.sensorId.length
    countBlock(part)
  }

  // Rows of the old row-per-reading hot log become blocks, a bounded transaction at a time.
  const convertLegacy = db.transaction((): boolean => {
    const batchId = q.legacyBatches.get() as number | undefined
    if (batchId === undefined) return false
    const rows = q.legacyRows.all(batchId, LEGACY_ROWS_PER_STEP) as [number, number, number][]
    if (rows.length < LEGACY_ROWS_PER_STEP) q.legacyDeleteBatch.run(batchId)
    if (rows.length === 0) return true
    const sensorId = Int32Array.from(rows, (r) => r[0])
    const tsMs = Float64Array.from(rows, (r) => r[1])
    const value = Float64Array.from(rows, (r) => r[2])
    insertBlocks(sensorId, tsMs, value, Uint32Array.from(rows.keys()))
    const last = rows[rows.length - 1]!
    q.legacyDelete.run(batchId, last[0], last[1])
    return true
  })
  while (convertLegacy.immediate()) {}

  for (const [sensorId, maxTsMs] of q.chunkBounds.all() as [number, number][])
    index.noteChunk(sensorId, maxTsMs)
  for (const [part, data] of q.blocks.all() as [number, Buffer][]) learnBlock(part, data)
  // Blocks committed from here on are copied for compaction; the ones already on disk it reads from there.
  const hotCache = createHotCache({
    maxBytes: HOT_CACHE_MAX_BYTES,
    newestBlockId: q.newestBlock.get() as number,
    edits: q.hotBlockEdits.get() as number,
  })

  const reindexSensor = (sensorId: number) => {
    index.forget(sensorId)
    const bound = q.chunkBoundOf.get(sensorId, sensorId) as number | null
    if (bound !== null) index.noteChunk(sensorId, bound)
    for (const data of q.blocksOfPart.all(partOf(sensorId)) as Buffer[]) {
      const p = compute.hotBlockPoints([data], sensorId, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY)
      for (const t of p.tsMs) index.noteHot(sensorId, t)
    }
  }

  // What a write learns, held back while an enclosing transaction (the caller's) is still open.
  let uncommitted: (() => void)[] = []
  const afterCommit = (learn: () => void) => {
    if (db.inTransaction) uncommitted.push(learn)
    else learn()
  }

  const commit = db.transaction((rows: ReadingColumns, rejects: RejectRecord[], statuses: StatusChange[]) => {
    decodedChunks = new Map()
    const accepted = index.filterNew(rows, inChunks)
    decodedChunks = new Map()
    const blocks = insertBlocks(rows.sensorId, rows.tsMs, rows.value, accepted)
    for (const r of rejects) {
      q.reject.run(
        r.receivedMs,
        r.machineId,
        r.clientId,
        r.topic,
        r.reason,
        r.sensorKey,
        r.detail,
        r.payload,
        r.payloadTruncated ? 1 : 0,
      )
    }
    for (const s of statuses) q.status.run(s.status, s.atMs, s.machineId, s.status, s.atMs)
    return {
      result: {
        inserted: accepted.length,
        duplicates: rows.count - accepted.length,
        rejects: rejects.length,
      },
      accepted,
      blocks,
    }
  })

  return {
    /** Commits one batch atomically; throws a StorageError (DB_WRITE_FAILED) when the commit fails. */
    write(rows: ReadingColumns, rejects: RejectRecord[], statuses: StatusChange[] = []): WriteResult {
      try {
        const { result, accepted, blocks } = commit.immediate(rows, rejects, statuses)
        // The index and the block copy learn the rows only once they are committed: inside an enclosing
        // transaction, when that one commits (a resend of rows rolled back must not look like a duplicate).
        afterCommit(() => {
          for (let k = 0; k < blocks.parts.length; k++) {
            const part = blocks.parts[k]!
            hotCache.add(part, blocks.blockOfPart[part - blocks.firstPart]!, blocks.rows[k]!, blocks.data[k]!)
          }
          index.noteAccepted(rows, accepted)
          hotRows += accepted.length
          for (const part of blocks.parts) countBlock(part)
        })
        return result
      } catch (error) {
        return translateSqliteError(error, 'batch')
      }
    },

    sensorSpecs(machineId?: number): SensorSpec[] {
      const specs = (
        machineId === undefined ? q.sensorSpecs.all() : q.sensorSpecsOfMachine.all(machineId)
      ) as SensorSpec[]
      // A sensor may have been deleted (and its id reused) since the index learnt it: relearn from disk.
      if (machineId !== undefined) for (const s of specs) reindexSensor(s.sensorId)
      return specs
    },

    /** Ends the caller's transaction around writes: what they wrote is learnt only if it committed. */
    settle(committed: boolean): void {
      const learn = uncommitted
      uncommitted = []
      if (committed) for (const f of learn) f()
    },

    /** The in-memory index; compaction tells it what moved into chunks. */
    index,
    /** The hot blocks this writer committed, for compaction to read. */
    hotCache,
    /** The hot tier as this writer knows it; compaction subtracts what it moves. */
    hotTier: {
      rows: () => hotRows,
      /** Most blocks any sensor group received since compaction last started a group. */
      largestPart: () => largestPart,
      moved: (rows: number) => {
        hotRows = Math.max(0, hotRows - rows)
      },
      set: (rows: number) => {
        hotRows = rows
      },
      /** Compaction takes every block written so far: counting starts again. */
      grouped: () => {
        partBlocks = new Map()
        largestPart = 0
      },
    },

    autoRegisterMachineIds: (): number[] => q.autoRegisterMachines.all() as number[],
    isAutoRegister: (machineId: number): boolean => q.autoRegister.get(machineId) === 1,

    /** Creates (or finds) a sensor a device reported on a machine that auto-registers sensors. */
    registerSensor(machineId: number, key: string): number {
      const now = Date.now()
      return (q.registerSensor.get(machineId, key, key, now, now) as { id: number }).id
    },

    /** Folds the WAL back into the database file; TRUNCATE also resets the WAL to zero bytes. */
    checkpoint(mode: 'PASSIVE' | 'TRUNCATE' = 'PASSIVE'): void {
      db.pragma(`wal_checkpoint(${mode})`)
    },
  }
}

export type ReadingWriter = ReturnType<typeof createReadingWriter>
