// The storage module: the only place with SQL. Another engine implements the same two entry points.
export { deviceUsername } from './access.ts'
export type { CatalogChange } from './catalog.ts'
export { openConnection } from './connection.ts'
export { STORAGE_ERROR_CODES, StorageError, type StorageErrorCode } from './errors.ts'
export {
  createReadingWriter,
  type ReadingColumns,
  type ReadingWriter,
  type RejectRecord,
  type SensorSpec,
  type StatusChange,
  type WriteResult,
} from './reading-writer.ts'
export { databaseFile, openStorage, type Storage, type StorageOptions } from './storage.ts'
export type * from './types.ts'

import { openConnection } from './connection.ts'
import { createReadingWriter } from './reading-writer.ts'

/** Opens the writer's own connection (used inside the gateway's writer thread only). */
export function openReadingWriter(options: {
  file: string
  synchronous: 'NORMAL' | 'FULL'
  busyTimeoutMs: number
}) {
  const db = openConnection(options)
  const writer = createReadingWriter(db)
  return { ...writer, close: () => db.close() }
}
