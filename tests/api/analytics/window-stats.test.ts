// Window statistics: the Rust addon agrees with the TypeScript twin on random and long series.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createAnalytics, windowStats } from '../../../api/analytics/index.ts'
import { differences, errorOf, longSeries, seriesArbitrary } from './support.ts'

const rust = createAnalytics({ engine: 'rust' })

describe('windowStats', () => {
  it('gives the same statistics in Rust and TypeScript for random series', async () => {
    await fc.assert(
      fc.asyncProperty(seriesArbitrary(), async (series) => {
        expect(differences(await rust.windowStats(series), windowStats(series))).toEqual([])
      }),
      { numRuns: 400 },
    )
  })

  it('gives the same statistics for 100k-point series, sorted and shuffled', async () => {
    for (const sorted of [true, false]) {
      const series = longSeries(100_000, 7, sorted)
      expect(differences(await rust.windowStats(series), windowStats(series))).toEqual([])
    }
  })

  it('picks first and last by time, breaking ties by input order', async () => {
    const series = { tsMs: Float64Array.of(20, 10, 10, 30, 30), values: Float64Array.of(1, 2, 3, 4, 5) }
    const stats = await rust.windowStats(series)
    expect([stats.firstIndex, stats.firstValue, stats.lastIndex, stats.lastValue]).toEqual([1, 2, 4, 5])
  })

  it('refuses non-finite values in both engines with the same code and field', async () => {
    const series = { tsMs: Float64Array.of(0, 1), values: Float64Array.of(1, Number.NaN) }
    const expected = { code: 'ANALYTICS_SERIES_NOT_FINITE', field: 'values' }
    expect(await errorOf(() => rust.windowStats(series))).toEqual(expected)
    expect(await errorOf(() => windowStats(series))).toEqual(expected)
  })
})
