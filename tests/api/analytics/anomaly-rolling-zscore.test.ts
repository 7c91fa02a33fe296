// Rolling z-score: the Rust addon agrees with the TypeScript twin, including on bad parameters.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createAnalytics, rollingZScore } from '../../../api/analytics/index.ts'
import { differences, errorOf, longSeries, seriesArbitrary } from './support.ts'

const rust = createAnalytics({ engine: 'rust' })
const params = fc.record({
  window: fc.integer({ min: 2, max: 30 }),
  threshold: fc.double({ min: 0.5, max: 4, noNaN: true }),
})

describe('rollingZScore', () => {
  it('flags the same points with the same scores in Rust and TypeScript', async () => {
    await fc.assert(
      fc.asyncProperty(seriesArbitrary(), params, async (series, p) => {
        expect(differences(await rust.rollingZScore(series, p), rollingZScore(series, p))).toEqual([])
      }),
      { numRuns: 300 },
    )
  })

  it('agrees on a 100k-point shuffled series with the default parameters', async () => {
    const series = longSeries(100_000, 11, false)
    const expected = rollingZScore(series)
    expect(expected.index.length).toBeGreaterThan(0)
    expect(differences(await rust.rollingZScore(series), expected)).toEqual([])
  })

  it('refuses the same bad parameters with the same code and field', async () => {
    const bad = fc.oneof(
      fc.record({
        window: fc.oneof(fc.integer({ min: -5, max: 1 }), fc.integer({ min: 10_001, max: 20_000 })),
      }),
      fc.record({ window: fc.double({ min: 2.1, max: 9.9, noNaN: true, noInteger: true }) }),
      fc.record({ threshold: fc.oneof(fc.double({ max: 0, noNaN: true }), fc.constant(Number.NaN)) }),
    )
    await fc.assert(
      fc.asyncProperty(seriesArbitrary(20), bad, async (series, p) => {
        const expected = await errorOf(() => rollingZScore(series, p))
        expect(expected?.code).toBe('ANALYTICS_PARAM_INVALID')
        expect(await errorOf(() => rust.rollingZScore(series, p))).toEqual(expected)
      }),
    )
  })
})
