import { afterEach, describe, expect, it } from 'vitest'
import { createCompactor, openReadingWriter } from '../../db/index.ts'
import { openTestDb } from './helpers.ts'

const T0 = Date.UTC(2024, 0, 1)
let t: ReturnType<typeof openTestDb>
afterEach(() => t?.close())

describe('reading writer and compaction', () => {
  it('ignores resends of readings in the hot log, in chunks and across chunk boundaries', () => {
    t = openTestDb()
    const [a, b] = t.sensorIds as [number, number]
    expect(
      t.write([
        [a, T0, 1],
        [a, T0 + 1000, 2],
        [b, T0, 3],
      ]),
    ).toEqual({ inserted: 3, duplicates: 0, rejects: 0 })
    expect(
      t.write([
        [a, T0, 9],
        [a, T0 + 2000, 4],
      ]),
    ).toEqual({ inserted: 1, duplicates: 1, rejects: 0 })
    t.compactor.drain()
    expect(t.write([[a, T0 + 3000, 5]])).toEqual({ inserted: 1, duplicates: 0, rejects: 0 })
    // Resends of chunked readings, a late reading between them and a duplicate inside the batch.
    expect(
      t.write([
        [a, T0 + 1000, 9],
        [a, T0 + 500, 6],
        [a, T0 + 500, 7],
        [b, T0, 9],
      ]),
    ).toEqual({
      inserted: 1,
      duplicates: 3,
      rejects: 0,
    })
    t.compactor.drain()
    expect(
      t.write([
        [a, T0 + 500, 9],
        [a, T0 + 3000, 9],
      ]).inserted,
    ).toBe(0)
    expect(t.storage.readings.range(a, 0, T0 + 10_000, 100)).toEqual([
      { tsMs: T0, value: 1 },
      { tsMs: T0 + 500, value: 6 },
      { tsMs: T0 + 1000, value: 2 },
      { tsMs: T0 + 2000, value: 4 },
      { tsMs: T0 + 3000, value: 5 },
    ])
    expect(t.storage.readings.count({ sensorId: a, fromMs: T0 + 500, toMs: T0 + 3000 })).toBe(3)
  })

  it('keeps the limit and order of range queries over chunks and hot rows', () => {
    t = openTestDb()
    const a = t.sensorIds[0]!
    for (let i = 0; i < 10; i++) t.write([[a, T0 + i * 1000, i]])
    t.compactor.step()
    t.write([[a, T0 - 1000, -1]])
    expect(t.storage.readings.range(a, 0, T0 + 1e6, 3)).toEqual([
      { tsMs: T0 - 1000, value: -1 },
      { tsMs: T0, value: 0 },
      { tsMs: T0 + 1000, value: 1 },
    ])
    expect([...t.storage.readings.pages(a, 0, T0 + 1e6, 4)].map((p) => p.length)).toEqual([4, 4, 3])
  })

  it('leaves hot log and chunks untouched when a compaction fails mid-transaction', () => {
    t = openTestDb()
    const a = t.sensorIds[0]!
    t.write([
      [a, T0, 1],
      [a, T0 + 1000, 2],
    ])
    t.db.exec(
      `CREATE TEMP TRIGGER fail_rollup BEFORE INSERT ON rollups_1h BEGIN SELECT RAISE(ABORT, 'injected'); END`,
    )
    expect(() => t.compactor.step()).toThrow('injected')
    const count = (table: string) => t.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get()
    // Blocks at or below their group's compacted mark are already in chunks, waiting to be deleted.
    const hotRows = () =>
      t.db
        .prepare(
          `SELECT coalesce(sum(rows), 0) FROM hot_blocks b
           WHERE b.id > coalesce((SELECT last_block_id FROM hot_compacted c WHERE c.part = b.part), 0)`,
        )
        .pluck()
        .get()
    expect([hotRows(), count('reading_chunks'), count('rollups_1m')]).toEqual([2, 0, 0])
    expect(t.write([[a, T0, 1]]).duplicates).toBe(1)
    t.db.exec('DROP TRIGGER fail_rollup')
    expect(t.compactor.step()?.readings).toBe(2)
    expect([hotRows(), count('reading_chunks'), count('rollups_1h')]).toEqual([0, 1, 1])
    expect(t.write([[a, T0 + 1000, 2]]).duplicates).toBe(1)
  })

  it('compacts once a sensor group has maxHotBlocks blocks, however few readings they hold', () => {
    t = openTestDb()
    const [a] = t.sensorIds as [number]
    const compactor = createCompactor(t.db, t.writer.index, t.writer.hotTier, t.writer.hotCache, {
      minHotRows: Number.MAX_SAFE_INTEGER,
      maxHotBlocks: 3,
      maxHotAgeMs: Number.MAX_SAFE_INTEGER,
      maxHotRows: Number.MAX_SAFE_INTEGER,
      maxRowsPerStep: 1000,
      minMergeReadings: Number.MAX_SAFE_INTEGER,
      maxMergeAgeMs: Number.MAX_SAFE_INTEGER,
      maxMergeSensorReadings: Number.MAX_SAFE_INTEGER,
    })
    const moved: (number | undefined)[] = []
    for (let i = 0; i < 4; i++) {
      t.write([[a, T0 + i * 1000, i]])
      moved.push(compactor.step(T0)?.readings)
    }
    // Two blocks: not due (merging finds nothing); three: all three move in one step; the next step
    // deletes the moved blocks, leaving the fourth one hot.
    expect(moved).toEqual([undefined, undefined, 3, 0])
    expect([t.writer.hotTier.rows(), t.writer.hotTier.largestPart()]).toEqual([1, 1])
  })

  it('finds every resent reading of a replayed batch, in hot blocks in or out of order and in chunks', () => {
    t = openTestDb()
    const [a, b] = t.sensorIds as [number, number]
    const rows = (sensor: number, n: number, from = 0) =>
      Array.from({ length: n }, (_, i) => [sensor, T0 + (from + i) * 1000, i] as [number, number, number])
    // a: in order; b: one late reading breaks the order of its hot timestamps.
    t.write([...rows(a, 500), ...rows(b, 500, 1)])
    t.write([[b, T0, 7]])
    const replay = [...rows(a, 500), ...rows(b, 500, 1), [b, T0, 7] as [number, number, number]]
    expect(t.write(replay)).toEqual({ inserted: 0, duplicates: 1001, rejects: 0 })
    t.compactor.drain()
    // Now in chunks (one decode per chunk for the whole batch), plus one new reading each.
    expect(t.write([...replay, [a, T0 + 500_000, 1], [b, T0 + 501_000, 1]])).toEqual({
      inserted: 2,
      duplicates: 1001,
      rejects: 0,
    })
  })
  it('forgets a batch rolled back with the enclosing transaction: its resend is stored, once', () => {
    t = openTestDb()
    const [a] = t.sensorIds as [number]
    const writer = openReadingWriter({ file: t.storage.file, synchronous: 'NORMAL', busyTimeoutMs: 1000 })
    const rows = {
      count: 2,
      sensorId: Int32Array.of(a, a),
      tsMs: Float64Array.of(T0, T0 + 1000),
      value: Float64Array.of(1, 2),
    }
    // As if the commit itself failed: the batch's savepoint was released, the transaction around it was not.
    expect(() =>
      writer.transaction(() => {
        writer.write(rows, [])
        throw new Error('commit failed')
      }),
    ).toThrow('commit failed')
    expect(writer.transaction(() => writer.write(rows, []))).toEqual({
      inserted: 2,
      duplicates: 0,
      rejects: 0,
    })
    writer.compactAll()
    writer.close()
    expect(t.db.prepare('SELECT sum(count) FROM reading_chunks').pluck().get()).toBe(2)
  })

  it("moves what the table holds, not the writer's copy, after another connection edited hot blocks", () => {
    t = openTestDb()
    const [a, b] = t.sensorIds as [number, number]
    t.write([
      [a, T0, 1],
      [b, T0, 2],
    ])
    // The API deletes sensor b (its hot readings with it) on its own connection.
    expect(t.storage.catalog.deleteSensor(b)).toBe(true)
    t.compactor.drain()
    expect(t.db.prepare('SELECT sensor_id, count FROM reading_chunks').raw().all()).toEqual([[a, 1]])
  })
  it('still knows every stored reading after compaction moved only the oldest blocks of a sensor', () => {
    t = openTestDb()
    const [a] = t.sensorIds as [number]
    const readings = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => [a, T0 + (from + i) * 1000, i] as [number, number, number])
    for (const from of [0, 40, 80]) t.write(readings(from, 40))
    // At most 50 readings per step: the first block (40) moves, the other two stay hot.
    expect(t.compactor.step(T0)?.readings).toBe(40)
    expect(t.write(readings(0, 120))).toEqual({ inserted: 0, duplicates: 120, rejects: 0 })
    // Between the chunk's newest reading and the hot ones: new.
    expect(t.write([[a, T0 + 39_500, 1]])).toEqual({ inserted: 1, duplicates: 0, rejects: 0 })
  })
  it("merges the small chunks of quiet sensors and leaves a busy sensor's where they are", () => {
    t = openTestDb()
    const [a, b] = t.sensorIds as [number, number]
    const compactor = createCompactor(t.db, t.writer.index, t.writer.hotTier, t.writer.hotCache, {
      minHotRows: 1,
      maxHotBlocks: 1,
      maxHotAgeMs: 0,
      maxHotRows: Number.MAX_SAFE_INTEGER,
      maxRowsPerStep: 1000,
      minMergeReadings: Number.MAX_SAFE_INTEGER,
      maxMergeAgeMs: Number.MAX_SAFE_INTEGER,
      maxMergeSensorReadings: 50,
    })
    // Three compaction groups, three small segments: a gets 40 readings in each (120 > 50), b gets 2.
    for (let g = 0; g < 3; g++) {
      t.write([
        ...Array.from({ length: 40 }, (_, i) => [a, T0 + (g * 40 + i) * 1000, i] as [number, number, number]),
        [b, T0 + g * 2000, g],
        [b, T0 + g * 2000 + 1000, g],
      ])
      compactor.drain()
    }
    expect(compactor.mergeAll()).toBe(6)
    const chunks = () =>
      t.db
        .prepare(
          `SELECT s.level, c.sensor_id, c.count FROM reading_chunks c JOIN reading_segments s ON s.id = c.segment_id
           ORDER BY c.sensor_id, s.id`,
        )
        .raw()
        .all()
    // b: one merged chunk; a: its three chunks, in segments no longer small.
    const merged = [
      [1, a, 40],
      [1, a, 40],
      [1, a, 40],
      [1, b, 6],
    ]
    expect(chunks()).toEqual(merged)
    expect(compactor.mergeAll()).toBe(0)
    expect(chunks()).toEqual(merged)
    expect(
      t.write([
        [a, T0, 9],
        [b, T0, 9],
      ]),
    ).toEqual({ inserted: 0, duplicates: 2, rejects: 0 })
  })
})
