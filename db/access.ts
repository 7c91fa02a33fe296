// Device credentials and API tokens: issued here, stored only as hashes, verified against fresh rows.
import type { Sqlite } from './connection.ts'
import { StorageError, translateSqliteError } from './errors.ts'
import { createVerificationCache, issueSecret } from './secrets.ts'
import type { ApiToken, DeviceIdentity, IssuedCredential, TokenScope } from './types.ts'

interface CredentialRow {
  id: number
  machine_id: number
  username: string
  secret_hash: string
  machine_key: string
  factory_id: number
  factory_key: string
}
interface TokenRow {
  id: number
  name: string
  scope: TokenScope
  secret_hash: string
  created_ms: number
  revoked_ms: number | null
}

const toToken = (r: TokenRow): ApiToken => ({
  id: r.id,
  name: r.name,
  scope: r.scope,
  createdMs: r.created_ms,
  revokedMs: r.revoked_ms,
})

/** API tokens read `fm_<id>_<secret>`: the id finds the row, the secret is checked against its hash. */
const TOKEN_FORMAT = /^fm_(\d{1,15})_([A-Za-z0-9_-]{16,128})$/

export function deviceUsername(factoryKey: string, machineKey: string): string {
  return `${factoryKey}.${machineKey}`
}

export function createAccess(db: Sqlite) {
  const cache = createVerificationCache()
  const q = {
    activeCredential: db.prepare(
      `SELECT c.id, c.machine_id, c.username, c.secret_hash, m.key AS machine_key, f.id AS factory_id,
       f.key AS factory_key FROM device_credentials c JOIN machines m ON m.id = c.machine_id
       JOIN factories f ON f.id = m.factory_id WHERE c.username = ? AND c.revoked_ms IS NULL`,
    ),
    machineKeys: db.prepare(
      'SELECT m.key AS machine_key, f.key AS factory_key FROM machines m JOIN factories f ON f.id = m.factory_id WHERE m.id = ?',
    ),
    revokeCredentials: db.prepare(
      'UPDATE device_credentials SET revoked_ms = ? WHERE machine_id = ? AND revoked_ms IS NULL',
    ),
    insertCredential: db.prepare(
      'INSERT INTO device_credentials (machine_id, username, secret_hash, created_ms) VALUES (?, ?, ?, ?)',
    ),
    insertToken: db.prepare(
      'INSERT INTO api_tokens (name, scope, secret_hash, created_ms) VALUES (?, ?, ?, ?) RETURNING *',
    ),
    getToken: db.prepare('SELECT * FROM api_tokens WHERE id = ?'),
    listTokens: db.prepare('SELECT * FROM api_tokens ORDER BY id'),
    revokeToken: db.prepare('UPDATE api_tokens SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL'),
    countTokens: db.prepare('SELECT count(*) FROM api_tokens').pluck(),
  }

  return {
    /** Issues a new device password for a machine, revoking any previous one. */
    async issueCredential(machineId: number): Promise<IssuedCredential> {
      const keys = q.machineKeys.get(machineId) as { machine_key: string; factory_key: string } | undefined
      if (!keys) throw new StorageError('DB_NOT_FOUND', `machine ${machineId} not found`)
      const username = deviceUsername(keys.factory_key, keys.machine_key)
      const { secret: password, stored: hash } = issueSecret()
      try {
        db.transaction(() => {
          const now = Date.now()
          q.revokeCredentials.run(now, machineId)
          q.insertCredential.run(machineId, username, hash, now)
        }).immediate()
      } catch (error) {
        translateSqliteError(error, 'credential')
      }
      return { machineId, username, password }
    },

    /** The machine a username/password pair speaks for, or null when unknown, revoked or wrong. */
    /** Rejects with SecretCheckAbandoned when `signal` fires before the check had its turn. */
    async verifyDevice(
      username: string,
      password: string,
      signal?: AbortSignal,
    ): Promise<DeviceIdentity | null> {
      const row = q.activeCredential.get(username) as CredentialRow | undefined
      if (!row || !(await cache.verify(password, row.secret_hash, signal))) return null
      return {
        machineId: row.machine_id,
        machineKey: row.machine_key,
        factoryId: row.factory_id,
        factoryKey: row.factory_key,
        username: row.username,
      }
    },

    hasTokens: (): boolean => (q.countTokens.get() as number) > 0,

    /** Creates an API token; the returned secret is the only copy. */
    async createToken(name: string, scope: TokenScope): Promise<{ token: ApiToken; secret: string }> {
      const { secret, stored: hash } = issueSecret()
      const row = q.insertToken.get(name, scope, hash, Date.now()) as TokenRow
      return { token: toToken(row), secret: `fm_${row.id}_${secret}` }
    },

    async verifyToken(presented: string): Promise<ApiToken | null> {
      const match = TOKEN_FORMAT.exec(presented)
      if (!match) return null
      const row = q.getToken.get(Number(match[1])) as TokenRow | undefined
      if (!row || row.revoked_ms !== null) return null
      return (await cache.verify(match[2]!, row.secret_hash)) ? toToken(row) : null
    },

    listTokens: (): ApiToken[] => (q.listTokens.all() as TokenRow[]).map(toToken),
    revokeToken: (id: number): boolean => q.revokeToken.run(Date.now(), id).changes > 0,
    getToken(id: number): ApiToken | undefined {
      const row = q.getToken.get(id) as TokenRow | undefined
      return row && toToken(row)
    },
  }
}

export type Access = ReturnType<typeof createAccess>
