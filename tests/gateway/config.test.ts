// parseConfig: defaults, every problem reported at once by variable name, frozen result.
import { describe, expect, it } from 'vitest'
import { ConfigError, parseConfig } from '../../gateway/config.ts'

describe('parseConfig', () => {
  it('gives documented defaults for an empty environment', () => {
    const config = parseConfig({}, '/srv/fm')
    // toMatchObject: the limit and TLS sections are covered by their own tests.
    expect(config).toMatchObject({
      http: { host: '0.0.0.0', port: 3000, maxBodyBytes: 1_048_576 },
      mqtt: { host: '0.0.0.0', port: 1883, maxPacketBytes: 65_536, allowAnonymous: false },
      dataDir: '/srv/fm/data',
      db: { synchronous: 'NORMAL', busyTimeoutMs: 5000, cacheMib: 8 },
      ingest: {
        maxReadingsPerMessage: 1000,
        futureToleranceMs: 300_000,
        backfillWindowMs: 604_800_000,
        maxBatchMessages: 4096,
        maxBatchBytes: 8_388_608,
      },
      memoryTuning: true,
      logLevel: 'info',
    })
  })

  it('reads variables and freezes the result', () => {
    const config = parseConfig(
      {
        FACTORY_HTTP_PORT: '8080',
        FACTORY_MQTT_ALLOW_ANONYMOUS: 'true',
        FACTORY_DB_SYNCHRONOUS: 'FULL',
        FACTORY_DATA_DIR: '/var/fm',
        FACTORY_DB_CACHE_MB: '4',
        FACTORY_MEMORY_TUNING: 'false',
      },
      '/srv',
    )
    expect([
      config.http.port,
      config.mqtt.allowAnonymous,
      config.db.synchronous,
      config.dataDir,
      config.db.cacheMib,
      config.memoryTuning,
    ]).toEqual([8080, true, 'FULL', '/var/fm', 4, false])
    expect(Object.isFrozen(config) && Object.isFrozen(config.http)).toBe(true)
  })

  it('reports every invalid variable at once, by name', () => {
    let caught: unknown
    try {
      parseConfig({
        FACTORY_HTTP_PORT: '70000',
        FACTORY_MQTT_PORT: 'abc',
        FACTORY_DB_SYNCHRONOUS: 'OFF',
        FACTORY_MQTT_ALLOW_ANONYMOUS: 'maybe',
      })
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(ConfigError)
    const error = caught as ConfigError
    expect(error.code).toBe('CONFIG_INVALID')
    expect(error.problems).toEqual([
      'FACTORY_HTTP_PORT="70000": expected an integer from 0 to 65535',
      'FACTORY_MQTT_PORT="abc": expected an integer from 0 to 65535',
      'FACTORY_MQTT_ALLOW_ANONYMOUS="maybe": expected true or false',
      'FACTORY_DB_SYNCHRONOUS="OFF": expected one of NORMAL, FULL',
    ])
  })
})
