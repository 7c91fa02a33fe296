// Unauthenticated operational routes: /health for probes and /metrics for Prometheus.
import { createRoute, z } from '@hono/zod-openapi'
import type { ApiApp, ApiOptions } from '../app.ts'
import { json } from './route.ts'

export const HealthReport = z
  .object({
    status: z.enum(['ok', 'degraded']),
    uptimeMs: z.number(),
    database: z.object({ ok: z.boolean(), file: z.string() }),
    broker: z.object({
      ok: z.boolean(),
      port: z.number(),
      connectedClients: z.number(),
      connectedDevices: z.number(),
    }),
    writer: z.object({
      ok: z.boolean(),
      queueDepth: z.number().openapi({ description: 'Messages waiting for a commit' }),
      lastCommitMs: z.number().nullable(),
    }),
    eventLoop: z.object({
      delayP99Ms: z.number().openapi({ description: 'p99 event-loop delay over the last window' }),
      delayMaxMs: z.number(),
      windowMs: z.number(),
    }),
  })
  .openapi('Health')

export type HealthReport = z.infer<typeof HealthReport>

export function registerSystemRoutes(app: ApiApp, options: Pick<ApiOptions, 'health' | 'metrics'>): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/health',
      tags: ['System'],
      summary: 'Database, broker and writer status, and the event-loop delay',
      responses: { 200: json(HealthReport, 'Healthy'), 503: json(HealthReport, 'Something is down') },
    }),
    (c) => {
      const report = options.health()
      return report.status === 'ok' ? c.json(report, 200) : c.json(report, 503)
    },
  )

  app.get('/metrics', async (c) => {
    const { contentType, body } = await options.metrics()
    return c.body(body, 200, { 'Content-Type': contentType })
  })
}
