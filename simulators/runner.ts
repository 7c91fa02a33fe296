// Runs every machine as its own MQTT device on wall-clock ticks: takes each tick from the machine's
// simulation, publishes it, handles offline windows (drop the socket, reconnect after) and counts.
import type { CredentialDevice } from './credentials-file.ts'
import { createDevice, type Device } from './device.ts'
import type { Fault } from './faults.ts'
import { createMachineSimulation, type MachineSimulation, sensorSpecOf } from './machine-simulation.ts'
import { createSummary, type Summary } from './summary.ts'

export interface RunOptions {
  mqttUrl: string
  devices: CredentialDevice[]
  qos: 0 | 1
  seed: string
  /** Timeline start (epoch ms) of every machine. */
  startMs: number
  intervalMs?: number
  faults: Fault[]
  randomFaultsPerHour: number
  malformedRate: number
  /** Stop after this long (0 = until stop()). */
  durationMs: number
  /** Stop each machine after this many ticks (used by tests for an exact amount of data). */
  maxTicks?: number
  /** Ticks run as fast as acknowledgements allow instead of on the wall clock (tests, backfills). */
  unpaced?: boolean
}

export interface Simulation {
  readonly summary: Summary
  readonly devices: Device[]
  machinesOnline(): number
  /** Resolves when every machine has stopped and every publish settled. */
  readonly done: Promise<void>
  stop(): Promise<void>
}

export async function runSimulation(options: RunOptions): Promise<Simulation> {
  const wallStartMs = Date.now()
  const summary = createSummary(wallStartMs)
  const { counters } = summary
  let stopping = false
  // Pending tick timers and what each would run, so stop() can run them at once.
  const timers = new Map<NodeJS.Timeout, () => void>()
  const inFlight = new Set<Promise<void>>()

  const machines = options.devices.map((credentials) => {
    const sensors = credentials.sensors.map((s) => sensorSpecOf(s, options.intervalMs))
    const simulation: MachineSimulation = createMachineSimulation({
      seed: options.seed,
      factoryKey: credentials.factoryKey,
      machineKey: credentials.machineKey,
      sensors,
      startMs: options.startMs,
      faults: options.faults,
      randomFaultsPerHour: options.randomFaultsPerHour,
      malformedRate: options.malformedRate,
    })
    const device = createDevice({ mqttUrl: options.mqttUrl, device: credentials, qos: options.qos })
    return { credentials, simulation, device }
  })
  await Promise.all(machines.map((m) => m.device.connect()))

  const track = (promise: Promise<void>) => {
    inFlight.add(promise)
    void promise.finally(() => inFlight.delete(promise))
  }

  const runMachine = (machine: (typeof machines)[number]) =>
    new Promise<void>((resolveMachine) => {
      let n = 0
      let reconnecting: Promise<void> | undefined
      const step = async () => {
        if (stopping || (options.maxTicks !== undefined && n >= options.maxTicks)) return resolveMachine()
        const tick = machine.simulation.tick(n)
        n++
        if (tick.offline) {
          if (machine.device.isConnected()) machine.device.goOffline()
        } else if (!machine.device.isConnected()) {
          reconnecting ??= machine.device.connect().finally(() => {
            reconnecting = undefined
          })
          await reconnecting.catch(() => {
            counters.errors++
          })
        }
        if (tick.payload !== undefined && machine.device.isConnected()) {
          const text = typeof tick.payload === 'string' ? tick.payload : JSON.stringify(tick.payload)
          if (typeof tick.payload === 'string') counters.rejectedPayloads++
          counters.published++
          const publish = machine.device.publish(text).then(
            () => {
              if (options.qos === 1) counters.acknowledged++
            },
            () => {
              counters.errors++
            },
          )
          track(publish)
          if (options.unpaced) await publish
        }
        schedule()
      }
      const schedule = () => {
        const dueMs = wallStartMs + n * machine.simulation.tickMs
        const delayMs = options.unpaced ? 0 : Math.max(0, dueMs - Date.now())
        const run = () => {
          timers.delete(timer)
          void step()
        }
        const timer = setTimeout(run, delayMs)
        timers.set(timer, run)
      }
      void step()
    })

  const stopTimer =
    options.durationMs > 0
      ? setTimeout(() => {
          void simulation.stop()
        }, options.durationMs)
      : undefined

  const finished = Promise.all(machines.map(runMachine)).then(async () => {
    if (stopTimer) clearTimeout(stopTimer)
    await Promise.allSettled([...inFlight])
    await Promise.allSettled(machines.map((m) => m.device.close()))
  })

  const simulation: Simulation = {
    summary,
    devices: machines.map((m) => m.device),
    machinesOnline: () => machines.filter((m) => m.device.isConnected()).length,
    done: finished,
    async stop() {
      stopping = true
      // Run pending steps now: each sees `stopping` and ends its machine.
      for (const [timer, run] of [...timers]) {
        clearTimeout(timer)
        run()
      }
      await finished
    },
  }
  return simulation
}
