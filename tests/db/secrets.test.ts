// Secret checks take turns (one scrypt at a time); a check whose caller went away is skipped, not computed.
import { describe, expect, it } from 'vitest'
import { hashSecret, SecretCheckAbandoned, verifySecret } from '../../db/secrets.ts'

describe('secret checks', () => {
  it('verifies the right secret, refuses a wrong one, and skips a check abandoned while it waited', async () => {
    const stored = await hashSecret('right')
    const gone = new AbortController()
    // Queued behind the first check; its caller leaves before its turn.
    const checks = [
      verifySecret('right', stored),
      verifySecret('right', stored, gone.signal),
      verifySecret('wrong', stored),
    ]
    gone.abort()
    const results = await Promise.allSettled(checks)
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : r.reason.constructor))).toEqual([
      true,
      SecretCheckAbandoned,
      false,
    ])
  })
})
