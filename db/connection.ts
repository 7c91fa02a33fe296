// Opens a SQLite connection with the pragmas every factory-monitor connection needs (WAL, busy timeout, FKs).
import Database from 'better-sqlite3'

export type Sqlite = Database.Database

const DEFAULT_CACHE_MIB = 16

export interface ConnectionOptions {
  /** Database file path. */
  file: string
  /** NORMAL survives a process crash; FULL also survives power loss (see docs/durability.md). */
  synchronous: 'NORMAL' | 'FULL'
  busyTimeoutMs: number
  /** After a checkpoint resets the WAL, its file is truncated to this size (SQLite journal_size_limit). */
  walSizeLimitBytes?: number
  /** Page cache of this connection in MiB (default 16). */
  cacheMib?: number
  readonly?: boolean
}

export function openConnection(options: ConnectionOptions): Sqlite {
  const db = new Database(options.file, { readonly: options.readonly ?? false })
  db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs)}`)
  if (!options.readonly) db.pragma('journal_mode = WAL')
  if (options.walSizeLimitBytes !== undefined)
    db.pragma(`journal_size_limit = ${Math.trunc(options.walSizeLimitBytes)}`)
  db.pragma(`synchronous = ${options.synchronous}`)
  db.pragma('foreign_keys = ON')
  // Page cache per connection; readers and the writer each get their own (negative: KiB).
  db.pragma(`cache_size = ${-Math.trunc((options.cacheMib ?? DEFAULT_CACHE_MIB) * 1024)}`)
  db.pragma('temp_store = MEMORY')
  return db
}
