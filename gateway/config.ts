// Service configuration: parsed once from FACTORY_* environment variables, every problem reported at once, then frozen.
import path from 'node:path'

export interface ServiceConfig {
  readonly http: { readonly host: string; readonly port: number; readonly maxBodyBytes: number }
  readonly mqtt: {
    readonly host: string
    readonly port: number
    readonly maxPacketBytes: number
    readonly allowAnonymous: boolean
  }
  readonly dataDir: string
  readonly db: { readonly synchronous: 'NORMAL' | 'FULL'; readonly busyTimeoutMs: number }
  readonly ingest: {
    readonly maxReadingsPerMessage: number
    readonly futureToleranceMs: number
    readonly backfillWindowMs: number
    readonly maxBatchMessages: number
    readonly maxBatchBytes: number
  }
  readonly logLevel: string
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID'
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`)
  }
}

type Env = Record<string, string | undefined>

interface IntSpec {
  name: string
  fallback: number
  min: number
  max: number
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

/** Parses the whole configuration; throws one ConfigError listing every invalid variable by name. */
export function parseConfig(env: Env, cwd = process.cwd()): ServiceConfig {
  const problems: string[] = []

  const int = ({ name, fallback, min, max }: IntSpec): number => {
    const raw = env[name]
    if (raw === undefined || raw.trim() === '') return fallback
    const value = Number(raw)
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name}=${JSON.stringify(raw)}: expected an integer from ${min} to ${max}`)
      return fallback
    }
    return value
  }
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const raw = env[name]
    if (raw === undefined || raw.trim() === '') return fallback
    const value = raw.trim() as T
    if (!allowed.includes(value)) {
      problems.push(`${name}=${JSON.stringify(raw)}: expected one of ${allowed.join(', ')}`)
      return fallback
    }
    return value
  }
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = env[name]
    if (raw === undefined || raw.trim() === '') return fallback
    if (['1', 'true', 'yes', 'on'].includes(raw.trim().toLowerCase())) return true
    if (['0', 'false', 'no', 'off'].includes(raw.trim().toLowerCase())) return false
    problems.push(`${name}=${JSON.stringify(raw)}: expected true or false`)
    return fallback
  }
  const host = (name: string, fallback: string): string => {
    const raw = env[name]
    if (raw === undefined || raw.trim() === '') return fallback
    if (!/^[A-Za-z0-9.:[\]-]+$/.test(raw.trim())) {
      problems.push(`${name}=${JSON.stringify(raw)}: expected a host name or IP address`)
      return fallback
    }
    return raw.trim()
  }

  const port = (name: string, fallback: number) => int({ name, fallback, min: 0, max: 65535 })
  const DAY_MS = 86_400_000

  const config: ServiceConfig = {
    http: {
      host: host('FACTORY_HTTP_HOST', '0.0.0.0'),
      port: port('FACTORY_HTTP_PORT', 3000),
      maxBodyBytes: int({
        name: 'FACTORY_HTTP_MAX_BODY_BYTES',
        fallback: 1_048_576,
        min: 1024,
        max: 67_108_864,
      }),
    },
    mqtt: {
      host: host('FACTORY_MQTT_HOST', '0.0.0.0'),
      port: port('FACTORY_MQTT_PORT', 1883),
      maxPacketBytes: int({
        name: 'FACTORY_MQTT_MAX_PACKET_BYTES',
        fallback: 65_536,
        min: 256,
        max: 16_777_216,
      }),
      allowAnonymous: bool('FACTORY_MQTT_ALLOW_ANONYMOUS', false),
    },
    dataDir: path.resolve(cwd, env['FACTORY_DATA_DIR']?.trim() || './data'),
    db: {
      synchronous: oneOf('FACTORY_DB_SYNCHRONOUS', ['NORMAL', 'FULL'] as const, 'NORMAL'),
      busyTimeoutMs: int({ name: 'FACTORY_DB_BUSY_TIMEOUT_MS', fallback: 5000, min: 0, max: 600_000 }),
    },
    ingest: {
      maxReadingsPerMessage: int({
        name: 'FACTORY_INGEST_MAX_READINGS_PER_MESSAGE',
        fallback: 1000,
        min: 1,
        max: 100_000,
      }),
      futureToleranceMs: int({
        name: 'FACTORY_INGEST_FUTURE_TOLERANCE_MS',
        fallback: 300_000,
        min: 0,
        max: 365 * DAY_MS,
      }),
      backfillWindowMs: int({
        name: 'FACTORY_INGEST_BACKFILL_WINDOW_MS',
        fallback: 7 * DAY_MS,
        min: 0,
        max: 3650 * DAY_MS,
      }),
      maxBatchMessages: int({
        name: 'FACTORY_INGEST_MAX_BATCH_MESSAGES',
        fallback: 4096,
        min: 1,
        max: 1_000_000,
      }),
      maxBatchBytes: int({
        name: 'FACTORY_INGEST_MAX_BATCH_BYTES',
        fallback: 8_388_608,
        min: 65_536,
        max: 1_073_741_824,
      }),
    },
    logLevel: oneOf('FACTORY_LOG_LEVEL', LOG_LEVELS, 'info'),
  }

  if (problems.length > 0) throw new ConfigError(problems)
  return deepFreeze(config)
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (child !== null && typeof child === 'object') deepFreeze(child)
  }
  return Object.freeze(value)
}
