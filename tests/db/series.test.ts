import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { parseBucket } from '../../db/index.ts'
import { openTestDb } from './helpers.ts'

let t: ReturnType<typeof openTestDb>
afterEach(() => t?.close())

const T0 = Date.UTC(2024, 2, 30, 20) // Saturday evening before the Berlin spring change

describe('bucketed queries', () => {
  it('answers from rollup tiers exactly what raw readings give, with late and out-of-order data', () => {
    t = openTestDb(2)
    const a = t.sensorIds[0]!
    const rng = fc.sample(
      fc.tuple(fc.integer({ min: 0, max: 2 * 86_400_000 }), fc.integer({ min: -400, max: 400 })),
      {
        seed: 42,
        numRuns: 3000,
      },
    )
    rng.forEach(([offsetMs, half], i) => {
      t.write([[a, T0 + offsetMs, half / 2]])
      if (i % 700 === 0) t.compactor.step()
    })
    t.compactor.step()
    for (const [bucket, tz, tier] of [
      ['1h', 'UTC', '1h'],
      ['15m', 'UTC', '1m'],
      ['1d', 'Europe/Berlin', '1h'],
      ['1d', 'Asia/Kolkata', '1m'],
      ['7s', 'UTC', 'raw'],
    ] as const) {
      const query = { fromMs: T0, toMs: T0 + 2 * 86_400_000, bucket: parseBucket(bucket)!, timeZone: tz }
      const fromTier = t.storage.readings.buckets(a, query)
      const fromRaw = t.storage.readings.buckets(a, { ...query, tier: 'raw' })
      expect(fromTier.tier).toBe(tier)
      expect(fromTier.buckets).toEqual(fromRaw.buckets)
    }
  })

  it('cuts days at local midnight across the Berlin DST changes', () => {
    t = openTestDb(1)
    const a = t.sensorIds[0]!
    for (let h = 0; h < 72; h++) t.write([[a, T0 + h * 3_600_000, 1]])
    t.compactor.drain()
    const days = t.storage.readings.buckets(a, {
      fromMs: T0,
      toMs: T0 + 72 * 3_600_000,
      bucket: parseBucket('1d')!,
      timeZone: 'Europe/Berlin',
    })
    expect(days.buckets.map((b) => [new Date(b.startMs).toISOString(), b.count])).toEqual([
      ['2024-03-29T23:00:00.000Z', 3],
      ['2024-03-30T23:00:00.000Z', 23],
      ['2024-03-31T22:00:00.000Z', 24],
      ['2024-04-01T22:00:00.000Z', 22],
    ])
    const autumn = Date.UTC(2024, 9, 26, 22)
    const b = t.storage.readings.buckets(a, {
      fromMs: autumn,
      toMs: autumn + 2 * 86_400_000,
      bucket: parseBucket('1d')!,
      timeZone: 'Europe/Berlin',
      fill: 'null',
    })
    expect(b.buckets.map((x) => x.endMs - x.startMs)).toEqual([25 * 3_600_000, 24 * 3_600_000])
  })

  it('fills gaps with null, the previous bucket or a linear interpolation', () => {
    t = openTestDb(1)
    const a = t.sensorIds[0]!
    t.write([
      [a, T0, 10],
      [a, T0 + 3 * 60_000, 40],
    ])
    const q = { fromMs: T0, toMs: T0 + 4 * 60_000, bucket: parseBucket('1m')! }
    const avg = (fill: 'null' | 'previous' | 'linear') =>
      t.storage.readings.buckets(a, { ...q, fill }).buckets.map((b) => b.avg)
    expect(avg('null')).toEqual([10, null, null, 40])
    expect(avg('previous')).toEqual([10, 10, 10, 40])
    expect(avg('linear')).toEqual([10, 20, 30, 40])
    expect(t.storage.readings.buckets(a, q).buckets.length).toBe(2)
  })
})

describe('retention', () => {
  it('deletes raw readings and rollup buckets past their horizons and nothing else', () => {
    t = openTestDb(2)
    const [a, b] = t.sensorIds as [number, number]
    const day = 86_400_000
    const now = T0 + 30 * day
    for (let d = 0; d < 30; d++)
      t.write([
        [a, T0 + d * day, d],
        [a, T0 + d * day + 7_200_000, d],
        [b, T0 + d * day, d],
      ])
    t.compactor.drain()
    t.write([[a, now - 15 * day + 1, 99]])
    const rawCutoff = now - 10 * day
    const result = t.retention.runAll(now)
    expect(result.done).toBe(true)
    const kept = t.storage.readings.range(a, 0, now, 1000)
    expect(kept.every((r) => r.tsMs >= rawCutoff)).toBe(true)
    expect(kept.length).toBe(2 * 10)
    expect(t.storage.readings.count({ sensorId: b, fromMs: 0, toMs: now })).toBe(10)
    // The hour tier is kept forever; the minute tier keeps buckets ending after now - 20 days.
    const count = (sql: string) => t.db.prepare(sql).pluck().get()
    expect(count('SELECT count(*) FROM rollups_1h')).toBe(90)
    expect(count(`SELECT count(*) FROM rollups_1m WHERE bucket_ms < ${now - 20 * day}`)).toBe(0)
    expect(count('SELECT count(*) FROM rollups_1m')).toBe(3 * 20)
  })
})
