// CORS for browser clients on other origins: off unless FACTORY_HTTP_CORS_ORIGINS lists them.
import type { MiddlewareHandler } from 'hono'
import { cors } from 'hono/cors'

const PASS: MiddlewareHandler = (_c, next) => next()

/** No origins: no CORS headers at all, so browsers keep the same-origin policy. `*` allows any origin. */
export function corsFor(origins: readonly string[]): MiddlewareHandler {
  if (origins.length === 0) return PASS
  return cors({
    origin: origins.includes('*') ? '*' : [...origins],
    allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowHeaders: ['Authorization', 'Content-Type'],
    exposeHeaders: ['Retry-After'],
    maxAge: 600,
  })
}
