// Opens the database for the API/broker side: migrations, catalog, access control and read queries.
import { EventEmitter } from 'node:events'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { createAccess } from './access.ts'
import { createAlertStore } from './alerts.ts'
import { createAudit } from './audit.ts'
import { type CatalogChange, createCatalog } from './catalog.ts'
import { openConnection } from './connection.ts'
import { createJobStore } from './jobs.ts'
import { migrate } from './migrate.ts'
import { createOverviewQueries } from './overview.ts'
import { createReadingQueries } from './readings.ts'
import { createWebhookStore } from './webhooks.ts'

export interface StorageOptions {
  dataDir: string
  synchronous: 'NORMAL' | 'FULL'
  busyTimeoutMs: number
  walSizeLimitBytes?: number
  cacheMib?: number
}

export const DATABASE_FILE = 'factory-monitor.db'

export function databaseFile(dataDir: string): string {
  return path.join(dataDir, DATABASE_FILE)
}

export function openStorage(options: StorageOptions) {
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 })
  const file = databaseFile(options.dataDir)
  const db = openConnection({
    file,
    synchronous: options.synchronous,
    busyTimeoutMs: options.busyTimeoutMs,
    walSizeLimitBytes: options.walSizeLimitBytes,
    cacheMib: options.cacheMib,
  })
  const applied = migrate(db)
  const events = new EventEmitter<{ change: [CatalogChange] }>()
  const catalog = createCatalog(db, (change) => events.emit('change', change))
  const ping = db.prepare('SELECT 1').pluck()
  const audit = createAudit(db)

  return {
    file,
    appliedMigrations: applied.map((m) => `${String(m.version).padStart(4, '0')}_${m.name}`),
    catalog,
    access: createAccess(db),
    /** Refusals (MQTT and HTTP), aggregated per window. */
    audit,
    readings: createReadingQueries(db),
    alerts: createAlertStore(db),
    jobs: createJobStore(db),
    webhooks: createWebhookStore(db),
    /** The dashboard's tree and latest-by-id reads. */
    overview: createOverviewQueries(db),
    /** Catalog changes the gateway must know about (sensor specs, auto-registration, deletions). */
    onCatalogChange(listener: (change: CatalogChange) => void): void {
      events.on('change', listener)
    },
    isHealthy(): boolean {
      try {
        return ping.get() === 1
      } catch {
        return false
      }
    },
    close(): void {
      audit.close()
      db.close()
    },
  }
}

export type Storage = ReturnType<typeof openStorage>
