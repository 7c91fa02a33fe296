// Robust z-score: the Rust addon agrees with the TypeScript twin, including on bad parameters.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createAnalytics, robustZScore } from '../../../api/analytics/index.ts'
import { differences, errorOf, longSeries, seriesArbitrary } from './support.ts'

const rust = createAnalytics({ engine: 'rust' })

describe('robustZScore', () => {
  it('flags the same points with the same scores in Rust and TypeScript', async () => {
    const params = fc.record({ threshold: fc.double({ min: 0.5, max: 5, noNaN: true }) })
    await fc.assert(
      fc.asyncProperty(seriesArbitrary(), params, async (series, p) => {
        expect(differences(await rust.robustZScore(series, p), robustZScore(series, p))).toEqual([])
      }),
      { numRuns: 300 },
    )
  })

  it('agrees on a 100k-point shuffled series with the default threshold', async () => {
    const series = longSeries(100_000, 13, false)
    const expected = robustZScore(series)
    expect(expected.index.length).toBeGreaterThan(0)
    expect(differences(await rust.robustZScore(series), expected)).toEqual([])
  })

  it('refuses a threshold that is not a positive number in both engines', async () => {
    const series = longSeries(10, 1)
    for (const threshold of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const expected = { code: 'ANALYTICS_PARAM_INVALID', field: 'threshold' }
      expect(await errorOf(() => robustZScore(series, { threshold }))).toEqual(expected)
      expect(await errorOf(() => rust.robustZScore(series, { threshold }))).toEqual(expected)
    }
  })
})
