// Webhook signatures: HMAC-SHA256 of the raw body with the webhook's secret, sent as `sha256=<hex>`.
import { createHmac, timingSafeEqual } from 'node:crypto'

export const SIGNATURE_HEADER = 'X-Factory-Signature'

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

/** What a receiver does: recompute and compare in constant time. */
export function verifySignature(secret: string, body: string, header: string | undefined): boolean {
  if (!header) return false
  const expected = Buffer.from(signBody(secret, body))
  const presented = Buffer.from(header)
  return expected.length === presented.length && timingSafeEqual(expected, presented)
}
