// Webhook CRUD (global or per rule) and each webhook's delivery log. The secret is shown only on creation.
import { randomBytes } from 'node:crypto'
import { z } from '@hono/zod-openapi'
import type { Storage } from '../../db/index.ts'
import { type ApiApp, found } from '../app.ts'
import { errorResponses } from '../errors.ts'
import { Id, idParam, Limit } from '../schemas.ts'
import { Webhook, WebhookCreate, WebhookDelivery, WebhookPatch } from './alert-schemas.ts'
import { apiRoute, json, jsonBody } from './route.ts'

const tags = ['Webhooks']
const params = idParam('webhookId')

export function registerWebhookRoutes(app: ApiApp, storage: Storage): void {
  const { webhooks, alerts } = storage
  const checkRule = (ruleId: number | null | undefined) => {
    if (ruleId != null) found(alerts.getRule(ruleId), `alert rule ${ruleId}`)
  }

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/webhooks',
      tags,
      summary: 'List webhooks (never their secrets)',
      responses: { 200: json(z.object({ webhooks: z.array(Webhook) }), 'Webhooks') },
    }),
    (c) => c.json({ webhooks: webhooks.list() }, 200),
  )

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/api/v1/webhooks',
      tags,
      summary: 'Create a webhook; its signing secret appears only in this response',
      request: { body: jsonBody(WebhookCreate) },
      responses: {
        201: json(
          Webhook.extend({
            secret: z
              .string()
              .openapi({ description: 'HMAC-SHA256 key for X-Factory-Signature; shown once' }),
          }),
          'The new webhook',
        ),
        ...errorResponses(404),
      },
    }),
    (c) => {
      const { secret, ...input } = c.req.valid('json')
      checkRule(input.ruleId)
      c.header('Cache-Control', 'no-store')
      return c.json(webhooks.create(input, secret ?? randomBytes(32).toString('base64url')), 201)
    },
  )

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/webhooks/{webhookId}',
      tags,
      summary: 'Get a webhook',
      request: { params },
      responses: { 200: json(Webhook, 'The webhook'), ...errorResponses(404) },
    }),
    (c) => {
      const { webhookId } = c.req.valid('param')
      return c.json(found(webhooks.get(webhookId), `webhook ${webhookId}`), 200)
    },
  )

  app.openapi(
    apiRoute({
      method: 'patch',
      path: '/api/v1/webhooks/{webhookId}',
      tags,
      summary: 'Change a webhook (name, URL, rule, enabled)',
      request: { params, body: jsonBody(WebhookPatch) },
      responses: { 200: json(Webhook, 'The updated webhook'), ...errorResponses(404) },
    }),
    (c) => {
      const { webhookId } = c.req.valid('param')
      const patch = c.req.valid('json')
      checkRule(patch.ruleId)
      return c.json(found(webhooks.update(webhookId, patch), `webhook ${webhookId}`), 200)
    },
  )

  app.openapi(
    apiRoute({
      method: 'delete',
      path: '/api/v1/webhooks/{webhookId}',
      tags,
      summary: 'Delete a webhook and its delivery log',
      request: { params },
      responses: { 204: { description: 'Deleted' }, ...errorResponses(404) },
    }),
    (c) => {
      const { webhookId } = c.req.valid('param')
      found(webhooks.remove(webhookId) || undefined, `webhook ${webhookId}`)
      return c.body(null, 204)
    },
  )

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/webhooks/{webhookId}/deliveries',
      tags,
      summary: "A webhook's delivery log, newest first: status, attempts, last response or error",
      request: {
        params,
        query: z.object({
          limit: Limit(1000, 50),
          beforeId: Id.optional().openapi({ param: { name: 'beforeId', in: 'query' } }),
        }),
      },
      responses: {
        200: json(z.object({ deliveries: z.array(WebhookDelivery) }), 'Deliveries'),
        ...errorResponses(404),
      },
    }),
    (c) => {
      const { webhookId } = c.req.valid('param')
      const { limit, beforeId } = c.req.valid('query')
      found(webhooks.get(webhookId), `webhook ${webhookId}`)
      return c.json({ deliveries: webhooks.deliveries(webhookId, limit, beforeId) }, 200)
    },
  )
}
