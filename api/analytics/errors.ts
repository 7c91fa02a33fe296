// Error codes of the analytics area, declared once; the Rust core (src/analytics/error.rs) uses the same codes.
export const ANALYTICS_ERROR_CODES = [
  'ANALYTICS_SERIES_LENGTH_MISMATCH',
  'ANALYTICS_SERIES_NOT_FINITE',
  'ANALYTICS_SERIES_TOO_LONG',
  'ANALYTICS_PARAM_INVALID',
  'ANALYTICS_ENGINE_FAILED',
] as const

export type AnalyticsErrorCode = (typeof ANALYTICS_ERROR_CODES)[number]

/** A refused input or a failed engine call; `field` names the offending input or parameter. */
export class AnalyticsError extends Error {
  readonly code: AnalyticsErrorCode
  readonly field: string

  constructor(code: AnalyticsErrorCode, field: string, detail: string, options?: ErrorOptions) {
    super(`${field}: ${detail}`, options)
    this.name = 'AnalyticsError'
    this.code = code
    this.field = field
  }
}

export function paramError(field: string, detail: string): AnalyticsError {
  return new AnalyticsError('ANALYTICS_PARAM_INVALID', field, detail)
}

/** A whole number in 0..=2³²-1, as the addon requires for counts (window, baselinePoints, points). */
export function checkWholeNumber(field: string, value: number): void {
  if (!(Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff)) {
    throw paramError(field, `must be a whole number, got ${value}`)
  }
}

const RUST_ERROR_PATTERN = /^(ANALYTICS_[A-Z_]+) \[([^\]]+)\]: (.*)$/s

/** Maps an error thrown by the addon (`CODE [field]: detail`, or a caught panic) to an AnalyticsError. */
export function fromEngineError(error: unknown): AnalyticsError {
  const message = error instanceof Error ? error.message : String(error)
  const match = RUST_ERROR_PATTERN.exec(message)
  const code = match?.[1] as AnalyticsErrorCode | undefined
  if (match && code && ANALYTICS_ERROR_CODES.includes(code)) {
    return new AnalyticsError(code, match[2]!, match[3]!)
  }
  return new AnalyticsError('ANALYTICS_ENGINE_FAILED', 'engine', message, { cause: error })
}
