// Fault injection: spec parsing, what each fault does to readings, offline windows, random faults.
import { describe, expect, it } from 'vitest'
import { createMachineFaults, type Fault, malformedPayload, parseFaultSpec } from '../../simulators/faults.ts'
import { createPrng } from '../../simulators/prng.ts'

const START_MS = 1_700_000_000_000
const faultsWith = (
  schedule: Fault[],
  extra: { randomPerHour?: number; malformedRate?: number; seed?: number } = {},
) =>
  createMachineFaults({
    machineKey: 'machine-01',
    sensorKeys: ['temperature', 'pressure'],
    startMs: START_MS,
    schedule,
    randomPerHour: extra.randomPerHour ?? 0,
    malformedRate: extra.malformedRate ?? 0,
    prng: createPrng(extra.seed ?? 1),
  })

describe('parseFaultSpec', () => {
  it('reads kind, start, duration and target', () => {
    expect(parseFaultSpec('offline@30s+15s/machine-02')).toEqual({
      kind: 'offline',
      startMs: 30_000,
      durationMs: 15_000,
      machineKey: 'machine-02',
    })
    expect(parseFaultSpec('stuck@1.5/machine-01/temperature')).toEqual({
      kind: 'stuck',
      startMs: 1500,
      durationMs: 30_000,
      machineKey: 'machine-01',
      sensorKey: 'temperature',
    })
    expect(parseFaultSpec('spike@10')).toEqual({ kind: 'spike', startMs: 10_000, durationMs: 0 })
  })

  it('explains a bad spec', () => {
    expect(parseFaultSpec('melt@10')).toBe(
      'fault "melt@10": kind must be one of spike, stuck, drift, dropout, offline',
    )
    expect(parseFaultSpec('spike')).toBe('fault "spike" is not kind@startS[+durationS][/machine[/sensor]]')
  })
})

describe('createMachineFaults', () => {
  it('leaves readings alone outside fault windows', () => {
    const faults = faultsWith([{ kind: 'dropout', startMs: 10_000, durationMs: 5_000 }])
    expect(faults.apply('temperature', START_MS + 9_999, 20, 0.1)).toBe(20)
    expect(faults.apply('temperature', START_MS + 15_000, 20, 0.1)).toBe(20)
  })

  it('drops a sensor out for the window', () => {
    const faults = faultsWith([
      { kind: 'dropout', startMs: 10_000, durationMs: 5_000, sensorKey: 'temperature' },
    ])
    expect(faults.apply('temperature', START_MS + 10_000, 20, 0.1)).toBeUndefined()
    expect(faults.apply('pressure', START_MS + 10_000, 6, 0.01)).toBe(6)
  })

  it('spikes one reading far above its value', () => {
    const faults = faultsWith([{ kind: 'spike', startMs: 10_000, durationMs: 0 }])
    expect(faults.apply('temperature', START_MS + 10_000, 20, 0.1)).toBe(110)
    expect(faults.apply('temperature', START_MS + 11_000, 20, 0.1)).toBe(20)
  })

  it('holds a stuck value for the whole window, then lets go', () => {
    const faults = faultsWith([{ kind: 'stuck', startMs: 0, durationMs: 3_000 }])
    expect([20, 21, 22, 23].map((v, i) => faults.apply('temperature', START_MS + i * 1000, v, 0.1))).toEqual([
      20, 20, 20, 23,
    ])
  })

  it('drifts further from the value as the window goes on', () => {
    const faults = faultsWith([{ kind: 'drift', startMs: 0, durationMs: 10_000 }])
    const drifted = [0, 5_000, 9_000].map((t) => faults.apply('temperature', START_MS + t, 100, 1)! - 100)
    expect(drifted).toEqual([1, 16, 28])
  })

  it('reports offline windows of its own machine only', () => {
    const faults = faultsWith([
      { kind: 'offline', startMs: 5_000, durationMs: 10_000, machineKey: 'machine-01' },
      { kind: 'offline', startMs: 50_000, durationMs: 10_000, machineKey: 'machine-02' },
    ])
    expect(faults.offlineAt(START_MS + 6_000)).toEqual([START_MS + 5_000, START_MS + 15_000])
    expect(faults.offlineAt(START_MS + 15_000)).toBeUndefined()
    expect(faults.offlineAt(START_MS + 55_000)).toBeUndefined()
  })

  it('corrupts about the chosen fraction of messages', () => {
    const faults = faultsWith([], { malformedRate: 0.2 })
    const corrupted = Array.from({ length: 5000 }, () => faults.corruptNext()).filter(Boolean).length
    expect(corrupted / 5000).toBeGreaterThan(0.17)
    expect(corrupted / 5000).toBeLessThan(0.23)
  })

  it('draws the same random faults for the same seed', () => {
    const run = (seed: number) => {
      const faults = faultsWith([], { randomPerHour: 30, seed })
      return Array.from({ length: 3600 }, (_, i) => faults.apply('temperature', START_MS + i * 1000, 20, 0.1))
    }
    const a = run(5)
    expect(run(5)).toEqual(a)
    expect(a.some((v) => v !== 20)).toBe(true)
    expect(run(6)).not.toEqual(a)
  })

  it('builds malformed payloads that are not valid telemetry', () => {
    const prng = createPrng(1)
    const payloads = Array.from({ length: 20 }, () => malformedPayload(prng, 1000))
    for (const payload of payloads) {
      let valid = false
      try {
        const parsed = JSON.parse(payload)
        valid =
          typeof parsed === 'object' &&
          !Array.isArray(parsed) &&
          typeof parsed.ts === 'number' &&
          Object.values(parsed.values).every((v) => typeof v === 'number')
      } catch {
        valid = false
      }
      expect(valid, payload).toBe(false)
    }
  })
})
