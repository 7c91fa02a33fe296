// EWMA control chart: the Rust addon agrees with the TypeScript twin, including on bad parameters.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createAnalytics, ewma } from '../../../api/analytics/index.ts'
import { differences, errorOf, longSeries, seriesArbitrary } from './support.ts'

const rust = createAnalytics({ engine: 'rust' })
const params = fc.record(
  {
    alpha: fc.double({ min: 0.01, max: 1, noNaN: true }),
    limitSigmas: fc.double({ min: 0.5, max: 4, noNaN: true }),
    baselinePoints: fc.nat(50),
  },
  { requiredKeys: [] },
)

describe('ewma', () => {
  it('flags the same points with the same scores in Rust and TypeScript', async () => {
    await fc.assert(
      fc.asyncProperty(seriesArbitrary(), params, async (series, p) => {
        expect(differences(await rust.ewma(series, p), ewma(series, p))).toEqual([])
      }),
      { numRuns: 300 },
    )
  })

  it('agrees on a 100k-point series with a 1000-point baseline', async () => {
    const series = longSeries(100_000, 17)
    const expected = ewma(series, { baselinePoints: 1000 })
    expect(expected.index.length).toBeGreaterThan(0)
    expect(differences(await rust.ewma(series, { baselinePoints: 1000 }), expected)).toEqual([])
  })

  it('refuses the same bad parameters with the same code and field', async () => {
    const bad = fc.oneof(
      fc.record({
        alpha: fc.oneof(fc.double({ max: 0, noNaN: true }), fc.double({ min: 1.0001, noNaN: true })),
      }),
      fc.record({ limitSigmas: fc.double({ max: 0, noNaN: true }) }),
      fc.record({ baselinePoints: fc.oneof(fc.integer({ max: -1 }), fc.constant(0.5)) }),
    )
    await fc.assert(
      fc.asyncProperty(seriesArbitrary(20), bad, async (series, p) => {
        const expected = await errorOf(() => ewma(series, p))
        expect(expected?.code).toBe('ANALYTICS_PARAM_INVALID')
        expect(await errorOf(() => rust.ewma(series, p))).toEqual(expected)
      }),
    )
  })
})
