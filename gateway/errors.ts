// Ingest error codes raised by the gateway itself (listed in docs/errors.md).

export const INGEST_ERROR_CODES = {
  /** The writer thread is not running; messages get no PUBACK until it is back. */
  INGEST_WRITER_DOWN: 'INGEST_WRITER_DOWN',
  /** Stored as a reject reason when the validator fails on a message instead of judging it. */
  PAYLOAD_VALIDATOR_FAILED: 'PAYLOAD_VALIDATOR_FAILED',
} as const

export type IngestErrorCode = keyof typeof INGEST_ERROR_CODES

export class IngestError extends Error {
  constructor(
    readonly code: IngestErrorCode | 'DB_WRITE_FAILED' | (string & {}),
    message: string,
  ) {
    super(message)
    this.name = 'IngestError'
  }
}
