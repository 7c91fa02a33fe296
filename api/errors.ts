// Every error the HTTP API answers with: a stable code, its status, and the one error body shape.
import { z } from '@hono/zod-openapi'

export const API_ERRORS = {
  API_VALIDATION_FAILED: {
    status: 400,
    description: 'A parameter or body field is invalid; `field` names it.',
  },
  API_AUTH_REQUIRED: { status: 401, description: 'No bearer token was sent.' },
  API_AUTH_INVALID: { status: 401, description: 'The bearer token is unknown, malformed or revoked.' },
  API_SCOPE_FORBIDDEN: { status: 403, description: 'The token is valid but its scope does not allow this.' },
  API_NOT_FOUND: { status: 404, description: 'The route or the resource does not exist.' },
  API_RESOURCE_CONFLICT: { status: 409, description: 'A resource with the same key already exists.' },
  API_ALERT_STATE_CONFLICT: {
    status: 409,
    description: 'The alert is not in a state that allows this (e.g. acknowledging a cleared alert).',
  },
  API_BODY_TOO_LARGE: { status: 413, description: 'The request body exceeds FACTORY_HTTP_MAX_BODY_BYTES.' },
  API_RATE_LIMITED: {
    status: 429,
    description:
      'The token sent more than FACTORY_HTTP_RATE_LIMIT_PER_MIN requests; retry after `Retry-After` seconds.',
  },
  API_STORAGE_UNAVAILABLE: {
    status: 503,
    description: 'The database cannot be written right now; retry later.',
  },
  API_INTERNAL: { status: 500, description: 'An unexpected server error; details are in the server log.' },
} as const satisfies Record<
  string,
  { status: 400 | 401 | 403 | 404 | 409 | 413 | 429 | 500 | 503; description: string }
>

export type ApiErrorCode = keyof typeof API_ERRORS

export class ApiError extends Error {
  readonly status: number
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message)
    this.status = API_ERRORS[code].status
  }
}

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(API_ERRORS) as [ApiErrorCode, ...ApiErrorCode[]]),
      message: z.string(),
      field: z
        .string()
        .optional()
        .openapi({ description: 'The offending parameter or body field, when one is to blame.' }),
    }),
  })
  .openapi('Error', { example: { error: { code: 'API_NOT_FOUND', message: 'machine 42 not found' } } })

export type ErrorBodyType = z.infer<typeof ErrorBody>

export function errorBody(code: ApiErrorCode, message: string, field?: string): ErrorBodyType {
  return { error: field === undefined ? { code, message } : { code, message, field } }
}

/** Standard error responses for a route's OpenAPI description. */
export function errorResponses(...codes: (400 | 401 | 403 | 404 | 409 | 503)[]) {
  const out: Record<
    number,
    { description: string; content: { 'application/json': { schema: typeof ErrorBody } } }
  > = {}
  for (const status of codes) {
    const matching = Object.entries(API_ERRORS)
      .filter(([, e]) => e.status === status)
      .map(([code]) => code)
    out[status] = {
      description: matching.join(' or '),
      content: { 'application/json': { schema: ErrorBody } },
    }
  }
  return out
}
