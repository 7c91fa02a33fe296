// Applies the forward-only migrations in db/migrations/ in order and records each in schema_migrations.
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Sqlite } from './connection.ts'

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url))
const MIGRATION_FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/

export interface Migration {
  version: number
  name: string
  sql: string
}

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .map((file) => {
      const match = MIGRATION_FILE.exec(file)
      if (!match) throw new Error(`db/migrations/${file}: name must look like NNNN_verb_noun.sql`)
      return { version: Number(match[1]), name: match[2]!, sql: readFileSync(`${dir}/${file}`, 'utf8') }
    })
    .sort((a, b) => a.version - b.version)
}

/** Applies every migration the database has not recorded yet, each in its own transaction. Returns those applied. */
export function migrate(db: Sqlite, migrations = loadMigrations()): Migration[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_ms INTEGER NOT NULL
  ) STRICT`)
  // Any version not yet recorded is applied, so a migration merged with a lower number still runs.
  const applied = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[])
  const pending = migrations.filter((m) => !applied.has(m.version))
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)')
  for (const migration of pending) {
    db.transaction(() => {
      db.exec(migration.sql)
      record.run(migration.version, migration.name, Date.now())
    }).immediate()
  }
  return pending
}
