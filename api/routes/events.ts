// Server-sent events: every alert change as it happens, with a comment ping so idle streams stay open.
import { createRoute } from '@hono/zod-openapi'
import { streamSSE } from 'hono/streaming'
import type { ApiApp } from '../app.ts'
import { ApiError, errorResponses } from '../errors.ts'
import type { AlertingApi } from './alerts.ts'

const DEFAULT_PING_INTERVAL_MS = 15_000
// A client this far behind is not reading; it is dropped rather than buffered without bound.
const MAX_UNSENT_EVENTS = 1000

export function registerEventRoutes(app: ApiApp, alerting: AlertingApi | undefined): void {
  let clients = 0
  app.openAPIRegistry.registerPath(
    createRoute({
      method: 'get',
      path: '/api/v1/events/alerts',
      tags: ['Alerts'],
      summary: 'Alert changes as server-sent events (`event: alert`, data: an AlertTransition)',
      description:
        'Each change is one `alert` event whose data is the same JSON as on the MQTT alerts topic. A `: ping` comment is sent every 15 s.',
      security: [{ bearer: [] }],
      responses: {
        200: {
          description: 'An endless text/event-stream',
          content: { 'text/event-stream': { schema: { type: 'string' } } },
        },
        ...errorResponses(401, 503),
      },
    }),
  )

  app.get('/api/v1/events/alerts', (c) => {
    if (!alerting) throw new ApiError('API_STORAGE_UNAVAILABLE', 'alerting is not running')
    const pingIntervalMs = alerting.ssePingIntervalMs ?? DEFAULT_PING_INTERVAL_MS
    return streamSSE(c, async (stream) => {
      let unsent = 0
      let seq = 0
      const closed = new Promise<void>((resolve) => stream.onAbort(resolve))
      const unsubscribe = alerting.subscribe((transition) => {
        if (unsent >= MAX_UNSENT_EVENTS) {
          void stream.close()
          return
        }
        unsent++
        void stream
          .writeSSE({ event: 'alert', id: String(++seq), data: JSON.stringify(transition) })
          .finally(() => unsent--)
      })
      const ping = setInterval(() => void stream.write(': ping\n\n'), pingIntervalMs)
      alerting.onSseClients?.(++clients)
      try {
        // Sent at once so a client knows the stream is live before the first alert.
        await stream.write(': connected\n\n')
        await closed
      } finally {
        clearInterval(ping)
        unsubscribe()
        alerting.onSseClients?.(--clients)
      }
    })
  })
}
