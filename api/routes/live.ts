// Live data for the dashboard: who am I, the whole plant in one overview call, and an SSE stream of new readings.
import { z } from '@hono/zod-openapi'
import { streamSSE } from 'hono/streaming'
import type { LatestReading, Storage } from '../../db/index.ts'
import type { ApiApp, ApiOptions } from '../app.ts'
import { ApiError, errorResponses } from '../errors.ts'
import { apiRoute, json } from './route.ts'

/** How often the server looks for new latest values of the sensors someone is watching. */
export const FEED_POLL_INTERVAL_MS = 1000
/** A comment line this often keeps proxies and idle timeouts from closing a quiet stream. */
const HEARTBEAT_INTERVAL_MS = 15_000
/** One stream watches at most this many sensors (the dashboard charts at most ten). */
export const MAX_STREAM_SENSORS = 200
/** A client that has not read this many events is too slow; its stream is closed and it reconnects. */
const MAX_UNREAD_EVENTS = 60
/** A sensor counts as stale when its latest reading is older than this many expected intervals. */
const STALE_AFTER_INTERVALS = 3
/** Assumed sending interval of sensors that declare none. */
const DEFAULT_EXPECTED_INTERVAL_MS = 60_000
/** The ingest rate is averaged over overview calls within this window. */
const RATE_WINDOW_MS = 30_000

type Feed = Pick<LatestReading, 'sensorId' | 'tsMs' | 'value'>
type FeedListener = (readings: Feed[]) => void

/**
 * One timer for all streams: each tick reads the latest values of the union of watched sensors in one query
 * and hands every stream the ones that changed among its own sensors. The timer runs only while someone
 * watches.
 */
export function createReadingFeed(
  latestForSensors: (sensorIds: readonly number[]) => LatestReading[],
  intervalMs = FEED_POLL_INTERVAL_MS,
) {
  const subscribers = new Set<{ ids: ReadonlySet<number>; listener: FeedListener }>()
  const lastTsMs = new Map<number, number>()
  let timer: NodeJS.Timeout | null = null

  const pick = (r: LatestReading): Feed => ({ sensorId: r.sensorId, tsMs: r.tsMs, value: r.value })

  function tick(): void {
    const watched = new Set<number>()
    for (const s of subscribers) for (const id of s.ids) watched.add(id)
    for (const id of lastTsMs.keys()) if (!watched.has(id)) lastTsMs.delete(id)
    const changed = new Map<number, Feed>()
    for (const r of latestForSensors([...watched])) {
      if (lastTsMs.get(r.sensorId) === r.tsMs) continue
      lastTsMs.set(r.sensorId, r.tsMs)
      changed.set(r.sensorId, pick(r))
    }
    if (changed.size === 0) return
    for (const s of subscribers) {
      const mine: Feed[] = []
      for (const id of s.ids) {
        const reading = changed.get(id)
        if (reading) mine.push(reading)
      }
      if (mine.length > 0) s.listener(mine)
    }
  }

  return {
    /** Calls `listener` at once with the current latest values, then with every change; returns the unsubscribe. */
    subscribe(sensorIds: readonly number[], listener: FeedListener): () => void {
      const snapshot = latestForSensors(sensorIds)
      for (const r of snapshot) if (!lastTsMs.has(r.sensorId)) lastTsMs.set(r.sensorId, r.tsMs)
      const subscriber = { ids: new Set(sensorIds), listener }
      subscribers.add(subscriber)
      if (!timer) {
        timer = setInterval(tick, intervalMs)
        // Open streams end with the HTTP server; the timer alone must not keep the process alive.
        timer.unref()
      }
      listener(snapshot.map(pick))
      return () => {
        subscribers.delete(subscriber)
        if (subscribers.size === 0 && timer) {
          clearInterval(timer)
          timer = null
          lastTsMs.clear()
        }
      }
    },
    subscriberCount: () => subscribers.size,
  }
}

/** Sums every sample of a Prometheus counter (all label sets) in the text exposition format. */
export function counterTotal(metricsText: string, name: string): number {
  let total = 0
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith(name)) continue
    const rest = line.slice(name.length)
    if (rest[0] !== ' ' && rest[0] !== '{') continue
    const value = Number(line.slice(line.lastIndexOf(' ') + 1))
    if (Number.isFinite(value)) total += value
  }
  return total
}

/** Per-second rate of a growing counter from the samples seen within a window; null until two exist. */
export function createRateMeter(windowMs = RATE_WINDOW_MS) {
  let samples: { atMs: number; total: number }[] = []
  return {
    sample(atMs: number, total: number): number | null {
      const last = samples.at(-1)
      // A smaller total means the counter restarted with the process; start over.
      if (last && total < last.total) samples = []
      samples.push({ atMs, total })
      while (samples.length > 2 && atMs - samples[1]!.atMs >= windowMs) samples.shift()
      const first = samples[0]!
      const spanMs = atMs - first.atMs
      return spanMs >= 1000 ? ((total - first.total) * 1000) / spanMs : null
    },
  }
}

export function freshness(
  latestTsMs: number | null,
  expectedIntervalMs: number | null,
  nowMs: number,
): 'none' | 'fresh' | 'stale' {
  if (latestTsMs === null) return 'none'
  const limitMs = STALE_AFTER_INTERVALS * (expectedIntervalMs ?? DEFAULT_EXPECTED_INTERVAL_MS)
  return nowMs - latestTsMs > limitMs ? 'stale' : 'fresh'
}

const WhoAmI = z
  .object({ id: z.number().int(), name: z.string(), scope: z.enum(['admin', 'read']) })
  .openapi('WhoAmI')

const OverviewSensor = z.object({
  id: z.number().int(),
  key: z.string(),
  name: z.string(),
  unit: z.string(),
  kind: z.string(),
  expectedIntervalMs: z.number().int().nullable(),
  latest: z.object({ tsMs: z.number().int(), value: z.number() }).nullable(),
  ageMs: z.number().int().nullable().openapi({ description: 'Server time minus the latest reading time' }),
  freshness: z.enum(['none', 'fresh', 'stale']).openapi({
    description: `stale: the latest reading is older than ${STALE_AFTER_INTERVALS} expected intervals (default interval ${DEFAULT_EXPECTED_INTERVAL_MS} ms)`,
  }),
})

const Overview = z
  .object({
    serverMs: z.number().int(),
    ingest: z.object({
      readingsPerSecond: z
        .number()
        .nullable()
        .openapi({ description: `Committed readings per second over up to ${RATE_WINDOW_MS} ms of calls` }),
      readingsCommitted: z.number(),
      rejects: z.number(),
      connectedDevices: z.number().int(),
      connectedClients: z.number().int(),
      queueDepth: z.number().int(),
      status: z.enum(['ok', 'degraded']),
    }),
    totals: z.object({
      factories: z.number().int(),
      machines: z.number().int(),
      machinesOnline: z.number().int(),
      sensors: z.number().int(),
    }),
    factories: z.array(
      z.object({
        id: z.number().int(),
        key: z.string(),
        name: z.string(),
        machines: z.array(
          z.object({
            id: z.number().int(),
            key: z.string(),
            name: z.string(),
            status: z.enum(['unknown', 'online', 'offline']),
            statusSinceMs: z.number().int().nullable(),
            sensors: z.array(OverviewSensor),
          }),
        ),
      }),
    ),
  })
  .openapi('Overview')

const SensorIdList = z
  .string()
  .regex(/^\d{1,15}(,\d{1,15})*$/, 'comma-separated sensor ids')
  .transform((raw) => [...new Set(raw.split(',').map(Number))])
  .refine((ids) => ids.length <= MAX_STREAM_SENSORS, `at most ${MAX_STREAM_SENSORS} sensors`)
  .openapi({ param: { name: 'sensorIds', in: 'query' }, example: '1,2,3', type: 'string' })

export function registerLiveRoutes(
  app: ApiApp,
  options: Pick<ApiOptions, 'health' | 'metrics'> & { storage: Storage },
): void {
  const { overview } = options.storage
  const feed = createReadingFeed(overview.latestForSensors)
  const rate = createRateMeter()

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/whoami',
      tags: ['Live'],
      summary: 'The name and scope of the token making the request',
      responses: { 200: json(WhoAmI, 'The token') },
    }),
    (c) => {
      const token = c.get('token')
      return c.json({ id: token.id, name: token.name, scope: token.scope }, 200)
    },
  )

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/overview',
      tags: ['Live'],
      summary: 'Factories, machines with status, sensors with latest value and freshness, and ingest figures',
      responses: { 200: json(Overview, 'The whole plant in one call') },
    }),
    async (c) => {
      const nowMs = Date.now()
      const health = options.health()
      const metricsText = (await options.metrics()).body
      const committed = counterTotal(metricsText, 'factory_readings_committed_total')
      const totals = { factories: 0, machines: 0, machinesOnline: 0, sensors: 0 }
      const factories = overview.tree().map((f) => {
        totals.factories++
        return {
          ...f,
          machines: f.machines.map((m) => {
            totals.machines++
            if (m.status === 'online') totals.machinesOnline++
            return {
              ...m,
              sensors: m.sensors.map((s) => {
                totals.sensors++
                const tsMs = s.latest?.tsMs ?? null
                return {
                  ...s,
                  ageMs: tsMs === null ? null : nowMs - tsMs,
                  freshness: freshness(tsMs, s.expectedIntervalMs, nowMs),
                }
              }),
            }
          }),
        }
      })
      c.header('Cache-Control', 'no-store')
      return c.json(
        {
          serverMs: nowMs,
          ingest: {
            readingsPerSecond: rate.sample(nowMs, committed),
            readingsCommitted: committed,
            rejects: counterTotal(metricsText, 'factory_rejects_total'),
            connectedDevices: health.broker.connectedDevices,
            connectedClients: health.broker.connectedClients,
            queueDepth: health.writer.queueDepth,
            status: health.status,
          },
          totals,
          factories,
        },
        200,
      )
    },
  )

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/events/readings',
      tags: ['Live'],
      summary: 'Server-sent events: the latest reading of each chosen sensor whenever it changes',
      description:
        `An \`event: readings\` with \`{ "readings": [{ "sensorId", "tsMs", "value" }] }\` right away (the ` +
        `current latest values), then one whenever any of the sensors has a newer reading (checked every ` +
        `${FEED_POLL_INTERVAL_MS} ms; several new readings of a sensor within one check arrive as the newest ` +
        `one). A comment line every ${HEARTBEAT_INTERVAL_MS} ms keeps the stream open.`,
      request: { query: z.object({ sensorIds: SensorIdList }) },
      responses: {
        200: {
          description: 'An event stream',
          content: { 'text/event-stream': { schema: z.string() } },
        },
        ...errorResponses(404),
      },
    }),
    (c) => {
      const { sensorIds } = c.req.valid('query')
      const existing = new Set(overview.existingSensorIds(sensorIds))
      const missing = sensorIds.filter((id) => !existing.has(id))
      if (missing.length > 0) throw new ApiError('API_NOT_FOUND', `sensors ${missing.join(', ')} not found`)
      return streamSSE(c, async (stream) => {
        let unread = 0
        const ended = new Promise<void>((resolve) => stream.onAbort(resolve))
        const send = (event: { event?: string; data: string }) => {
          if (stream.aborted) return
          if (unread >= MAX_UNREAD_EVENTS) {
            stream.abort()
            return
          }
          unread++
          void stream.writeSSE(event).then(() => unread--)
        }
        // Reconnect soon after a dropped connection.
        await stream.write('retry: 2000\n\n')
        const unsubscribe = feed.subscribe(sensorIds, (readings) =>
          send({ event: 'readings', data: JSON.stringify({ readings }) }),
        )
        const heartbeat = setInterval(() => {
          if (!stream.aborted) void stream.write(': heartbeat\n\n')
        }, HEARTBEAT_INTERVAL_MS)
        try {
          await ended
        } finally {
          clearInterval(heartbeat)
          unsubscribe()
        }
      }) as never
    },
  )
}
