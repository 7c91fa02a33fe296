// Secrets (device passwords, API tokens) are stored only as hashes. Every secret is issued here: 32 random
// bytes, 256 bits that no guessing attack can search, so a salted SHA-256 protects it as well as a slow key
// derivation would, and checks it in a microsecond. Hashes of the earlier scheme (scrypt, made for
// human-chosen passwords) still verify; those checks are slow and take turns.
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

/** The hash kind new secrets are stored with. */
const ISSUED_KIND = 'sha256'
// The earlier scheme's costs are read from each stored hash; this is only the memory ceiling for them.
const SCRYPT_MAX_MEMORY = 64 * 1024 * 1024
const SCRYPT_KEY_BYTES = 32

// One scrypt at a time: a connect storm of devices with scrypt hashes would otherwise put every libuv
// thread on the KDF and starve the broker thread of CPU on a small box (measured: event-loop p99 94 ms in
// the window where 100 devices connected at once). Queued hashes simply take turns.
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
      scrypt(secret, salt, SCRYPT_KEY_BYTES, { N, r, p, maxmem: SCRYPT_MAX_MEMORY }, (error, key) =>
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

const sha256 = (salt: Buffer, secret: string) => createHash('sha256').update(salt).update(secret).digest()

/**
 * A new secret, URL-safe with 32 bytes of entropy, and its stored form `sha256$salt$hash`
 * (self-describing, so the scheme can change without invalidating issued secrets).
 */
export function issueSecret(): { secret: string; stored: string } {
  const secret = randomBytes(32).toString('base64url')
  const salt = randomBytes(16)
  const stored = [ISSUED_KIND, salt.toString('base64url'), sha256(salt, secret).toString('base64url')]
  return { secret, stored: stored.join('$') }
}

/** Checks a secret against its stored hash: `sha256$salt$hash`, or `scrypt$N$r$p$salt$hash` (earlier). */
export async function verifySecret(secret: string, stored: string, signal?: AbortSignal): Promise<boolean> {
  const parts = stored.split('$')
  let key: Buffer
  let hash: string | undefined
  if (parts[0] === ISSUED_KIND && parts.length === 3) {
    hash = parts[2]
    key = sha256(Buffer.from(parts[1]!, 'base64url'), secret)
  } else if (parts[0] === 'scrypt' && parts.length === 6) {
    const [, n, r, p, salt] = parts
    hash = parts[5]
    key = await scryptAsync(secret, Buffer.from(salt!, 'base64url'), Number(n), Number(r), Number(p), signal)
  } else return false
  const expected = Buffer.from(hash!, 'base64url')
  return key.length === expected.length && timingSafeEqual(key, expected)
}

/**
 * Remembers, per stored hash, the digest of the secret that last verified against it, so a device with an
 * earlier scrypt hash that reconnects pays for scrypt once. The stored hash is always read fresh from the
 * database by the caller, so rotation and revocation take effect at once.
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
