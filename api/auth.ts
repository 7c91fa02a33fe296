// Bearer-token authentication and scope checks for every /api route.
import type { MiddlewareHandler } from 'hono'
import type { ApiToken, Storage } from '../db/index.ts'
import { ApiError } from './errors.ts'

export type AuthEnv = { Variables: { token: ApiToken } }

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** Read-only tokens may GET; anything that changes state, token management and the audit log need admin. */
export function bearerAuth(access: Storage['access']): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization')
    if (!header) throw new ApiError('API_AUTH_REQUIRED', 'send Authorization: Bearer <token>')
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
    const token = match ? await access.verifyToken(match[1]!) : null
    if (!token) throw new ApiError('API_AUTH_INVALID', 'the bearer token is not valid')
    const needsAdmin =
      !READ_METHODS.has(c.req.method) ||
      c.req.path.startsWith('/api/v1/tokens') ||
      c.req.path.startsWith('/api/v1/audit')
    if (needsAdmin && token.scope !== 'admin') {
      throw new ApiError('API_SCOPE_FORBIDDEN', `a ${token.scope} token cannot ${c.req.method} ${c.req.path}`)
    }
    c.set('token', token)
    await next()
  }
}
