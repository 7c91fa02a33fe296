// Service configuration: parsed once from FACTORY_* environment variables, every problem reported at once, then frozen.
import { accessSync, constants } from 'node:fs'
import path from 'node:path'

/** PEM files for a TLS listener. */
export interface TlsFiles {
  readonly certFile: string
  readonly keyFile: string
}

export interface ServiceConfig {
  readonly http: {
    readonly host: string
    readonly port: number
    readonly maxBodyBytes: number
    /** Origins allowed by CORS; empty means CORS is off. */
    readonly corsOrigins: readonly string[]
    /** Requests per minute per API token; 0 turns the limit off. */
    readonly rateLimitPerMin: number
    readonly tls: TlsFiles | null
  }
  readonly mqtt: {
    readonly host: string
    readonly port: number
    readonly maxPacketBytes: number
    readonly allowAnonymous: boolean
    readonly tls: TlsFiles | null
    /** MQTT over WebSockets; null means no WebSocket listener. */
    readonly wsPort: number | null
    readonly maxConnections: number
    readonly connectRatePerIpPerMin: number
    readonly publishRatePerS: number
    readonly publishBurst: number
    readonly throttleMaxMs: number
    readonly maxTopicLevels: number
    readonly maxTopicBytes: number
    readonly drainTimeoutMs: number
    readonly subscriberQueueMaxBytes: number
    readonly maxInflightInbound: number
  }
  readonly dataDir: string
  readonly db: {
    readonly synchronous: 'NORMAL' | 'FULL'
    readonly busyTimeoutMs: number
    readonly walSizeLimitBytes: number
    /** SQLite page cache per connection (the writer's and the API's each), in MiB. */
    readonly cacheMib: number
    /** Retention horizons in ms; null keeps that tier forever. */
    readonly retention: {
      readonly rawMs: number | null
      readonly minuteMs: number | null
      readonly hourMs: number | null
    }
  }
  readonly ingest: {
    readonly maxReadingsPerMessage: number
    readonly futureToleranceMs: number
    readonly backfillWindowMs: number
    readonly maxBatchMessages: number
    readonly maxBatchBytes: number
  }
  /** Lean allocator and garbage-collector settings for the process (see gateway/memory.ts). */
  readonly memoryTuning: boolean
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
  const optionalPort = (name: string): number | null =>
    env[name] === undefined || env[name]!.trim() === '' ? null : port(name, 0)
  const readable = (name: string): string | null => {
    const raw = env[name]?.trim()
    if (!raw) return null
    const file = path.resolve(cwd, raw)
    try {
      accessSync(file, constants.R_OK)
    } catch {
      problems.push(`${name}=${JSON.stringify(raw)}: file not found or not readable`)
    }
    return file
  }
  const tls = (certName: string, keyName: string): TlsFiles | null => {
    const certFile = readable(certName)
    const keyFile = readable(keyName)
    if (certFile && keyFile) return { certFile, keyFile }
    if (certFile || keyFile) problems.push(`${certName} and ${keyName}: set both or neither`)
    return null
  }
  const origins = (name: string): string[] => {
    const raw = env[name]?.trim()
    if (!raw) return []
    const list = raw.split(',').map((o) => o.trim())
    for (const origin of list) {
      if (origin !== '*' && !/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/.test(origin)) {
        problems.push(`${name}: ${JSON.stringify(origin)} is not an origin like https://host:port or *`)
      }
    }
    return list
  }
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
      corsOrigins: origins('FACTORY_HTTP_CORS_ORIGINS'),
      rateLimitPerMin: int({
        name: 'FACTORY_HTTP_RATE_LIMIT_PER_MIN',
        fallback: 1200,
        min: 0,
        max: 10_000_000,
      }),
      tls: tls('FACTORY_HTTP_TLS_CERT', 'FACTORY_HTTP_TLS_KEY'),
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
      tls: tls('FACTORY_MQTT_TLS_CERT', 'FACTORY_MQTT_TLS_KEY'),
      wsPort: optionalPort('FACTORY_MQTT_WS_PORT'),
      maxConnections: int({ name: 'FACTORY_MQTT_MAX_CONNECTIONS', fallback: 10_000, min: 1, max: 1_000_000 }),
      connectRatePerIpPerMin: int({
        name: 'FACTORY_MQTT_CONNECT_RATE_PER_IP_PER_MIN',
        fallback: 600,
        min: 0,
        max: 10_000_000,
      }),
      publishRatePerS: int({
        name: 'FACTORY_MQTT_PUBLISH_RATE_PER_S',
        // High enough for one device streaming 1,000+ msg/s; a runaway device is still held back.
        fallback: 2000,
        min: 0,
        max: 10_000_000,
      }),
      publishBurst: int({ name: 'FACTORY_MQTT_PUBLISH_BURST', fallback: 4000, min: 1, max: 10_000_000 }),
      throttleMaxMs: int({ name: 'FACTORY_MQTT_THROTTLE_MAX_MS', fallback: 2000, min: 0, max: 60_000 }),
      maxTopicLevels: int({ name: 'FACTORY_MQTT_MAX_TOPIC_LEVELS', fallback: 16, min: 5, max: 100 }),
      maxTopicBytes: int({ name: 'FACTORY_MQTT_MAX_TOPIC_BYTES', fallback: 256, min: 64, max: 65_535 }),
      drainTimeoutMs: int({ name: 'FACTORY_MQTT_DRAIN_TIMEOUT_MS', fallback: 30_000, min: 0, max: 600_000 }),
      subscriberQueueMaxBytes: int({
        name: 'FACTORY_MQTT_SUBSCRIBER_QUEUE_MAX_BYTES',
        fallback: 16 * 1024 * 1024,
        min: 256 * 1024,
        max: 1024 * 1024 * 1024,
      }),
      maxInflightInbound: int({
        name: 'FACTORY_MQTT_MAX_INFLIGHT_INBOUND',
        fallback: 100,
        min: 1,
        max: 65_535,
      }),
    },
    dataDir: path.resolve(cwd, env['FACTORY_DATA_DIR']?.trim() || './data'),
    db: {
      synchronous: oneOf('FACTORY_DB_SYNCHRONOUS', ['NORMAL', 'FULL'] as const, 'NORMAL'),
      busyTimeoutMs: int({ name: 'FACTORY_DB_BUSY_TIMEOUT_MS', fallback: 5000, min: 0, max: 600_000 }),
      walSizeLimitBytes: int({
        name: 'FACTORY_DB_WAL_SIZE_LIMIT_BYTES',
        fallback: 67_108_864,
        min: 0,
        max: 68_719_476_736,
      }),
      cacheMib: int({ name: 'FACTORY_DB_CACHE_MB', fallback: 8, min: 1, max: 65_536 }),
      retention: {
        rawMs: days(int({ name: 'FACTORY_RETENTION_RAW_DAYS', fallback: 30, min: 0, max: 36_500 })),
        minuteMs: days(int({ name: 'FACTORY_RETENTION_1M_DAYS', fallback: 365, min: 0, max: 36_500 })),
        hourMs: days(int({ name: 'FACTORY_RETENTION_1H_DAYS', fallback: 0, min: 0, max: 36_500 })),
      },
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
    memoryTuning: bool('FACTORY_MEMORY_TUNING', true),
    logLevel: oneOf('FACTORY_LOG_LEVEL', LOG_LEVELS, 'info'),
  }

  if (problems.length > 0) throw new ConfigError(problems)
  return deepFreeze(config)
}

/** Retention in days to ms; 0 keeps forever (null). */
function days(n: number): number | null {
  return n === 0 ? null : n * 86_400_000
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (child !== null && typeof child === 'object') deepFreeze(child)
  }
  return Object.freeze(value)
}
