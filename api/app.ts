// The HTTP API: one Hono app with auth, one error handler, the routes and the OpenAPI document.
import { OpenAPIHono } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { HTTPException } from 'hono/http-exception'
import type { Logger } from 'pino'
import { type Storage, StorageError } from '../db/index.ts'
import { type AuthEnv, bearerAuth } from './auth.ts'
import { corsFor } from './cors.ts'
import { ApiError, type ApiErrorCode, errorBody } from './errors.ts'
import { rateLimit } from './rate-limit.ts'
import { registerAlertRuleRoutes } from './routes/alert-rules.ts'
import { type AlertingApi, registerAlertRoutes } from './routes/alerts.ts'
import { registerAnalyticsRoutes } from './routes/analytics.ts'
import { registerAuditRoutes } from './routes/audit.ts'
import { registerDashboardRoutes } from './routes/dashboard.ts'
import { registerDocsRoutes } from './routes/docs.ts'
import { registerEventRoutes } from './routes/events.ts'
import { registerFactoryRoutes } from './routes/factories.ts'
import { registerJobRoutes } from './routes/jobs.ts'
import { registerLiveRoutes } from './routes/live.ts'
import { registerMachineRoutes } from './routes/machines.ts'
import { registerReadingRoutes } from './routes/readings.ts'
import { registerSensorRoutes } from './routes/sensors.ts'
import { registerSeriesRoutes } from './routes/series.ts'
import { type HealthReport, registerSystemRoutes } from './routes/system.ts'
import { registerTokenRoutes } from './routes/tokens.ts'
import { registerWebhookRoutes } from './routes/webhooks.ts'

export interface ApiOptions {
  storage: Storage
  logger: Logger
  maxBodyBytes: number
  /** Origins allowed by CORS; absent or empty: CORS off. */
  corsOrigins?: readonly string[]
  /** Requests per minute per API token; absent or 0: no limit. */
  rateLimitPerMin?: number
  health(): HealthReport
  metrics(): Promise<{ contentType: string; body: string }>
  /** Acknowledge/clear, the alert event stream and the job list; absent when no gateway runs. */
  alerting?: AlertingApi
}

export type ApiApp = OpenAPIHono<AuthEnv>

const STORAGE_STATUS: Record<StorageError['code'], ApiErrorCode> = {
  DB_BUSY: 'API_STORAGE_UNAVAILABLE',
  DB_CONFLICT: 'API_RESOURCE_CONFLICT',
  DB_NOT_FOUND: 'API_NOT_FOUND',
  DB_WRITE_FAILED: 'API_STORAGE_UNAVAILABLE',
}

// Refusals worth an audit row: someone without the right token, or one sending too fast.
const AUDITED: ReadonlySet<ApiErrorCode> = new Set<ApiErrorCode>([
  'API_AUTH_REQUIRED',
  'API_AUTH_INVALID',
  'API_SCOPE_FORBIDDEN',
  'API_RATE_LIMITED',
])

function remoteAddress(c: Context): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined
  return env?.incoming?.socket?.remoteAddress
}

function sendError(c: Context, error: ApiError) {
  return c.json(errorBody(error.code, error.message, error.field), error.status as 400)
}

export function createApp(options: ApiOptions): ApiApp {
  const log = options.logger
  const app: ApiApp = new OpenAPIHono<AuthEnv>({
    defaultHook: (result, c) => {
      if (result.success) return
      const issue = result.error.issues[0]
      const where = result.target === 'json' ? '' : `${result.target}.`
      const field = issue ? `${where}${issue.path.join('.')}` : result.target
      const message = issue ? `${field || 'body'}: ${issue.message}` : 'invalid request'
      return sendError(c, new ApiError('API_VALIDATION_FAILED', message, field || undefined))
    },
  })

  app.onError((error, c) => {
    if (error instanceof ApiError) {
      if (AUDITED.has(error.code)) {
        options.storage.audit.record({
          source: 'http',
          reason: error.code,
          remoteAddress: remoteAddress(c),
          detail: `${c.req.method} ${c.req.path}`,
        })
      }
      return sendError(c, error)
    }
    if (error instanceof StorageError)
      return sendError(c, new ApiError(STORAGE_STATUS[error.code], error.message))
    if (error instanceof HTTPException && error.status < 500) {
      // Hono raises these for malformed JSON bodies and the like.
      return sendError(c, new ApiError('API_VALIDATION_FAILED', error.message || 'malformed request'))
    }
    log.error({ err: error, method: c.req.method, path: c.req.path }, 'request failed')
    return sendError(c, new ApiError('API_INTERNAL', 'internal error; see the server log'))
  })
  app.notFound((c) =>
    sendError(c, new ApiError('API_NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`)),
  )

  app.use('*', corsFor(options.corsOrigins ?? []))
  app.use(
    '*',
    bodyLimit({
      maxSize: options.maxBodyBytes,
      onError: (c) =>
        sendError(
          c,
          new ApiError('API_BODY_TOO_LARGE', `request body exceeds ${options.maxBodyBytes} bytes`),
        ),
    }),
  )
  const auth = bearerAuth(options.storage.access)
  app.use('/api/*', auth)
  app.use('/api/*', rateLimit({ perMin: options.rateLimitPerMin ?? 0 }))
  app.use('/metrics', auth)
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API token (`fm_<id>_<secret>`). Read-only tokens may only GET.',
  })

  registerSystemRoutes(app, options)
  registerFactoryRoutes(app, options.storage)
  registerMachineRoutes(app, options.storage)
  registerSensorRoutes(app, options.storage)
  registerReadingRoutes(app, options.storage)
  registerSeriesRoutes(app, options.storage)
  registerAnalyticsRoutes(app, options.storage)
  registerTokenRoutes(app, options.storage)
  registerAuditRoutes(app, options.storage)
  registerAlertRuleRoutes(app, options.storage)
  registerAlertRoutes(app, options.storage, options.alerting)
  registerEventRoutes(app, options.alerting)
  registerWebhookRoutes(app, options.storage)
  registerJobRoutes(app, options.storage, options.alerting)
  registerLiveRoutes(app, options)
  registerDashboardRoutes(app)
  registerDocsRoutes(app)
  return app
}

/** 404 unless the lookup found something. */
export function found<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new ApiError('API_NOT_FOUND', `${what} not found`)
  return value
}
