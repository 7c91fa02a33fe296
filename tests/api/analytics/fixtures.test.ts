// Runs the shared analytics fixtures (also read by the cargo tests) through both engines.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  type Analytics,
  createAnalytics,
  downsampleBuckets,
  ewma,
  lttb,
  robustZScore,
  rollingZScore,
  type Series,
  windowStats,
} from '../../../api/analytics/index.ts'
import { differences, errorOf } from './support.ts'

type Encoded = number | string | null
type Params = Record<string, number>
interface Case {
  name?: string
  function?: FunctionName
  tsMs: Encoded[]
  values: Encoded[]
  params?: Params
  expected?: Record<string, Encoded | Encoded[]>
  code?: string
  field?: string
}
type FunctionName = 'windowStats' | 'rollingZScore' | 'robustZScore' | 'ewma' | 'downsampleBuckets' | 'lttb'
const FUNCTIONS: FunctionName[] = [
  'windowStats',
  'rollingZScore',
  'robustZScore',
  'ewma',
  'downsampleBuckets',
  'lttb',
]

const fixtures = JSON.parse(
  readFileSync(new URL('../../fixtures/analytics.json', import.meta.url), 'utf8'),
) as Record<FunctionName | 'errors', Case[]> & { relativeTolerance: number }

/** null = NaN and "Infinity"/"-Infinity" = infinities, as documented in the fixture file. */
const decode = (x: Encoded): number => (x === null ? Number.NaN : Number(x))

const ARRAY_TYPES: Record<string, (xs: number[]) => unknown> = {
  index: (xs) => Uint32Array.from(xs),
  count: (xs) => Uint32Array.from(xs),
}

/** The expected result in the shape the engines return: columns as typed arrays. */
function expectedValue(expected: Record<string, Encoded | Encoded[]>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(expected).map(([k, v]) => {
      if (!Array.isArray(v)) return [k, decode(v)]
      const xs = v.map(decode)
      return [k, (ARRAY_TYPES[k] ?? ((ys: number[]) => Float64Array.from(ys)))(xs)]
    }),
  )
}

const seriesOf = (c: Case): Series => ({
  tsMs: Float64Array.from(c.tsMs, decode),
  values: Float64Array.from(c.values, decode),
})

const twins = {
  windowStats: (s: Series) => windowStats(s),
  rollingZScore: (s: Series, p: Params) => rollingZScore(s, p),
  robustZScore: (s: Series, p: Params) => robustZScore(s, p),
  ewma: (s: Series, p: Params) => ewma(s, p),
  downsampleBuckets: (s: Series, p: Params) => downsampleBuckets(s, { bucketMs: Number.NaN, ...p }),
  lttb: (s: Series, p: Params) => lttb(s, p['points'] ?? Number.NaN),
}

function viaEngine(analytics: Analytics) {
  return {
    windowStats: (s: Series) => analytics.windowStats(s),
    rollingZScore: (s: Series, p: Params) => analytics.rollingZScore(s, p),
    robustZScore: (s: Series, p: Params) => analytics.robustZScore(s, p),
    ewma: (s: Series, p: Params) => analytics.ewma(s, p),
    downsampleBuckets: (s: Series, p: Params) =>
      analytics.downsampleBuckets(s, { bucketMs: Number.NaN, ...p }),
    lttb: (s: Series, p: Params) => analytics.lttb(s, p['points'] ?? Number.NaN),
  }
}

const engines = {
  typescript: twins,
  'rust (sync)': viaEngine(createAnalytics({ engine: 'rust' })),
  'rust (async)': viaEngine(createAnalytics({ engine: 'rust', asyncThresholdPoints: 0 })),
}

describe.each(Object.entries(engines))('analytics fixtures in %s', (_, engine) => {
  for (const name of FUNCTIONS) {
    it.each(fixtures[name].map((c) => [c.name, c] as const))(`${name}: %s`, async (_, c) => {
      const actual = await engine[name](seriesOf(c), c.params ?? {})
      expect(differences(actual, expectedValue(c.expected!), fixtures.relativeTolerance)).toEqual([])
    })
  }

  it.each(fixtures.errors.map((c) => [`${c.function} ${JSON.stringify(c.params)}`, c] as const))(
    'refuses %s with its code and field',
    async (_, c) => {
      const error = await errorOf(() => engine[c.function!](seriesOf(c), c.params ?? {}))
      expect(error).toEqual({ code: c.code, field: c.field })
    },
  )
})
