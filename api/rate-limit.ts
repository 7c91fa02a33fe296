// Per-token request rate limit for /api routes: over the limit, 429 API_RATE_LIMITED with Retry-After.
import type { MiddlewareHandler } from 'hono'
import type { AuthEnv } from './auth.ts'
import { ApiError } from './errors.ts'

export interface RateLimitOptions {
  /** Requests per minute per token; 0 turns the limit off. */
  perMin: number
  now?: () => number
}

interface Bucket {
  tokens: number
  atMs: number
}

// Idle buckets are dropped once this many tokens have one, so revoked or unused tokens cost nothing.
const SWEEP_AT_BUCKETS = 10_000

/** A token bucket per API token: a minute's worth of burst, refilled continuously. Runs after bearerAuth. */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler<AuthEnv> {
  const now = options.now ?? Date.now
  const perMs = options.perMin / 60_000
  const buckets = new Map<number, Bucket>()
  const refill = (b: Bucket, nowMs: number) => {
    b.tokens = Math.min(options.perMin, b.tokens + (nowMs - b.atMs) * perMs)
    b.atMs = nowMs
  }
  return async (c, next) => {
    if (options.perMin <= 0) return next()
    const tokenId = c.get('token').id
    const nowMs = now()
    let bucket = buckets.get(tokenId)
    if (!bucket) {
      if (buckets.size >= SWEEP_AT_BUCKETS) {
        for (const [id, b] of buckets) {
          refill(b, nowMs)
          if (b.tokens >= options.perMin) buckets.delete(id)
        }
      }
      bucket = { tokens: options.perMin, atMs: nowMs }
      buckets.set(tokenId, bucket)
    } else refill(bucket, nowMs)
    if (bucket.tokens < 1) {
      const retryAfterS = Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000))
      c.header('Retry-After', String(retryAfterS))
      throw new ApiError(
        'API_RATE_LIMITED',
        `more than ${options.perMin} requests per minute for this token; retry in ${retryAfterS} s`,
      )
    }
    bucket.tokens -= 1
    await next()
  }
}
