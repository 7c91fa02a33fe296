// Storage errors callers can act on, each with a stable code (listed in docs/errors.md).

export const STORAGE_ERROR_CODES = ['DB_BUSY', 'DB_CONFLICT', 'DB_NOT_FOUND', 'DB_WRITE_FAILED'] as const
export type StorageErrorCode = (typeof STORAGE_ERROR_CODES)[number]

export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'StorageError'
  }
}

/** Maps SQLite's constraint and I/O failures to storage codes; anything else is rethrown unchanged. */
export function translateSqliteError(error: unknown, what: string): never {
  const code = (error as { code?: string } | null)?.code ?? ''
  if (code.startsWith('SQLITE_CONSTRAINT_UNIQUE') || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    throw new StorageError('DB_CONFLICT', `${what} already exists`)
  }
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
    throw new StorageError('DB_NOT_FOUND', `${what} refers to something that does not exist`)
  }
  // A RAISE(ABORT) trigger is how an operator (or a test) refuses writes; treat it like a read-only file.
  if (/^SQLITE_(FULL|READONLY|IOERR|CANTOPEN|BUSY|LOCKED|CONSTRAINT_TRIGGER)/.test(code)) {
    throw new StorageError('DB_WRITE_FAILED', `${what} could not be written: ${code}`)
  }
  throw error
}
