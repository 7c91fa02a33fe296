// Signal profiles: rounding to the resolution, duty-cycle coupling, bursts, steps and counters.
import { describe, expect, it } from 'vitest'
import { createPrng } from '../../simulators/prng.ts'
import {
  createProfile,
  type DutyCycle,
  inferProfile,
  isRunning,
  roundToResolution,
  type SensorSpec,
} from '../../simulators/profiles.ts'

const duty: DutyCycle = { periodMs: 100_000, dutyRatio: 0.5, phaseMs: 0 }
const spec = (
  profile: SensorSpec['profile'],
  resolution: number,
  extra: Partial<SensorSpec> = {},
): SensorSpec => ({
  key: profile,
  profile,
  resolution,
  intervalMs: 1000,
  ...extra,
})
const series = (s: SensorSpec, seconds: number, seed = 1) => {
  const profile = createProfile(s, createPrng(seed), duty)
  return Array.from({ length: seconds }, (_, i) => profile.valueAt(1_700_000_000_000 + i * 1000))
}
const isMultiple = (value: number, resolution: number) =>
  Math.abs(value / resolution - Math.round(value / resolution)) < 1e-9

describe('roundToResolution', () => {
  it('rounds to multiples of the resolution without float residue', () => {
    expect([0.1 + 0.2, 21.456, 7.5, -3.14149].map((v) => roundToResolution(v, 0.1))).toEqual([
      0.3, 21.5, 7.5, -3.1,
    ])
    expect(roundToResolution(12.7, 1)).toBe(13)
    expect(roundToResolution(1.23456, 0.01)).toBe(1.23)
  })
})

describe('createProfile', () => {
  it('rounds every value of every profile to its resolution', () => {
    for (const [profile, resolution] of [
      ['temperature', 0.1],
      ['vibration', 0.01],
      ['pressure', 0.01],
      ['current', 0.1],
      ['counter', 1],
    ] as const) {
      const values = series(spec(profile, resolution), 300)
      expect(
        values.every((v) => isMultiple(v, resolution)),
        profile,
      ).toBe(true)
    }
  })

  it('gives the same series for the same seed and another for another seed', () => {
    expect(series(spec('temperature', 0.1), 50, 9)).toEqual(series(spec('temperature', 0.1), 50, 9))
    expect(series(spec('temperature', 0.1), 50, 9)).not.toEqual(series(spec('temperature', 0.1), 50, 10))
  })

  it('keeps motor current high while the machine runs and low while it idles', () => {
    const profile = createProfile(spec('current', 0.1), createPrng(1), duty)
    const running = Array.from({ length: 40 }, (_, i) => profile.valueAt(i * 1000))
    const idle = Array.from({ length: 40 }, (_, i) => profile.valueAt(50_000 + i * 1000))
    expect(Math.min(...running)).toBeGreaterThan(8)
    expect(Math.max(...idle)).toBeLessThan(2)
    expect(isRunning(duty, 49_999)).toBe(true)
    expect(isRunning(duty, 50_000)).toBe(false)
  })

  it('counts up only while running and never decreases', () => {
    const profile = createProfile(spec('counter', 1), createPrng(1), duty)
    const values = Array.from({ length: 200 }, (_, i) => profile.valueAt(i * 1000))
    expect(values.every((v, i) => i === 0 || v >= values[i - 1]!)).toBe(true)
    expect(values[49]).toBeGreaterThan(0)
    // 50 s .. 99 s idle: no parts.
    expect(values[99]).toBe(values[50])
  })

  it('bursts vibration well above its floor part of the time', () => {
    const values = series(spec('vibration', 0.01), 600)
    const high = values.filter((v) => v > 5).length
    expect(high).toBeGreaterThan(0)
    expect(high).toBeLessThan(values.length / 2)
  })

  it('holds pressure on set points and steps between them', () => {
    const values = series(spec('pressure', 0.01), 1200)
    const levels = new Set(values.map((v) => Math.round(v)))
    expect([...levels].every((l) => [4, 6, 8].includes(l))).toBe(true)
    expect(levels.size).toBeGreaterThan(1)
  })

  it('clamps to the sensor range', () => {
    const values = series(spec('temperature', 0.1, { minValue: 0, maxValue: 30 }), 100)
    expect(Math.max(...values)).toBe(30)
  })
})

describe('inferProfile', () => {
  it('guesses from key, unit and kind', () => {
    expect(
      [
        { key: 'spindle_temp' },
        { key: 'vib_x', unit: 'mm/s' },
        { key: 'p1', unit: 'bar' },
        { key: 'motor_current', unit: 'A' },
        { key: 'made', kind: 'counter' },
        { key: 's0' },
      ].map(inferProfile),
    ).toEqual(['temperature', 'vibration', 'pressure', 'current', 'counter', 'temperature'])
  })
})
