// LTTB downsampling: the Rust addon agrees with the TypeScript twin; the first and last points are kept.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createAnalytics, lttb } from '../../../api/analytics/index.ts'
import { differences, errorOf, longSeries, seriesArbitrary } from './support.ts'

const rust = createAnalytics({ engine: 'rust' })

describe('lttb', () => {
  it('selects the same points in Rust and TypeScript, at most the number asked for', async () => {
    await fc.assert(
      fc.asyncProperty(seriesArbitrary(), fc.integer({ min: 2, max: 60 }), async (series, points) => {
        const expected = lttb(series, points)
        expect(expected.index.length).toBe(Math.min(points, series.values.length))
        expect(differences(await rust.lttb(series, points), expected)).toEqual([])
      }),
      { numRuns: 300 },
    )
  })

  it('agrees on a 100k-point shuffled series reduced to 1000 points, keeping its time span', async () => {
    const series = longSeries(100_000, 23, false)
    const expected = lttb(series, 1000)
    const tsMs = series.tsMs.slice().sort()
    expect([expected.tsMs[0], expected.tsMs[999]]).toEqual([tsMs[0], tsMs[tsMs.length - 1]])
    expect(differences(await rust.lttb(series, 1000), expected)).toEqual([])
  })

  it('refuses fewer than two points, or a fraction, in both engines', async () => {
    const series = longSeries(10, 1)
    for (const points of [0, 1, 2.5, -3]) {
      const expected = { code: 'ANALYTICS_PARAM_INVALID', field: 'points' }
      expect(await errorOf(() => lttb(series, points))).toEqual(expected)
      expect(await errorOf(() => rust.lttb(series, points))).toEqual(expected)
    }
  })
})
