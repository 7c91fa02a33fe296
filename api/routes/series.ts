// Bucketed series of one sensor (rollup tiers, calendar buckets in a time zone, gap filling) and a
// streamed CSV export of its raw readings.
import { z } from '@hono/zod-openapi'
import { stream } from 'hono/streaming'
import { parseBucket, type Storage } from '../../db/index.ts'
import { type ApiApp, found } from '../app.ts'
import { errorResponses } from '../errors.ts'
import { idParam, TimeParam } from '../schemas.ts'
import { apiRoute, json } from './route.ts'

const tags = ['Readings']

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone })
    return true
  } catch {
    return false
  }
}

const Range = {
  from: TimeParam.openapi({ param: { name: 'from', in: 'query' } }),
  to: TimeParam.openapi({ param: { name: 'to', in: 'query' }, description: 'Exclusive end' }),
}

const SeriesQuery = z
  .object({
    ...Range,
    bucket: z
      .string()
      .refine((b) => parseBucket(b) !== null, 'a width like 30s, 1m, 15m, 1h, 1d, 1w or 1M')
      .openapi({ param: { name: 'bucket', in: 'query' }, example: '1h' }),
    tz: z
      .string()
      .refine(isTimeZone, 'an IANA time zone such as Europe/Berlin')
      .default('UTC')
      .openapi({ param: { name: 'tz', in: 'query' }, description: 'Zone for d, w and M buckets' }),
    fill: z
      .enum(['none', 'null', 'previous', 'linear'])
      .default('none')
      .openapi({ param: { name: 'fill', in: 'query' } }),
  })
  .refine((q) => q.from < q.to, { message: 'must be after from', path: ['to'] })

const Bucket = z
  .object({
    startMs: z.number().int(),
    endMs: z.number().int(),
    count: z.number().int(),
    min: z.number().nullable(),
    max: z.number().nullable(),
    avg: z.number().nullable(),
    sum: z.number().nullable(),
    first: z.number().nullable(),
    last: z.number().nullable(),
  })
  .openapi('Bucket')

export function registerSeriesRoutes(app: ApiApp, storage: Storage): void {
  const { catalog, readings } = storage

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/sensors/{sensorId}/series',
      tags,
      summary: 'Min, max, avg, sum, count, first and last per bucket over [from, to)',
      request: { params: idParam('sensorId'), query: SeriesQuery },
      responses: {
        200: json(
          z.object({
            sensorId: z.number().int(),
            tier: z.enum(['raw', '1m', '1h']),
            buckets: z.array(Bucket),
          }),
          'Buckets oldest first; tier names the stored resolution that answered',
        ),
        ...errorResponses(404),
      },
    }),
    (c) => {
      const { sensorId } = c.req.valid('param')
      const q = c.req.valid('query')
      found(catalog.getSensor(sensorId), `sensor ${sensorId}`)
      const result = readings.buckets(sensorId, {
        fromMs: q.from,
        toMs: q.to,
        bucket: parseBucket(q.bucket)!,
        timeZone: q.tz,
        fill: q.fill,
      })
      return c.json({ sensorId, ...result }, 200)
    },
  )

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/sensors/{sensorId}/export.csv',
      tags,
      summary: "A sensor's raw readings in [from, to) as CSV (ts_ms,iso_time,value), streamed",
      request: { params: idParam('sensorId'), query: z.object(Range) },
      responses: {
        200: { description: 'CSV', content: { 'text/csv': { schema: z.string() } } },
        ...errorResponses(404),
      },
    }),
    (c) => {
      const { sensorId } = c.req.valid('param')
      const q = c.req.valid('query')
      found(catalog.getSensor(sensorId), `sensor ${sensorId}`)
      c.header('Content-Type', 'text/csv; charset=utf-8')
      c.header('Content-Disposition', `attachment; filename="sensor-${sensorId}.csv"`)
      // One page in memory at a time; the writer side of the stream applies backpressure.
      return stream(c, async (out) => {
        await out.write('ts_ms,iso_time,value\n')
        for (const page of readings.pages(sensorId, q.from, q.to)) {
          await out.write(
            page.map((r) => `${r.tsMs},${new Date(r.tsMs).toISOString()},${r.value}`).join('\n') + '\n',
          )
        }
      }) as never
    },
  )
}
