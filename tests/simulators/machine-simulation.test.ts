// A machine's readings are a pure function of seed, sensors and start: same seed, same readings.
import { describe, expect, it } from 'vitest'
import {
  createMachineSimulation,
  type MachineSimulationOptions,
  sensorSpecOf,
  type Tick,
} from '../../simulators/machine-simulation.ts'
import { demoSensor } from '../../simulators/provisioning.ts'

const START_MS = 1_700_000_000_000
const options = (extra: Partial<MachineSimulationOptions> = {}): MachineSimulationOptions => ({
  seed: 'plant',
  factoryKey: 'demo-1',
  machineKey: 'machine-01',
  sensors: [0, 1, 2, 3, 4].map((i) => sensorSpecOf(demoSensor(i))),
  startMs: START_MS,
  faults: [],
  randomFaultsPerHour: 0,
  malformedRate: 0,
  ...extra,
})
const ticks = (o: MachineSimulationOptions, count: number): Tick[] => {
  const simulation = createMachineSimulation(o)
  return Array.from({ length: count }, (_, n) => simulation.tick(n))
}

describe('createMachineSimulation', () => {
  it('produces identical readings for the same seed, including random faults and malformed messages', () => {
    const o = options({ randomFaultsPerHour: 20, malformedRate: 0.05 })
    const a = ticks(o, 600)
    expect(ticks(o, 600)).toEqual(a)
    expect(a.some((t) => typeof t.payload === 'string')).toBe(true)
  })

  it('produces different readings for another seed or another machine', () => {
    const a = ticks(options(), 30)
    expect(ticks(options({ seed: 'other' }), 30)).not.toEqual(a)
    expect(ticks(options({ machineKey: 'machine-02' }), 30)).not.toEqual(a)
  })

  it('ticks at the greatest common interval and includes each sensor at its own interval', () => {
    const simulation = createMachineSimulation(options())
    expect(simulation.tickMs).toBe(1000)
    const keys = Array.from({ length: 6 }, (_, n) => {
      const payload = simulation.tick(n).payload
      return typeof payload === 'object' ? Object.keys(payload.values) : []
    })
    expect(keys).toEqual([
      ['temperature', 'vibration', 'pressure', 'motor_current', 'parts'],
      ['temperature', 'vibration', 'motor_current'],
      ['temperature', 'vibration', 'pressure', 'motor_current'],
      ['temperature', 'vibration', 'motor_current'],
      ['temperature', 'vibration', 'pressure', 'motor_current'],
      ['temperature', 'vibration', 'motor_current', 'parts'],
    ])
  })

  it('stamps snapshots on the timeline', () => {
    const [first, second] = ticks(options(), 2)
    expect([first!.tsMs, second!.tsMs]).toEqual([START_MS, START_MS + 1000])
    expect(typeof first!.payload === 'object' && first!.payload.ts).toBe(START_MS)
  })

  it('leaves a dropped-out sensor out and marks offline ticks', () => {
    const o = options({
      faults: [
        { kind: 'dropout', startMs: 0, durationMs: 2_000, sensorKey: 'temperature' },
        { kind: 'offline', startMs: 3_000, durationMs: 2_000 },
      ],
    })
    const [t0, , , t3, , t5] = ticks(o, 6)
    expect(typeof t0!.payload === 'object' && 'temperature' in t0!.payload.values).toBe(false)
    expect(t3!.offline).toEqual([START_MS + 3_000, START_MS + 5_000])
    expect(t5!.offline).toBeUndefined()
  })
})
