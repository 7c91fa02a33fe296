// Time-bucketed downsampling: the Rust addon agrees with the TypeScript twin; buckets account for every point.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createAnalytics, downsampleBuckets } from '../../../api/analytics/index.ts'
import { differences, errorOf, longSeries, seriesArbitrary } from './support.ts'

const rust = createAnalytics({ engine: 'rust' })
const params = fc.record(
  {
    bucketMs: fc.oneof(fc.integer({ min: 1, max: 600_000 }), fc.double({ min: 0.5, max: 1e6, noNaN: true })),
    originMs: fc.integer({ min: -1e6, max: 1e6 }),
  },
  { requiredKeys: ['bucketMs'] },
)

describe('downsampleBuckets', () => {
  it('gives the same buckets in Rust and TypeScript, whose counts add up to the series length', async () => {
    await fc.assert(
      fc.asyncProperty(seriesArbitrary(), params, async (series, p) => {
        const expected = downsampleBuckets(series, p)
        expect(expected.count.reduce((a, b) => a + b, 0)).toBe(series.values.length)
        expect(differences(await rust.downsampleBuckets(series, p), expected)).toEqual([])
      }),
      { numRuns: 300 },
    )
  })

  it('agrees on a 100k-point shuffled series in one-minute buckets', async () => {
    const series = longSeries(100_000, 19, false)
    const expected = downsampleBuckets(series, { bucketMs: 60_000 })
    expect(differences(await rust.downsampleBuckets(series, { bucketMs: 60_000 }), expected)).toEqual([])
  })

  it('refuses a bucket width that is not a positive number in both engines', async () => {
    const series = longSeries(10, 1)
    for (const bucketMs of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const expected = { code: 'ANALYTICS_PARAM_INVALID', field: 'bucketMs' }
      expect(await errorOf(() => downsampleBuckets(series, { bucketMs }))).toEqual(expected)
      expect(await errorOf(() => rust.downsampleBuckets(series, { bucketMs }))).toEqual(expected)
    }
  })
})
