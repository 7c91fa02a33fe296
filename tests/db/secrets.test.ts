// Issued secrets are stored as salted SHA-256; hashes of the earlier scheme (scrypt) still verify, one check
// at a time, and a check whose caller went away is skipped, not computed.
import { randomBytes, scryptSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { issueSecret, SecretCheckAbandoned, verifySecret } from '../../db/secrets.ts'

/** A hash as the earlier releases stored it. */
function scryptHash(secret: string): string {
  const salt = randomBytes(16)
  const key = scryptSync(secret, salt, 32, { N: 16_384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 })
  return ['scrypt', 16_384, 8, 1, salt.toString('base64url'), key.toString('base64url')].join('$')
}

const outcome = (r: PromiseSettledResult<boolean>) =>
  r.status === 'fulfilled' ? r.value : (r.reason as Error).constructor

describe('secrets', () => {
  it('issues 32 random bytes stored as a salted SHA-256 that verifies only the same secret', async () => {
    const a = issueSecret()
    const b = issueSecret()
    expect(Buffer.from(a.secret, 'base64url')).toHaveLength(32)
    expect(a.stored).toMatch(/^sha256\$[\w-]{22}\$[\w-]{43}$/)
    expect(a.stored).not.toContain(a.secret)
    expect(
      await Promise.all([
        verifySecret(a.secret, a.stored),
        verifySecret(b.secret, a.stored),
        verifySecret(`${a.secret}x`, a.stored),
        verifySecret(a.secret, 'sha256$only-two'),
        verifySecret(a.secret, 'md5$x$y'),
      ]),
    ).toEqual([true, false, false, false, false])
  })

  it('verifies earlier scrypt hashes one at a time, skipping a check abandoned while it waited', async () => {
    const stored = scryptHash('right')
    const gone = new AbortController()
    // Queued behind the first check; its caller leaves before its turn.
    const checks = [
      verifySecret('right', stored),
      verifySecret('right', stored, gone.signal),
      verifySecret('wrong', stored),
    ]
    gone.abort()
    expect((await Promise.allSettled(checks)).map(outcome)).toEqual([true, SecretCheckAbandoned, false])
  })

  it('does not keep an issued secret waiting behind scrypt checks', async () => {
    const legacy = scryptHash('right')
    const issued = issueSecret()
    const order: string[] = []
    await Promise.all([
      verifySecret('right', legacy).then(() => order.push('scrypt')),
      verifySecret(issued.secret, issued.stored).then(() => order.push('issued')),
    ])
    expect(order).toEqual(['issued', 'scrypt'])
  })
})
