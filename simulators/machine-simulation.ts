// The readings of one simulated machine, tick by tick: profiles plus faults, a pure function of the
// seed, the sensors and the start time (no clock, no network), so the same seed gives the same readings.
import type { CredentialSensor } from './credentials-file.ts'
import { createMachineFaults, type Fault, malformedPayload } from './faults.ts'
import { createPrng } from './prng.ts'
import {
  createProfile,
  type DutyCycle,
  inferProfile,
  type Profile,
  roundToResolution,
  type SensorSpec,
} from './profiles.ts'

export interface Snapshot {
  ts: number
  values: Record<string, number>
}

export interface Tick {
  tsMs: number
  /** What to publish: a snapshot, or a malformed payload string. Undefined when every due sensor dropped out. */
  payload: Snapshot | string | undefined
  /** Set when the machine is offline at this tick: [startTsMs, endTsMs). */
  offline?: [number, number]
}

export interface MachineSimulationOptions {
  seed: number | string
  /** With the machine key, names the machine's random streams (machine keys repeat across factories). */
  factoryKey?: string
  machineKey: string
  sensors: SensorSpec[]
  startMs: number
  faults: Fault[]
  randomFaultsPerHour: number
  malformedRate: number
}

export interface MachineSimulation {
  readonly tickMs: number
  /** The tick with index `n` (ts = startMs + n * tickMs); ticks must be taken in order. */
  tick(n: number): Tick
}

const DEFAULT_RESOLUTION = 0.01
const DEFAULT_INTERVAL_MS = 1000

/** Turns a credentials-file sensor into a profile spec, filling in what the file leaves out. */
export function sensorSpecOf(sensor: CredentialSensor, intervalOverrideMs?: number): SensorSpec {
  return {
    key: sensor.key,
    profile: sensor.profile ?? inferProfile(sensor),
    resolution: sensor.resolution ?? DEFAULT_RESOLUTION,
    intervalMs: intervalOverrideMs ?? sensor.expectedIntervalMs ?? DEFAULT_INTERVAL_MS,
    minValue: sensor.minValue ?? null,
    maxValue: sensor.maxValue ?? null,
  }
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b)
}

export function createMachineSimulation(options: MachineSimulationOptions): MachineSimulation {
  const prng = createPrng(options.seed).fork(`machine/${options.factoryKey ?? ''}/${options.machineKey}`)
  const dutyPrng = prng.fork('duty')
  const duty: DutyCycle = {
    periodMs: 120_000 + dutyPrng.int(240_000),
    dutyRatio: 0.5 + dutyPrng.next() * 0.4,
    phaseMs: dutyPrng.int(600_000),
  }
  const profiles = new Map<string, Profile>(
    options.sensors.map((s) => [s.key, createProfile(s, prng.fork(`sensor/${s.key}`), duty)]),
  )
  const faults = createMachineFaults({
    machineKey: options.machineKey,
    sensorKeys: options.sensors.map((s) => s.key),
    startMs: options.startMs,
    schedule: options.faults,
    randomPerHour: options.randomFaultsPerHour,
    malformedRate: options.malformedRate,
    prng: prng.fork('faults'),
  })
  const malformedPrng = prng.fork('malformed-payload')
  const tickMs = options.sensors.map((s) => Math.max(1, Math.round(s.intervalMs))).reduce(gcd)

  return {
    tickMs,
    tick(n) {
      const tsMs = options.startMs + n * tickMs
      const elapsedMs = n * tickMs
      const values: Record<string, number> = {}
      let due = 0
      for (const sensor of options.sensors) {
        if (elapsedMs % Math.round(sensor.intervalMs) !== 0) continue
        due++
        const raw = profiles.get(sensor.key)!.valueAt(tsMs)
        const faulted = faults.apply(sensor.key, tsMs, raw, sensor.resolution)
        if (faulted !== undefined) values[sensor.key] = roundToResolution(faulted, sensor.resolution)
      }
      const offline = faults.offlineAt(tsMs)
      const tick: Tick = { tsMs, payload: undefined }
      if (offline) tick.offline = offline
      if (due === 0) return tick
      // Draw the malformed decision for every due tick so it does not depend on dropouts.
      const corrupt = faults.corruptNext()
      if (corrupt) tick.payload = malformedPayload(malformedPrng, tsMs)
      else if (Object.keys(values).length > 0) tick.payload = { ts: tsMs, values }
      return tick
    },
  }
}
