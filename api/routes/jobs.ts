// Background jobs: their schedules and state, and each job's run history.
import { z } from '@hono/zod-openapi'
import type { Storage } from '../../db/index.ts'
import type { ApiApp } from '../app.ts'
import { ApiError, errorResponses } from '../errors.ts'
import { Id, Limit } from '../schemas.ts'
import { Job, JobRun } from './alert-schemas.ts'
import type { AlertingApi } from './alerts.ts'
import { apiRoute, json } from './route.ts'

const tags = ['Jobs']

export function registerJobRoutes(app: ApiApp, storage: Storage, alerting: AlertingApi | undefined): void {
  const list = () => alerting?.jobs() ?? []

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/jobs',
      tags,
      summary: 'Scheduled background jobs with their next and last run',
      responses: { 200: json(z.object({ jobs: z.array(Job) }), 'Jobs') },
    }),
    (c) => c.json({ jobs: list() }, 200),
  )

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/jobs/{name}/runs',
      tags,
      summary: "A job's runs, newest first: start, end, result, rows touched, error",
      request: {
        params: z.object({
          name: z
            .string()
            .regex(/^[a-z0-9-]{1,64}$/)
            .openapi({ param: { name: 'name', in: 'path' }, example: 'alert-timers' }),
        }),
        query: z.object({
          limit: Limit(500, 50),
          beforeId: Id.optional().openapi({ param: { name: 'beforeId', in: 'query' } }),
        }),
      },
      responses: { 200: json(z.object({ runs: z.array(JobRun) }), 'Runs'), ...errorResponses(404) },
    }),
    (c) => {
      const { name } = c.req.valid('param')
      const { limit, beforeId } = c.req.valid('query')
      if (!list().some((job) => job.name === name))
        throw new ApiError('API_NOT_FOUND', `job ${name} not found`)
      return c.json({ runs: storage.jobs.listRuns(name, limit, beforeId) }, 200)
    },
  )
}
