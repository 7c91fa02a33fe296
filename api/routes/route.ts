// Shared route-definition helpers: bearer security and the standard error responses on every route.
import { createRoute, type RouteConfig, type z } from '@hono/zod-openapi'
import { errorResponses } from '../errors.ts'

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
})

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
})

/** A route under /api/v1 that needs a bearer token; 400/401/403 responses are added. */
export function apiRoute<R extends RouteConfig>(config: R) {
  return createRoute({
    ...config,
    security: [{ bearer: [] }],
    responses: { ...errorResponses(400, 401, 403), ...config.responses },
  })
}
