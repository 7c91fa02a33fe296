// Reading queries: a sensor's raw range with cursor pagination, a machine's latest values, counts, rejects.
import { z } from '@hono/zod-openapi'
import type { Storage } from '../../db/index.ts'
import { type ApiApp, found } from '../app.ts'
import { ApiError, errorResponses } from '../errors.ts'
import { Id, idParam, LatestReading, Limit, Reading, Reject, TimeParam } from '../schemas.ts'
import { apiRoute, json } from './route.ts'

const tags = ['Readings']
const END_OF_TIME_MS = 8_640_000_000_000_000

const Cursor = z.string().max(64).openapi({ description: 'nextCursor of the previous page' })
const encodeCursor = (n: number) => Buffer.from(String(n)).toString('base64url')
function decodeCursor(cursor: string): number {
  const n = Number(Buffer.from(cursor, 'base64url').toString())
  if (!Number.isSafeInteger(n))
    throw new ApiError('API_VALIDATION_FAILED', 'query.cursor: not a cursor', 'query.cursor')
  return n
}

const RangeQuery = z.object({
  from: TimeParam.optional().openapi({ param: { name: 'from', in: 'query' } }),
  to: TimeParam.optional().openapi({ param: { name: 'to', in: 'query' }, description: 'Exclusive end' }),
})

export function registerReadingRoutes(app: ApiApp, storage: Storage): void {
  const { catalog, readings } = storage

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/sensors/{sensorId}/readings',
      tags,
      summary: "A sensor's raw readings in [from, to), oldest first, paginated",
      request: {
        params: idParam('sensorId'),
        query: RangeQuery.extend({ limit: Limit(10_000, 1000), cursor: Cursor.optional() }),
      },
      responses: {
        200: json(
          z.object({
            sensorId: z.number().int(),
            readings: z.array(Reading),
            nextCursor: z.string().nullable(),
          }),
          'Readings; nextCursor is null on the last page',
        ),
        ...errorResponses(404),
      },
    }),
    (c) => {
      const { sensorId } = c.req.valid('param')
      const query = c.req.valid('query')
      found(catalog.getSensor(sensorId), `sensor ${sensorId}`)
      const fromMs = query.cursor !== undefined ? decodeCursor(query.cursor) : (query.from ?? 0)
      const page = readings.range(sensorId, fromMs, query.to ?? END_OF_TIME_MS, query.limit)
      const last = page.at(-1)
      const nextCursor = page.length === query.limit && last ? encodeCursor(last.tsMs + 1) : null
      return c.json({ sensorId, readings: page, nextCursor }, 200)
    },
  )

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/machines/{machineId}/latest',
      tags,
      summary: 'The latest value of every sensor of a machine',
      request: { params: idParam('machineId') },
      responses: {
        200: json(
          z.object({ machineId: z.number().int(), readings: z.array(LatestReading) }),
          'Latest values',
        ),
        ...errorResponses(404),
      },
    }),
    (c) => {
      const { machineId } = c.req.valid('param')
      found(catalog.getMachine(machineId), `machine ${machineId}`)
      return c.json({ machineId, readings: readings.latestForMachine(machineId) }, 200)
    },
  )

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/readings/count',
      tags,
      summary: 'How many readings of a sensor or a machine are stored in [from, to)',
      request: {
        query: RangeQuery.extend({
          sensorId: Id.optional().openapi({ param: { name: 'sensorId', in: 'query' } }),
          machineId: Id.optional().openapi({ param: { name: 'machineId', in: 'query' } }),
        }),
      },
      responses: { 200: json(z.object({ count: z.number().int() }), 'The count'), ...errorResponses(404) },
    }),
    (c) => {
      const q = c.req.valid('query')
      if ((q.sensorId === undefined) === (q.machineId === undefined)) {
        throw new ApiError(
          'API_VALIDATION_FAILED',
          'query: give exactly one of sensorId and machineId',
          'query.sensorId',
        )
      }
      const range = { fromMs: q.from ?? 0, toMs: q.to ?? END_OF_TIME_MS }
      if (q.sensorId !== undefined) {
        found(catalog.getSensor(q.sensorId), `sensor ${q.sensorId}`)
        return c.json({ count: readings.count({ sensorId: q.sensorId, ...range }) }, 200)
      }
      found(catalog.getMachine(q.machineId!), `machine ${q.machineId}`)
      return c.json({ count: readings.count({ machineId: q.machineId!, ...range }) }, 200)
    },
  )

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/rejects',
      tags: ['Rejects'],
      summary: 'Rejected readings and messages, newest first, with the reason and the raw payload',
      request: {
        query: RangeQuery.extend({
          machineId: Id.optional().openapi({ param: { name: 'machineId', in: 'query' } }),
          reason: z
            .string()
            .regex(/^[A-Z_]{1,64}$/)
            .optional()
            .openapi({ param: { name: 'reason', in: 'query' }, example: 'READING_VALUE_OUT_OF_RANGE' }),
          limit: Limit(1000, 100),
          cursor: Cursor.optional(),
        }),
      },
      responses: {
        200: json(z.object({ rejects: z.array(Reject), nextCursor: z.string().nullable() }), 'Rejects'),
      },
    }),
    (c) => {
      const q = c.req.valid('query')
      const page = readings.rejects({
        machineId: q.machineId,
        reason: q.reason,
        fromMs: q.from,
        toMs: q.to,
        beforeId: q.cursor === undefined ? undefined : decodeCursor(q.cursor),
        limit: q.limit,
      })
      const last = page.at(-1)
      return c.json(
        { rejects: page, nextCursor: page.length === q.limit && last ? encodeCursor(last.id) : null },
        200,
      )
    },
  )
}
