// The engine-choosing wrapper: sync and async Rust paths agree, panics become errors, defaults match the core.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { fromEngineError } from '../../../api/analytics/errors.ts'
import {
  ANALYTICS_ERROR_CODES,
  AnalyticsError,
  createAnalytics,
  EWMA_DEFAULT_ALPHA,
  EWMA_DEFAULT_LIMIT_SIGMAS,
  ROBUST_ZSCORE_DEFAULT_THRESHOLD,
  ROLLING_ZSCORE_DEFAULT_THRESHOLD,
  ROLLING_ZSCORE_DEFAULT_WINDOW,
  ROLLING_ZSCORE_MAX_WINDOW,
  windowStats,
} from '../../../api/analytics/index.ts'
import { compute } from '../../../crates/factory_compute/binding.ts'
import { differences, longSeries } from './support.ts'

describe('createAnalytics', () => {
  it('returns the same result from the sync and the async Rust call', async () => {
    const series = longSeries(5000, 3, false)
    const sync = await createAnalytics({
      engine: 'rust',
      asyncThresholdPoints: Number.POSITIVE_INFINITY,
    }).windowStats(series)
    const async = await createAnalytics({ engine: 'rust', asyncThresholdPoints: 0 }).windowStats(series)
    expect(differences(async, sync, 0)).toEqual([])
  })

  it('answers in auto mode with the same result as the TypeScript twin', async () => {
    const series = longSeries(60_000, 5)
    expect(differences(await createAnalytics().windowStats(series), windowStats(series))).toEqual([])
  })

  it('reports a refused input from the addon as an AnalyticsError naming the field', async () => {
    const series = { tsMs: Float64Array.of(0, 1, 2), values: Float64Array.of(1, 2, 3) }
    for (const asyncThresholdPoints of [Number.POSITIVE_INFINITY, 0]) {
      const error = await createAnalytics({ engine: 'rust', asyncThresholdPoints })
        .rollingZScore(series, { window: 1 })
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(AnalyticsError)
      expect([(error as AnalyticsError).code, (error as AnalyticsError).field]).toEqual([
        'ANALYTICS_PARAM_INVALID',
        'window',
      ])
      expect((error as AnalyticsError).message).toBe('window: must be an integer in 2..=10000, got 1')
    }
  })
})

describe('addon panic safety', () => {
  it('turns a panic in a synchronous export into a JS Error and keeps working', () => {
    let thrown: unknown
    try {
      compute.analyticsPanicProbe('probe: sync')
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(Error)
    expect(thrown).toMatchObject({ code: 'GenericFailure', message: 'probe: sync' })
    expect(compute.analyticsWindowStats(Float64Array.of(1), Float64Array.of(2)).count).toBe(1)
  })

  it('turns a panic on the thread pool into a rejected Promise and keeps working', async () => {
    const rejected = await compute.analyticsPanicProbeAsync('probe: async').catch((e: unknown) => e)
    expect(rejected).toBeInstanceOf(Error)
    expect(rejected).toMatchObject({ code: 'GenericFailure', message: 'probe: async' })
    expect((await compute.analyticsWindowStatsAsync(Float64Array.of(1), Float64Array.of(2))).count).toBe(1)
  })

  it('maps a panic to ANALYTICS_ENGINE_FAILED, keeping the original error as the cause', () => {
    let thrown: unknown
    try {
      compute.analyticsPanicProbe('probe: mapped')
    } catch (error) {
      thrown = error
    }
    const mapped = fromEngineError(thrown)
    expect([mapped.code, mapped.field, mapped.message, mapped.cause]).toEqual([
      'ANALYTICS_ENGINE_FAILED',
      'engine',
      'engine: probe: mapped',
      thrown,
    ])
  })
})

describe('analytics defaults and codes', () => {
  it('uses the same defaults in the TypeScript twins and the Rust core', () => {
    expect(compute.analyticsDefaults()).toEqual({
      rollingWindow: ROLLING_ZSCORE_DEFAULT_WINDOW,
      rollingThreshold: ROLLING_ZSCORE_DEFAULT_THRESHOLD,
      rollingMaxWindow: ROLLING_ZSCORE_MAX_WINDOW,
      robustThreshold: ROBUST_ZSCORE_DEFAULT_THRESHOLD,
      ewmaAlpha: EWMA_DEFAULT_ALPHA,
      ewmaLimitSigmas: EWMA_DEFAULT_LIMIT_SIGMAS,
    })
  })

  it('documents every error code in docs/analytics.md', () => {
    const doc = readFileSync(new URL('../../../docs/analytics.md', import.meta.url), 'utf8')
    expect(ANALYTICS_ERROR_CODES.filter((code) => !doc.includes(`\`${code}\``))).toEqual([])
  })
})
