// Fault injection: spikes, stuck values, drift, dropouts, machines going offline and malformed
// payloads, on a schedule (`kind@startS[+durationS][/machine[/sensor]]`) or at random (seeded).
import type { Prng } from './prng.ts'

export const FAULT_KINDS = ['spike', 'stuck', 'drift', 'dropout', 'offline'] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

export interface Fault {
  kind: FaultKind
  /** Offset from the simulation start. */
  startMs: number
  durationMs: number
  /** Machine key; absent = every machine. */
  machineKey?: string
  /** Sensor key; absent = every sensor (ignored by `offline`). */
  sensorKey?: string
}

const DEFAULT_DURATION_MS: Record<FaultKind, number> = {
  spike: 0,
  stuck: 30_000,
  drift: 60_000,
  dropout: 20_000,
  offline: 15_000,
}
/** A spike multiplies the value by this factor (plus one resolution step so zero still spikes). */
const SPIKE_FACTOR = 5
/** Drift reaches this fraction of the value at the end of its window. */
const DRIFT_FRACTION = 0.3
/** Random faults are drawn per machine for windows of this length. */
const RANDOM_WINDOW_MS = 3_600_000

/** Parses `kind@startS[+durationS][/machine[/sensor]]`; returns the fault or an error message. */
export function parseFaultSpec(spec: string): Fault | string {
  const match = /^([a-z]+)@(\d+(?:\.\d+)?)s?(?:\+(\d+(?:\.\d+)?)s?)?(?:\/([^/]+)(?:\/([^/]+))?)?$/.exec(
    spec.trim(),
  )
  if (!match) return `fault "${spec}" is not kind@startS[+durationS][/machine[/sensor]]`
  const kind = match[1] as FaultKind
  if (!FAULT_KINDS.includes(kind)) return `fault "${spec}": kind must be one of ${FAULT_KINDS.join(', ')}`
  const fault: Fault = {
    kind,
    startMs: Math.round(Number(match[2]) * 1000),
    durationMs: match[3] === undefined ? DEFAULT_DURATION_MS[kind] : Math.round(Number(match[3]) * 1000),
  }
  if (match[4] !== undefined) fault.machineKey = match[4]
  if (match[5] !== undefined) fault.sensorKey = match[5]
  return fault
}

export interface MachineFaults {
  /** The reading to publish for a sensor at `tsMs`, or undefined when the sensor drops out. */
  apply(sensorKey: string, tsMs: number, value: number, resolution: number): number | undefined
  /** The offline window covering `tsMs`, if any: [startTsMs, endTsMs). */
  offlineAt(tsMs: number): [number, number] | undefined
  /** Whether the next message should be sent malformed. */
  corruptNext(): boolean
}

export interface MachineFaultsOptions {
  machineKey: string
  sensorKeys: string[]
  /** Absolute time the scheduled offsets count from. */
  startMs: number
  schedule: Fault[]
  /** Mean random faults per machine per hour (0 = none). */
  randomPerHour: number
  /** Fraction of messages sent malformed, in [0, 1]. */
  malformedRate: number
  prng: Prng
}

export function createMachineFaults(options: MachineFaultsOptions): MachineFaults {
  const { machineKey, startMs, prng } = options
  const mine = options.schedule.filter((f) => f.machineKey === undefined || f.machineKey === machineKey)
  const randomWindows = new Map<number, Fault[]>()
  const malformedPrng = prng.fork('malformed')
  const stuckValues = new Map<string, number>()

  // Random faults of one window depend only on the seed, machine and window index.
  const randomFaults = (window: number): Fault[] => {
    let faults = randomWindows.get(window)
    if (faults) return faults
    faults = []
    if (options.randomPerHour > 0) {
      const r = prng.fork(`random/${window}`)
      const expected = (options.randomPerHour * RANDOM_WINDOW_MS) / 3_600_000
      // Poisson draw (Knuth) of how many faults start in this window.
      const limit = Math.exp(-expected)
      let p = r.next()
      let count = 0
      while (p > limit) {
        count++
        p *= r.next()
      }
      for (let i = 0; i < count; i++) {
        const kind = FAULT_KINDS[r.int(FAULT_KINDS.length)]!
        faults.push({
          kind,
          startMs: window * RANDOM_WINDOW_MS + r.int(RANDOM_WINDOW_MS),
          durationMs: DEFAULT_DURATION_MS[kind],
          machineKey,
          sensorKey: options.sensorKeys[r.int(options.sensorKeys.length)],
        })
      }
    }
    randomWindows.set(window, faults)
    return faults
  }

  const activeAt = (offsetMs: number): Fault[] => {
    const window = Math.floor(offsetMs / RANDOM_WINDOW_MS)
    const candidates = [...mine, ...randomFaults(window), ...(window > 0 ? randomFaults(window - 1) : [])]
    return candidates.filter((f) =>
      f.kind === 'spike'
        ? offsetMs >= f.startMs && offsetMs < f.startMs + Math.max(f.durationMs, 1)
        : offsetMs >= f.startMs && offsetMs < f.startMs + f.durationMs,
    )
  }

  return {
    apply(sensorKey, tsMs, value, resolution) {
      const offsetMs = tsMs - startMs
      const active = activeAt(offsetMs).filter((f) => f.sensorKey === undefined || f.sensorKey === sensorKey)
      let result = value
      let stuck = false
      for (const fault of active) {
        if (fault.kind === 'dropout') return undefined
        if (fault.kind === 'stuck') {
          stuck = true
          if (!stuckValues.has(sensorKey)) stuckValues.set(sensorKey, value)
          result = stuckValues.get(sensorKey)!
        }
      }
      if (!stuck) stuckValues.delete(sensorKey)
      for (const fault of active) {
        if (fault.kind === 'drift' && !stuck) {
          result +=
            Math.abs(value) * DRIFT_FRACTION * ((offsetMs - fault.startMs) / fault.durationMs) + resolution
        }
        if (fault.kind === 'spike' && !stuck) result = result * SPIKE_FACTOR + resolution * 100
      }
      return result
    },
    offlineAt(tsMs) {
      const fault = activeAt(tsMs - startMs).find((f) => f.kind === 'offline')
      return fault ? [startMs + fault.startMs, startMs + fault.startMs + fault.durationMs] : undefined
    },
    corruptNext() {
      return options.malformedRate > 0 && malformedPrng.next() < options.malformedRate
    },
  }
}

/** A payload the gateway must reject: truncated JSON, wrong shapes or non-numeric values. */
export function malformedPayload(prng: Prng, tsMs: number): string {
  const variants = [
    `{"ts":${tsMs},"values":{"temperature":`,
    `not json at ${tsMs}`,
    `{"ts":"yesterday","values":{"temperature":20}}`,
    `{"ts":${tsMs},"values":{"temperature":"hot"}}`,
    `["not a snapshot"]`,
  ]
  return variants[prng.int(variants.length)]!
}
