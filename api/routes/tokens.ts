// API token management (admin scope only).
import { z } from '@hono/zod-openapi'
import type { Storage } from '../../db/index.ts'
import { type ApiApp, found } from '../app.ts'
import { errorResponses } from '../errors.ts'
import { ApiToken, idParam, TokenCreate } from '../schemas.ts'
import { apiRoute, json, jsonBody } from './route.ts'

const tags = ['Tokens']

export function registerTokenRoutes(app: ApiApp, storage: Storage): void {
  const { access } = storage

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/api/v1/tokens',
      tags,
      summary: 'List API tokens (never their secrets)',
      responses: { 200: json(z.object({ tokens: z.array(ApiToken) }), 'Tokens') },
    }),
    (c) => c.json({ tokens: access.listTokens() }, 200),
  )

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/api/v1/tokens',
      tags,
      summary: 'Create an API token; the secret appears only in this response',
      request: { body: jsonBody(TokenCreate) },
      responses: {
        201: json(ApiToken.extend({ token: z.string().openapi({ example: 'fm_2_…' }) }), 'The new token'),
      },
    }),
    async (c) => {
      const body = c.req.valid('json')
      const { token, secret } = await access.createToken(body.name, body.scope)
      c.header('Cache-Control', 'no-store')
      return c.json({ ...token, token: secret }, 201)
    },
  )

  app.openapi(
    apiRoute({
      method: 'delete',
      path: '/api/v1/tokens/{tokenId}',
      tags,
      summary: 'Revoke an API token; it stops working at once',
      request: { params: idParam('tokenId') },
      responses: { 204: { description: 'Revoked' }, ...errorResponses(404) },
    }),
    (c) => {
      const { tokenId } = c.req.valid('param')
      found(access.getToken(tokenId), `token ${tokenId}`)
      access.revokeToken(tokenId)
      return c.body(null, 204)
    },
  )
}
