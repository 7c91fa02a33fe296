// Alerts: list and filter, counts per state, history, and acknowledge/clear (done by the writer thread).
import { z } from '@hono/zod-openapi'
import { ALERT_SEVERITIES, ALERT_STATES, type AlertTransition, type Storage } from '../../db/index.ts'
import { type ApiApp, found } from '../app.ts'
import { ApiError, errorResponses } from '../errors.ts'
import { Id, idParam, Limit, TimeParam } from '../schemas.ts'
import { Alert, AlertAction, AlertCounts, AlertEvent, type Job } from './alert-schemas.ts'
import { apiRoute, json } from './route.ts'

/** What the API needs from the running gateway for alerting; absent in API-only tests. */
export interface AlertingApi {
  acknowledge(alertId: number, actor: string, comment: string | null): Promise<AlertTransition[]>
  clear(alertId: number, actor: string, comment: string | null): Promise<AlertTransition[]>
  subscribe(listener: (transition: AlertTransition) => void): () => void
  jobs(): Job[]
  /** Comment pings keep idle SSE streams open through proxies; default 15 s. */
  ssePingIntervalMs?: number
  onSseClients?(count: number): void
}

const tags = ['Alerts']
const params = idParam('alertId')
const q = <T extends z.ZodType>(schema: T, name: string) => schema.openapi({ param: { name, in: 'query' } })

const AlertQuery = z.object({
  state: q(z.enum(ALERT_STATES).optional(), 'state'),
  severity: q(z.enum(ALERT_SEVERITIES).optional(), 'severity'),
  factoryId: q(Id.optional(), 'factoryId'),
  machineId: q(Id.optional(), 'machineId'),
  sensorId: q(Id.optional(), 'sensorId'),
  ruleId: q(Id.optional(), 'ruleId'),
  from: q(TimeParam.optional(), 'from'),
  to: q(TimeParam.optional(), 'to'),
})

/** Maps the writer's refusal codes to API errors. */
function actionError(error: unknown): never {
  const code = (error as { code?: string } | null)?.code
  const message = error instanceof Error ? error.message : String(error)
  if (code === 'ALERT_NOT_FOUND') throw new ApiError('API_NOT_FOUND', message)
  if (code === 'ALERT_STATE_CONFLICT') throw new ApiError('API_ALERT_STATE_CONFLICT', message)
  throw new ApiError('API_STORAGE_UNAVAILABLE', message)
}

export function registerAlertRoutes(app: ApiApp, storage: Storage, alerting: AlertingApi | undefined): void {
  const { alerts } = storage
  const filter = (query: z.infer<typeof AlertQuery>) => {
    const { from, to, ...rest } = query
    return { ...rest, fromMs: from, toMs: to }
  }

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/alerts',
      tags,
      summary:
        'List alerts, newest first, filtered by state, severity, factory, machine, sensor, rule and time',
      request: {
        query: AlertQuery.extend({ limit: Limit(1000, 100), beforeId: q(Id.optional(), 'beforeId') }),
      },
      responses: {
        200: json(
          z.object({ alerts: z.array(Alert), nextBeforeId: z.number().int().nullable() }),
          'Alerts; pass nextBeforeId as beforeId for the next page',
        ),
      },
    }),
    (c) => {
      const { limit, beforeId, ...query } = c.req.valid('query')
      const page = alerts.listAlerts({ ...filter(query), limit, beforeId })
      const nextBeforeId = page.length === limit ? page.at(-1)!.id : null
      return c.json({ alerts: page, nextBeforeId }, 200)
    },
  )

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/alerts/counts',
      tags,
      summary: 'How many alerts are in each state, under the same filters as the list',
      request: { query: AlertQuery.omit({ state: true }) },
      responses: { 200: json(AlertCounts, 'Counts per state') },
    }),
    (c) => c.json(alerts.countAlerts(filter(c.req.valid('query'))), 200),
  )

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/alerts/{alertId}',
      tags,
      summary: 'An alert with its full history',
      request: { params },
      responses: {
        200: json(Alert.extend({ events: z.array(AlertEvent) }), 'The alert and its events, oldest first'),
        ...errorResponses(404),
      },
    }),
    (c) => {
      const { alertId } = c.req.valid('param')
      const alert = found(alerts.getAlert(alertId), `alert ${alertId}`)
      return c.json({ ...alert, events: alerts.listEvents(alertId) }, 200)
    },
  )

  for (const action of ['acknowledge', 'clear'] as const) {
    app.openapi(
      apiRoute({
        method: 'post',
        path: `/api/v1/alerts/{alertId}/${action}`,
        tags,
        summary:
          action === 'acknowledge'
            ? 'Acknowledge an active alert; the token name is recorded as who did it'
            : 'Clear an alert by hand; the next excursion opens a new one',
        request: {
          params,
          body: { required: false, content: { 'application/json': { schema: AlertAction } } },
        },
        responses: { 200: json(Alert, 'The alert after the change'), ...errorResponses(404, 409, 503) },
      }),
      async (c) => {
        const { alertId } = c.req.valid('param')
        if (!alerting) throw new ApiError('API_STORAGE_UNAVAILABLE', 'alerting is not running')
        const body = (c.req.valid('json') as z.infer<typeof AlertAction> | undefined) ?? {}
        const actor = c.get('token').name
        const transitions = await alerting[action](alertId, actor, body.comment ?? null).catch(actionError)
        return c.json(found(transitions[0]?.alert, `alert ${alertId}`), 200)
      },
    )
  }
}
