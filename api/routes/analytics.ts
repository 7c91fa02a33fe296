// Analytics routes: statistics, anomalies and downsampled series of a sensor's readings in [from, to).
import { z } from '@hono/zod-openapi'
import type { Storage } from '../../db/index.ts'
import {
  type Analytics,
  AnalyticsError,
  createAnalytics,
  EWMA_DEFAULT_ALPHA,
  EWMA_DEFAULT_LIMIT_SIGMAS,
  ROBUST_ZSCORE_DEFAULT_THRESHOLD,
  ROLLING_ZSCORE_DEFAULT_THRESHOLD,
  ROLLING_ZSCORE_DEFAULT_WINDOW,
  ROLLING_ZSCORE_MAX_WINDOW,
  type Series,
  type WindowStats,
} from '../analytics/index.ts'
import { type ApiApp, found } from '../app.ts'
import { ApiError, errorResponses } from '../errors.ts'
import { idParam, TimeParam } from '../schemas.ts'
import { apiRoute, json } from './route.ts'

const tags = ['Analytics']
const END_OF_TIME_MS = 8_640_000_000_000_000
/** One request analyses at most this many readings per sensor, so a careless range cannot exhaust memory. */
export const MAX_ANALYTICS_POINTS = 5_000_000
/** A downsampled response holds at most this many points or buckets. */
export const MAX_DOWNSAMPLED_POINTS = 100_000

const Range = z.object({
  from: TimeParam.optional().openapi({ param: { name: 'from', in: 'query' }, example: '1764374400000' }),
  to: TimeParam.optional().openapi({
    param: { name: 'to', in: 'query' },
    description: 'Exclusive end',
    example: '2026-11-30T00:00:00Z',
  }),
})

// JSON has no NaN or infinity: those become null (documented on each field).
const num = (x: number) => (Number.isFinite(x) ? x : null)
const Num = z.number().nullable()

const Statistics = z
  .object({
    count: z.number().int(),
    min: Num,
    max: Num,
    sum: Num,
    mean: Num,
    std: Num.openapi({ description: 'Population standard deviation (divides by count)' }),
    p50: Num,
    p90: Num,
    p95: Num,
    p99: Num.openapi({
      description: 'Percentiles interpolate linearly between closest ranks (numpy default)',
    }),
    first: z.object({ tsMs: z.number(), value: z.number() }).nullable(),
    last: z.object({ tsMs: z.number(), value: z.number() }).nullable(),
  })
  .openapi('Statistics', {
    description: 'null for the value fields (and first/last) when the range holds no readings',
    example: {
      count: 3,
      min: 20.5,
      max: 22,
      sum: 63.5,
      mean: 21.166666666666668,
      std: 0.6236095644623235,
      p50: 21,
      p90: 21.8,
      p95: 21.9,
      p99: 21.98,
      first: { tsMs: 1764374400000, value: 21 },
      last: { tsMs: 1764374402000, value: 22 },
    },
  })

function statistics(s: WindowStats): z.infer<typeof Statistics> {
  const empty = s.count === 0
  return {
    count: s.count,
    min: num(s.min),
    max: num(s.max),
    sum: num(s.sum),
    mean: num(s.mean),
    std: num(s.std),
    p50: num(s.p50),
    p90: num(s.p90),
    p95: num(s.p95),
    p99: num(s.p99),
    first: empty ? null : { tsMs: s.firstTsMs, value: s.firstValue },
    last: empty ? null : { tsMs: s.lastTsMs, value: s.lastValue },
  }
}

const METHODS = ['rolling-zscore', 'robust-zscore', 'ewma'] as const
type Method = (typeof METHODS)[number]
const Positive = z.coerce.number().positive().finite()
const AnomalyQuery = Range.extend({
  method: z
    .enum(METHODS)
    .default('robust-zscore')
    .openapi({ param: { name: 'method', in: 'query' } }),
  threshold: Positive.optional().openapi({
    param: { name: 'threshold', in: 'query' },
    description: `Sensitivity: flag |score| above this. Defaults: rolling-zscore ${ROLLING_ZSCORE_DEFAULT_THRESHOLD}, robust-zscore ${ROBUST_ZSCORE_DEFAULT_THRESHOLD}, ewma ${EWMA_DEFAULT_LIMIT_SIGMAS} (the control-limit width L).`,
    example: 3,
  }),
  window: z.coerce
    .number()
    .int()
    .min(2)
    .max(ROLLING_ZSCORE_MAX_WINDOW)
    .optional()
    .openapi({
      param: { name: 'window', in: 'query' },
      description: `rolling-zscore only: preceding readings each is compared with (default ${ROLLING_ZSCORE_DEFAULT_WINDOW})`,
      example: 60,
    }),
  alpha: z.coerce
    .number()
    .gt(0)
    .max(1)
    .optional()
    .openapi({
      param: { name: 'alpha', in: 'query' },
      description: `ewma only: smoothing factor in (0, 1] (default ${EWMA_DEFAULT_ALPHA})`,
      example: 0.3,
    }),
  baselinePoints: z.coerce
    .number()
    .int()
    .min(0)
    .max(0xffff_ffff)
    .optional()
    .openapi({
      param: { name: 'baselinePoints', in: 'query' },
      description: 'ewma only: first readings forming the in-control baseline; 0 = all (default 0)',
      example: 0,
    }),
})

/** Parameters that belong to another method are refused rather than silently ignored. */
const METHOD_PARAMS: Record<Method, readonly string[]> = {
  'rolling-zscore': ['window'],
  'robust-zscore': [],
  ewma: ['alpha', 'baselinePoints'],
}

const Anomaly = z.object({
  tsMs: z.number(),
  value: z.number(),
  score: Num.openapi({
    description: 'In standard deviations; null when infinite (deviation from a zero spread)',
  }),
})

const DownsampleQuery = Range.extend({
  points: z.coerce
    .number()
    .int()
    .min(2)
    .max(MAX_DOWNSAMPLED_POINTS)
    .optional()
    .openapi({
      param: { name: 'points', in: 'query' },
      description: 'LTTB down to this many points',
      example: 500,
    }),
  bucketMs: Positive.optional().openapi({
    param: { name: 'bucketMs', in: 'query' },
    description: 'Aggregate per bucket of this width in ms',
    example: 60000,
  }),
  originMs: z.coerce
    .number()
    .finite()
    .optional()
    .openapi({
      param: { name: 'originMs', in: 'query' },
      description: 'Buckets start at originMs + k·bucketMs (default 0)',
      example: 0,
    }),
})

const Bucket = z.object({
  startMs: z.number(),
  count: z.number().int(),
  min: z.number(),
  max: z.number(),
  avg: z.number(),
  first: z.number(),
  last: z.number(),
})

/** Maps a refused parameter from the analytics core to a 400 naming the query parameter. */
function toApiError(error: unknown): never {
  if (error instanceof AnalyticsError && error.code === 'ANALYTICS_PARAM_INVALID') {
    const field = `query.${error.field === 'limitSigmas' ? 'threshold' : error.field}`
    throw new ApiError('API_VALIDATION_FAILED', `${field}: ${error.message.replace(/^[^:]*: /, '')}`, field)
  }
  throw error
}

export function registerAnalyticsRoutes(
  app: ApiApp,
  storage: Storage,
  analytics: Analytics = createAnalytics(),
): void {
  const { catalog, readings } = storage

  function loadSeries(
    sensorId: number,
    query: { from?: number; to?: number },
  ): Series & { fromMs: number; toMs: number } {
    const fromMs = query.from ?? 0
    const toMs = query.to ?? END_OF_TIME_MS
    const count = readings.count({ sensorId, fromMs, toMs })
    if (count > MAX_ANALYTICS_POINTS) {
      throw new ApiError(
        'API_VALIDATION_FAILED',
        `query.from: sensor ${sensorId} has ${count} readings in the range, more than ${MAX_ANALYTICS_POINTS}; narrow from/to`,
        'query.from',
      )
    }
    return { ...readings.series(sensorId, fromMs, toMs), fromMs, toMs }
  }

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/sensors/{sensorId}/statistics',
      tags,
      summary: "Statistics of a sensor's readings in [from, to): count, extremes, mean, std, percentiles",
      request: { params: idParam('sensorId'), query: Range },
      responses: {
        200: json(
          z.object({
            sensorId: z.number().int(),
            fromMs: z.number(),
            toMs: z.number(),
            statistics: Statistics,
          }),
          'Statistics',
        ),
        ...errorResponses(404),
      },
    }),
    async (c) => {
      const { sensorId } = c.req.valid('param')
      found(catalog.getSensor(sensorId), `sensor ${sensorId}`)
      const series = loadSeries(sensorId, c.req.valid('query'))
      const stats = statistics(await analytics.windowStats(series))
      return c.json({ sensorId, fromMs: series.fromMs, toMs: series.toMs, statistics: stats }, 200)
    },
  )

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/machines/{machineId}/statistics',
      tags,
      summary: 'Statistics of every sensor of a machine over [from, to), in one call',
      request: { params: idParam('machineId'), query: Range },
      responses: {
        200: json(
          z.object({
            machineId: z.number().int(),
            fromMs: z.number(),
            toMs: z.number(),
            sensors: z.array(
              z.object({
                sensorId: z.number().int(),
                key: z.string(),
                unit: z.string(),
                statistics: Statistics,
              }),
            ),
          }),
          'Statistics per sensor, in sensor id order',
        ),
        ...errorResponses(404),
      },
    }),
    async (c) => {
      const { machineId } = c.req.valid('param')
      found(catalog.getMachine(machineId), `machine ${machineId}`)
      const query = c.req.valid('query')
      const sensors = []
      let range = { fromMs: query.from ?? 0, toMs: query.to ?? END_OF_TIME_MS }
      for (const sensor of catalog.listSensors(machineId)) {
        const series = loadSeries(sensor.id, query)
        range = { fromMs: series.fromMs, toMs: series.toMs }
        const stats = statistics(await analytics.windowStats(series))
        sensors.push({ sensorId: sensor.id, key: sensor.key, unit: sensor.unit, statistics: stats })
      }
      return c.json({ machineId, ...range, sensors }, 200)
    },
  )

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/sensors/{sensorId}/anomalies',
      tags,
      summary: 'Anomalous readings of a sensor in [from, to) by rolling z-score, robust z-score or EWMA',
      request: { params: idParam('sensorId'), query: AnomalyQuery },
      responses: {
        200: json(
          z
            .object({
              sensorId: z.number().int(),
              method: z.enum(METHODS),
              threshold: z.number(),
              anomalies: z.array(Anomaly),
            })
            .openapi('Anomalies', {
              example: {
                sensorId: 1,
                method: 'robust-zscore',
                threshold: 3.5,
                anomalies: [{ tsMs: 1764374460000, value: 95.2, score: 41.7 }],
              },
            }),
          'Anomalous readings in time order and the threshold their |score| exceeded',
        ),
        ...errorResponses(404),
      },
    }),
    async (c) => {
      const { sensorId } = c.req.valid('param')
      const q = c.req.valid('query')
      for (const [method, params] of Object.entries(METHOD_PARAMS)) {
        if (method === q.method) continue
        const stray = params.find(
          (p) => q[p as keyof typeof q] !== undefined && !METHOD_PARAMS[q.method].includes(p),
        )
        if (stray) {
          throw new ApiError(
            'API_VALIDATION_FAILED',
            `query.${stray}: only applies to method ${method}`,
            `query.${stray}`,
          )
        }
      }
      found(catalog.getSensor(sensorId), `sensor ${sensorId}`)
      const series = loadSeries(sensorId, q)
      const result = await (q.method === 'rolling-zscore'
        ? analytics.rollingZScore(series, { window: q.window, threshold: q.threshold })
        : q.method === 'robust-zscore'
          ? analytics.robustZScore(series, { threshold: q.threshold })
          : analytics.ewma(series, {
              alpha: q.alpha,
              limitSigmas: q.threshold,
              baselinePoints: q.baselinePoints,
            })
      ).catch(toApiError)
      const anomalies = Array.from(result.index, (_, k) => ({
        tsMs: result.tsMs[k]!,
        value: result.value[k]!,
        score: num(result.score[k]!),
      }))
      return c.json({ sensorId, method: q.method, threshold: result.threshold, anomalies }, 200)
    },
  )

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/sensors/{sensorId}/downsampled',
      tags,
      summary: "A sensor's readings in [from, to) reduced to N points (LTTB) or to time buckets",
      request: { params: idParam('sensorId'), query: DownsampleQuery },
      responses: {
        200: json(
          z
            .object({
              sensorId: z.number().int(),
              method: z.enum(['lttb', 'buckets']),
              points: z.array(z.object({ tsMs: z.number(), value: z.number() })).optional(),
              buckets: z.array(Bucket).optional(),
            })
            .openapi('Downsampled', {
              example: {
                sensorId: 1,
                method: 'buckets',
                buckets: [
                  {
                    startMs: 1764374400000,
                    count: 60,
                    min: 20.1,
                    max: 22.4,
                    avg: 21.2,
                    first: 20.9,
                    last: 21.7,
                  },
                ],
              },
            }),
          'With points: the LTTB selection (first and last kept). With bucketMs: non-empty buckets in time order.',
        ),
        ...errorResponses(404),
      },
    }),
    async (c) => {
      const { sensorId } = c.req.valid('param')
      const q = c.req.valid('query')
      if ((q.points === undefined) === (q.bucketMs === undefined)) {
        throw new ApiError(
          'API_VALIDATION_FAILED',
          'query: give exactly one of points and bucketMs',
          'query.points',
        )
      }
      if (q.originMs !== undefined && q.bucketMs === undefined) {
        throw new ApiError(
          'API_VALIDATION_FAILED',
          'query.originMs: only applies with bucketMs',
          'query.originMs',
        )
      }
      found(catalog.getSensor(sensorId), `sensor ${sensorId}`)
      const series = loadSeries(sensorId, q)
      if (q.points !== undefined) {
        const picked = await analytics.lttb(series, q.points).catch(toApiError)
        const points = Array.from(picked.index, (_, k) => ({
          tsMs: picked.tsMs[k]!,
          value: picked.value[k]!,
        }))
        return c.json({ sensorId, method: 'lttb' as const, points }, 200)
      }
      const b = await analytics
        .downsampleBuckets(series, { bucketMs: q.bucketMs!, originMs: q.originMs })
        .catch(toApiError)
      if (b.startMs.length > MAX_DOWNSAMPLED_POINTS) {
        throw new ApiError(
          'API_VALIDATION_FAILED',
          `query.bucketMs: ${b.startMs.length} buckets, more than ${MAX_DOWNSAMPLED_POINTS}; use a wider bucket`,
          'query.bucketMs',
        )
      }
      const buckets = Array.from(b.startMs, (startMs, k) => ({
        startMs,
        count: b.count[k]!,
        min: b.min[k]!,
        max: b.max[k]!,
        avg: b.avg[k]!,
        first: b.first[k]!,
        last: b.last[k]!,
      }))
      return c.json({ sensorId, method: 'buckets' as const, buckets }, 200)
    },
  )
}
