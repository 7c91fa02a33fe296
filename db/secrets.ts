// Secrets (device passwords, API tokens) are stored only as scrypt hashes; verification is cached by digest.
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

// N=2^14, r=8, p=1: ~30-50 ms per hash on this class of machine, the OWASP minimum for scrypt.
const SCRYPT = { N: 16_384, r: 8, p: 1, keyBytes: 32, maxmem: 64 * 1024 * 1024 }

// One scrypt at a time: a connect storm (hundreds of devices reconnecting at once) would otherwise put
// every libuv thread on the KDF and starve the broker thread of CPU on a small box (measured: event-loop
// p99 94 ms in the window where 100 devices connected at once). Queued hashes simply take turns.
let scryptChain: Promise<unknown> = Promise.resolve()

// A queued check whose caller has gone (the device disconnected while it waited) is skipped when its turn
// comes: after a storm, hundreds of abandoned checks would otherwise keep newcomers waiting for a minute.
function scryptAsync(
  secret: string,
  salt: Buffer,
  N: number,
  r: number,
  p: number,
  signal?: AbortSignal,
): Promise<Buffer> {
  const run = () =>
    new Promise<Buffer>((resolve, reject) => {
      if (signal?.aborted) return reject(new SecretCheckAbandoned())
      scrypt(secret, salt, SCRYPT.keyBytes, { N, r, p, maxmem: SCRYPT.maxmem }, (error, key) =>
        error ? reject(error) : resolve(key),
      )
    })
  const result = scryptChain.then(run, run)
  scryptChain = result.catch(() => undefined)
  return result
}

/** Thrown by a secret check whose AbortSignal fired before its turn came. */
export class SecretCheckAbandoned extends Error {
  constructor() {
    super('secret check abandoned: the caller went away while it waited')
  }
}

/** A new random secret, URL-safe, 32 bytes of entropy. */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url')
}

/** Hash in the self-describing form `scrypt$N$r$p$salt$hash` so parameters can be raised later. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await scryptAsync(secret, salt, SCRYPT.N, SCRYPT.r, SCRYPT.p)
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join(
    '$',
  )
}

export async function verifySecret(secret: string, stored: string, signal?: AbortSignal): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split('$')
  if (kind !== 'scrypt' || !salt || !hash) return false
  const expected = Buffer.from(hash, 'base64url')
  const key = await scryptAsync(
    secret,
    Buffer.from(salt, 'base64url'),
    Number(n),
    Number(r),
    Number(p),
    signal,
  )
  return key.length === expected.length && timingSafeEqual(key, expected)
}

/**
 * Remembers, per stored hash, the digest of the secret that last verified against it, so a device that
 * reconnects (or an API client sending its token on every request) pays for scrypt once. The stored hash
 * is always read fresh from the database by the caller, so rotation and revocation take effect at once.
 */
export function createVerificationCache(maxEntries = 50_000) {
  const verified = new Map<string, string>()
  const digest = (secret: string) => createHash('sha256').update(secret).digest('base64url')
  return {
    async verify(secret: string, stored: string, signal?: AbortSignal): Promise<boolean> {
      const d = digest(secret)
      if (verified.get(stored) === d) return true
      const ok = await verifySecret(secret, stored, signal)
      if (ok) {
        if (verified.size >= maxEntries) verified.delete(verified.keys().next().value as string)
        verified.set(stored, d)
      }
      return ok
    },
  }
}
