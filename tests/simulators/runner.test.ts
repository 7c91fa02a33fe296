// End to end against the real service: provision a demo factory, run the machines over MQTT, and find
// exactly the simulated readings (and one reject per malformed message) through the API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CredentialsFile } from '../../simulators/credentials-file.ts'
import { createMachineSimulation, sensorSpecOf } from '../../simulators/machine-simulation.ts'
import { createApiClient, provisionDemo } from '../../simulators/provisioning.ts'
import { runSimulation } from '../../simulators/runner.ts'
import { startTestService, type TestService } from '../helpers/service.ts'

let service: TestService
let file: CredentialsFile
const TICKS = 12
const START_MS = Date.now() - 60_000

beforeAll(async () => {
  service = await startTestService({
    FACTORY_MQTT_PUBLISH_RATE_PER_S: '0',
    FACTORY_HTTP_RATE_LIMIT_PER_MIN: '0',
  })
  const baseUrl = `http://127.0.0.1:${service.service.httpPort}`
  file = await provisionDemo({
    api: createApiClient({ baseUrl, token: service.adminToken }),
    apiUrl: baseUrl,
    mqttUrl: service.mqttUrl,
    factories: 2,
    machinesPerFactory: 2,
    sensorsPerMachine: 5,
    factoryPrefix: 'demo',
  })
}, 60_000)

afterAll(async () => {
  await service?.cleanup()
})

describe('provisionDemo', () => {
  it('creates factories, machines, sensors and credentials, and reuses them on a second run', async () => {
    expect(file.devices.map((d) => `${d.factoryKey}/${d.machineKey}`)).toEqual([
      'demo-1/machine-01',
      'demo-1/machine-02',
      'demo-2/machine-01',
      'demo-2/machine-02',
    ])
    expect(file.devices[0]!.sensors.map((s) => [s.key, s.profile, s.expectedIntervalMs])).toEqual([
      ['temperature', 'temperature', 1000],
      ['vibration', 'vibration', 1000],
      ['pressure', 'pressure', 2000],
      ['motor_current', 'current', 1000],
      ['parts', 'counter', 5000],
    ])
    const again = await provisionDemo({
      api: createApiClient({ baseUrl: file.apiUrl!, token: service.adminToken }),
      apiUrl: file.apiUrl!,
      mqttUrl: service.mqttUrl,
      factories: 1,
      machinesPerFactory: 1,
      sensorsPerMachine: 5,
      factoryPrefix: 'demo',
    })
    expect(again.devices[0]!.machineId).toBe(file.devices[0]!.machineId)
    expect(again.devices[0]!.sensors.map((s) => s.id)).toEqual(file.devices[0]!.sensors.map((s) => s.id))
    // Rotation: the first run's password for this machine is no longer valid; use the new one below.
    file.devices[0] = again.devices[0]!
  })
})

describe('runSimulation', () => {
  it('stores exactly the readings the seeded simulation produces, with each machine on its own login', async () => {
    const simulation = await runSimulation({
      mqttUrl: service.mqttUrl,
      devices: file.devices,
      qos: 1,
      seed: 'e2e',
      startMs: START_MS,
      faults: [
        {
          kind: 'dropout',
          startMs: 3000,
          durationMs: 2000,
          machineKey: 'machine-02',
          sensorKey: 'vibration',
        },
      ],
      randomFaultsPerHour: 0,
      malformedRate: 0,
      durationMs: 0,
      maxTicks: TICKS,
      unpaced: true,
    })
    await simulation.done
    expect(simulation.summary.counters).toEqual({
      published: TICKS * file.devices.length,
      acknowledged: TICKS * file.devices.length,
      errors: 0,
      rejectedPayloads: 0,
    })
    for (const device of file.devices) {
      const expected = createMachineSimulation({
        seed: 'e2e',
        factoryKey: device.factoryKey,
        machineKey: device.machineKey,
        sensors: device.sensors.map((s) => sensorSpecOf(s)),
        startMs: START_MS,
        faults: [
          {
            kind: 'dropout',
            startMs: 3000,
            durationMs: 2000,
            machineKey: 'machine-02',
            sensorKey: 'vibration',
          },
        ],
        randomFaultsPerHour: 0,
        malformedRate: 0,
      })
      const bySensor = new Map<string, { tsMs: number; value: number }[]>()
      for (let n = 0; n < TICKS; n++) {
        const payload = expected.tick(n).payload
        if (typeof payload !== 'object') continue
        for (const [key, value] of Object.entries(payload.values)) {
          bySensor.set(key, [...(bySensor.get(key) ?? []), { tsMs: payload.ts, value }])
        }
      }
      for (const sensor of device.sensors) {
        const res = await service.api.get(
          `/api/v1/sensors/${sensor.id}/readings?from=${START_MS}&to=${START_MS + TICKS * 1000}&limit=1000`,
        )
        expect(res.body.readings, `${device.factoryKey}/${device.machineKey}/${sensor.key}`).toEqual(
          bySensor.get(sensor.key) ?? [],
        )
      }
    }
  })

  it('stores one reject per malformed message', async () => {
    const device = file.devices[1]!
    const simulation = await runSimulation({
      mqttUrl: service.mqttUrl,
      devices: [device],
      qos: 1,
      seed: 'malformed',
      startMs: START_MS + 100_000,
      faults: [],
      randomFaultsPerHour: 0,
      malformedRate: 0.5,
      durationMs: 0,
      maxTicks: 20,
      unpaced: true,
    })
    await simulation.done
    const { rejectedPayloads, acknowledged } = simulation.summary.counters
    expect(rejectedPayloads).toBeGreaterThan(0)
    expect(acknowledged).toBe(20)
    const res = await service.api.get(`/api/v1/rejects?machineId=${device.machineId}&limit=1000`)
    expect(res.body.rejects.length).toBe(rejectedPayloads)
  })
})
