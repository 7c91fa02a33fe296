// The audit log (admin scope only): MQTT and HTTP refusals, aggregated per window with a count.
import { z } from '@hono/zod-openapi'
import type { Storage } from '../../db/index.ts'
import type { ApiApp } from '../app.ts'
import { Limit, TimeParam } from '../schemas.ts'
import { apiRoute, json } from './route.ts'

const Source = z.enum(['mqtt', 'http'])

const AuditEvent = z
  .object({
    id: z.number().int(),
    firstMs: z.number().int(),
    lastMs: z.number().int(),
    source: Source,
    reason: z.string().openapi({ example: 'AUTH_CREDENTIALS_INVALID' }),
    clientId: z.string().nullable(),
    username: z.string().nullable(),
    remoteAddress: z.string().nullable(),
    detail: z.string().nullable().openapi({ description: 'The topic or path involved, when there is one' }),
    count: z.number().int().openapi({ description: 'Events summed into this row' }),
  })
  .openapi('AuditEvent')

export function registerAuditRoutes(app: ApiApp, storage: Storage): void {
  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/audit',
      tags: ['Audit'],
      summary: 'Refused connections, publishes, subscriptions and requests, newest first (admin only)',
      request: {
        query: z.object({
          source: Source.optional().openapi({ param: { name: 'source', in: 'query' } }),
          reason: z
            .string()
            .regex(/^[A-Z_]{1,64}$/)
            .optional()
            .openapi({ param: { name: 'reason', in: 'query' }, example: 'ACL_TOPIC_NOT_OWNED' }),
          since: TimeParam.optional().openapi({ param: { name: 'since', in: 'query' } }),
          limit: Limit(1000, 100),
        }),
      },
      responses: { 200: json(z.object({ events: z.array(AuditEvent) }), 'Audit events') },
    }),
    (c) => {
      const q = c.req.valid('query')
      const events = storage.audit.list({
        source: q.source,
        reason: q.reason,
        sinceMs: q.since,
        limit: q.limit,
      })
      return c.json({ events }, 200)
    },
  )
}
