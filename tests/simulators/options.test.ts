// Simulator options: defaults, flags over environment, every problem reported at once.
import { describe, expect, it } from 'vitest'
import { OptionsError, parseOptions } from '../../simulators/options.ts'

describe('parseOptions', () => {
  it('has documented defaults and freezes the result', () => {
    const options = parseOptions([], {})
    expect(options).toEqual({
      apiUrl: 'http://127.0.0.1:3000',
      mqttUrl: 'mqtt://127.0.0.1:1883',
      tokenFile: 'data/admin-token',
      factories: 1,
      machinesPerFactory: 3,
      sensorsPerMachine: 5,
      factoryPrefix: 'demo',
      durationMs: 0,
      qos: 1,
      seed: '1',
      faults: [],
      randomFaultsPerHour: 0,
      malformedRate: 0,
      summaryIntervalMs: 1000,
      quiet: false,
    })
    expect(Object.isFrozen(options)).toBe(true)
  })

  it('reads FACTORY_SIM_* variables and lets flags win', () => {
    const options = parseOptions(['--machines', '7', '--fault', 'spike@5/machine-01'], {
      FACTORY_SIM_MACHINES: '2',
      FACTORY_SIM_QOS: '0',
      FACTORY_SIM_SEED: 'abc',
      FACTORY_SIM_FAULTS: 'offline@1',
      FACTORY_SIM_START_MS: '1000',
      FACTORY_SIM_CREDENTIALS: 'creds.json',
    })
    expect([
      options.machinesPerFactory,
      options.qos,
      options.seed,
      options.startMs,
      options.credentialsFile,
    ]).toEqual([7, 0, 'abc', 1000, 'creds.json'])
    expect(options.faults).toEqual([
      { kind: 'spike', startMs: 5000, durationMs: 0, machineKey: 'machine-01' },
    ])
  })

  it('reports every invalid option together', () => {
    let caught: unknown
    try {
      parseOptions(['--qos', '2', '--machines', '0', '--malformed-rate', '1.5', '--fault', 'boom@1'], {
        FACTORY_SIM_INTERVAL_MS: '5',
      })
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(OptionsError)
    expect((caught as OptionsError).problems).toEqual([
      '--fault (FACTORY_SIM_FAULTS): fault "boom@1": kind must be one of spike, stuck, drift, dropout, offline',
      '--qos (FACTORY_SIM_QOS) must be 0 or 1, got "2"',
      '--machines (FACTORY_SIM_MACHINES) must be a whole number ≥ 1, got "0"',
      '--malformed-rate (FACTORY_SIM_MALFORMED_RATE) must be between 0 and 1, got "1.5"',
      '--interval-ms (FACTORY_SIM_INTERVAL_MS) must be a whole number ≥ 10, got "5"',
    ])
  })

  it('refuses unknown flags', () => {
    expect(() => parseOptions(['--machnies', '3'], {})).toThrow(/Unknown option '--machnies'/)
  })
})
