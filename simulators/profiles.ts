// Signal profiles of simulated sensors: temperature, vibration, pressure, motor current and counters,
// each with noise at the sensor's resolution and values rounded to it.
import type { Prng } from './prng.ts'

export const PROFILE_KINDS = ['temperature', 'vibration', 'pressure', 'current', 'counter'] as const
export type ProfileKind = (typeof PROFILE_KINDS)[number]

export interface SensorSpec {
  key: string
  profile: ProfileKind
  resolution: number
  intervalMs: number
  minValue?: number | null
  maxValue?: number | null
}

/** When the machine runs: on for `dutyRatio` of every `periodMs`, shifted by `phaseMs`. */
export interface DutyCycle {
  periodMs: number
  dutyRatio: number
  phaseMs: number
}

export interface Profile {
  /** The next value at `tsMs`; calls must come in increasing `tsMs` (profiles keep state). */
  valueAt(tsMs: number): number
}

const DAY_MS = 86_400_000

export function isRunning(duty: DutyCycle, tsMs: number): boolean {
  const position = (((tsMs + duty.phaseMs) % duty.periodMs) + duty.periodMs) % duty.periodMs
  return position < duty.dutyRatio * duty.periodMs
}

/** Rounds to a multiple of `resolution`, removing binary float noise (0.1 + 0.2 → 0.3). */
export function roundToResolution(value: number, resolution: number): number {
  if (!(resolution > 0)) return value
  const decimals = Math.max(0, Math.ceil(-Math.log10(resolution)))
  return Number((Math.round(value / resolution) * resolution).toFixed(Math.min(decimals, 12)))
}

function clamp(value: number, spec: SensorSpec): number {
  let v = value
  if (spec.minValue != null) v = Math.max(spec.minValue, v)
  if (spec.maxValue != null) v = Math.min(spec.maxValue, v)
  return v
}

export function createProfile(spec: SensorSpec, prng: Prng, duty: DutyCycle): Profile {
  const noise = () => prng.normal() * spec.resolution
  const finish = (value: number) => roundToResolution(clamp(value, spec), spec.resolution)
  switch (spec.profile) {
    case 'temperature': {
      // Mean-reverting random walk (slow drift) on top of a daily cycle.
      const baseC = 35 + prng.next() * 15
      let driftC = 0
      return {
        valueAt(tsMs) {
          driftC = driftC * 0.999 + prng.normal() * 0.02
          const daily = 4 * Math.sin((2 * Math.PI * (tsMs % DAY_MS)) / DAY_MS)
          return finish(baseC + daily + driftC + noise())
        },
      }
    }
    case 'vibration': {
      // A quiet floor with a burst of a few seconds every `burstPeriodMs`.
      const floor = 1 + prng.next()
      const burstPeriodMs = 60_000 + prng.int(60_000)
      const burstMs = 5_000
      const phaseMs = prng.int(burstPeriodMs)
      return {
        valueAt(tsMs) {
          const inBurst = (tsMs + phaseMs) % burstPeriodMs < burstMs
          const level = inBurst ? floor + 6 + prng.next() * 4 : floor
          return finish(Math.abs(level + noise() * 2))
        },
      }
    }
    case 'pressure': {
      // Held at a set point that steps to another at random moments (about every two minutes).
      const setPoints = [4, 6, 8]
      let level = setPoints[prng.int(setPoints.length)]!
      let nextStepMs: number | undefined
      return {
        valueAt(tsMs) {
          nextStepMs ??= tsMs + 30_000 + prng.int(180_000)
          if (tsMs >= nextStepMs) {
            level = setPoints[prng.int(setPoints.length)]!
            nextStepMs = tsMs + 30_000 + prng.int(180_000)
          }
          return finish(level + noise())
        },
      }
    }
    case 'current': {
      // Motor current follows the duty cycle: load current while running, idle current otherwise.
      const loadA = 10 + prng.next() * 5
      return {
        valueAt(tsMs) {
          return finish(Math.max(0, (isRunning(duty, tsMs) ? loadA : 0.4) + noise()))
        },
      }
    }
    case 'counter': {
      // Parts made: grows only while running, never decreases.
      const partsPerSecond = 0.5 + prng.next()
      let count = 0
      let lastMs: number | undefined
      return {
        valueAt(tsMs) {
          if (lastMs !== undefined && isRunning(duty, tsMs))
            count += ((tsMs - lastMs) / 1000) * partsPerSecond
          lastMs = tsMs
          return roundToResolution(Math.floor(count / spec.resolution) * spec.resolution, spec.resolution)
        },
      }
    }
  }
}

/** Guesses a profile for a sensor that came without one (e.g. from a credentials file). */
export function inferProfile(sensor: {
  key: string
  kind?: string | null
  unit?: string | null
}): ProfileKind {
  const text = `${sensor.key} ${sensor.unit ?? ''}`.toLowerCase()
  if (sensor.kind === 'counter' || /count|parts/.test(text)) return 'counter'
  if (/vib|mm\/s/.test(text)) return 'vibration'
  if (/press|bar|psi/.test(text)) return 'pressure'
  if (/curr|amp|\ba\b/.test(text)) return 'current'
  return 'temperature'
}
