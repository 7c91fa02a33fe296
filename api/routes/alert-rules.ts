// Alert rule CRUD: scope, condition, for-duration, hysteresis, severity and message template.
import { z } from '@hono/zod-openapi'
import type { AlertRuleInput, Storage } from '../../db/index.ts'
import { type ApiApp, found } from '../app.ts'
import { ApiError, errorResponses } from '../errors.ts'
import { Id, idParam } from '../schemas.ts'
import { AlertRule, AlertRuleCreate, AlertRulePatch, DEFAULT_MESSAGE_TEMPLATE } from './alert-schemas.ts'
import { apiRoute, json, jsonBody } from './route.ts'

const tags = ['Alert rules']
const params = idParam('ruleId')

const RuleQuery = z.object({
  sensorId: Id.optional().openapi({ param: { name: 'sensorId', in: 'query' } }),
  machineId: Id.optional().openapi({ param: { name: 'machineId', in: 'query' } }),
  factoryId: Id.optional().openapi({ param: { name: 'factoryId', in: 'query' } }),
  enabled: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .openapi({ param: { name: 'enabled', in: 'query' } }),
})

export function registerAlertRuleRoutes(app: ApiApp, storage: Storage): void {
  const { alerts, catalog } = storage

  /** The scope's target must exist; a missing one is a 404 naming it. */
  const checkScope = (input: AlertRuleCreate) => {
    if (input.scope === 'sensor') found(catalog.getSensor(input.sensorId!), `sensor ${input.sensorId}`)
    if (input.scope === 'machine') found(catalog.getMachine(input.machineId!), `machine ${input.machineId}`)
    if (input.scope === 'factory') found(catalog.getFactory(input.factoryId!), `factory ${input.factoryId}`)
  }
  const toInput = (body: AlertRuleCreate): AlertRuleInput => ({
    ...body,
    messageTemplate: body.messageTemplate ?? DEFAULT_MESSAGE_TEMPLATE,
  })

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/alert-rules',
      tags,
      summary: 'List alert rules',
      request: { query: RuleQuery },
      responses: { 200: json(z.object({ rules: z.array(AlertRule) }), 'Rules') },
    }),
    (c) => c.json({ rules: alerts.listRules(c.req.valid('query')) }, 200),
  )

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/api/v1/alert-rules',
      tags,
      summary: 'Create an alert rule; it applies to readings committed from now on',
      request: { body: jsonBody(AlertRuleCreate) },
      responses: { 201: json(AlertRule, 'The new rule'), ...errorResponses(404) },
    }),
    (c) => {
      const body = c.req.valid('json')
      checkScope(body)
      return c.json(alerts.createRule(toInput(body)), 201)
    },
  )

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/alert-rules/{ruleId}',
      tags,
      summary: 'Get an alert rule',
      request: { params },
      responses: { 200: json(AlertRule, 'The rule'), ...errorResponses(404) },
    }),
    (c) => {
      const { ruleId } = c.req.valid('param')
      return c.json(found(alerts.getRule(ruleId), `alert rule ${ruleId}`), 200)
    },
  )

  app.openapi(
    apiRoute({
      method: 'patch',
      path: '/api/v1/alert-rules/{ruleId}',
      tags,
      summary: 'Change an alert rule (enable/disable, condition, …); its pending durations start over',
      request: { params, body: jsonBody(AlertRulePatch) },
      responses: { 200: json(AlertRule, 'The updated rule'), ...errorResponses(404) },
    }),
    (c) => {
      const { ruleId } = c.req.valid('param')
      const current = found(alerts.getRule(ruleId), `alert rule ${ruleId}`)
      const { id: _id, createdMs: _c, updatedMs: _u, ...base } = current
      const merged = AlertRuleCreate.safeParse({ ...base, ...c.req.valid('json') })
      if (!merged.success) {
        const issue = merged.error.issues[0]!
        const field = issue.path.join('.')
        throw new ApiError(
          'API_VALIDATION_FAILED',
          `${field || 'body'}: ${issue.message}`,
          field || undefined,
        )
      }
      checkScope(merged.data)
      return c.json(found(alerts.replaceRule(ruleId, toInput(merged.data)), `alert rule ${ruleId}`), 200)
    },
  )

  app.openapi(
    apiRoute({
      method: 'delete',
      path: '/api/v1/alert-rules/{ruleId}',
      tags,
      summary: 'Delete an alert rule and its alerts',
      request: { params },
      responses: { 204: { description: 'Deleted' }, ...errorResponses(404) },
    }),
    (c) => {
      const { ruleId } = c.req.valid('param')
      found(alerts.deleteRule(ruleId) || undefined, `alert rule ${ruleId}`)
      return c.body(null, 204)
    },
  )
}
