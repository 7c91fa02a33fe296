// 100,000 hostile MQTT frames over real TCP: the broker stays up, a probe device keeps publishing, memory stays bounded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  connectDevice,
  type ProvisionedMachine,
  provisionMachine,
  publish,
  startTestService,
  type TestService,
} from '../helpers/service.ts'
import { runMqttFuzz } from './mqtt-fuzz.ts'

const FRAMES = 100_000
const SEED = Number(process.env['FUZZ_SEED'] ?? 20_240_601)
const PROGRESS_EVERY = 5000
const PROBE_GAP_MS = 2

let svc: TestService
let probe: ProvisionedMachine
let target: ProvisionedMachine

beforeAll(async () => {
  svc = await startTestService({
    FACTORY_MQTT_ALLOW_ANONYMOUS: 'true',
    // The fuzzer opens thousands of connections from one address; the per-address limit is tested elsewhere.
    FACTORY_MQTT_CONNECT_RATE_PER_IP_PER_MIN: '0',
    FACTORY_LOG_LEVEL: 'warn',
  })
  probe = await provisionMachine(svc.api, { machineKey: 'probe', sensors: [{ key: 'temp' }] })
  target = await provisionMachine(svc.api, { machineKey: 'target', autoRegisterSensors: true, sensors: [] })
})
afterAll(async () => {
  await svc?.cleanup()
})

describe('MQTT fuzzing', () => {
  it(`survives ${FRAMES} random and mutated frames while a probe device keeps publishing`, async () => {
    const client = await connectDevice(svc.mqttUrl, {
      clientId: probe.clientId,
      username: probe.username,
      password: probe.password,
    })
    const baseTs = Date.now() - 60_000
    let probes = 0
    // Probe readings acknowledged in each round of PROGRESS_EVERY frames: every round must have some.
    const ackedPerRound = [0]
    let fuzzing = true
    // The probe publishes QoS 1 readings back to back (a few ms apart) for as long as frames fly.
    const probing = (async () => {
      while (fuzzing) {
        await publish(
          client,
          probe.telemetryTopic,
          JSON.stringify({ ts: baseTs + probes, values: { temp: probes } }),
        )
        probes++
        ackedPerRound[ackedPerRound.length - 1]!++
        await new Promise((resolve) => setTimeout(resolve, PROBE_GAP_MS))
      }
    })()
    const heapBefore = process.memoryUsage().heapUsed
    const result = await runMqttFuzz({
      port: svc.service.mqttPort,
      frames: FRAMES,
      seed: SEED,
      credentials: { username: target.username, password: target.password },
      progressEvery: PROGRESS_EVERY,
      async onProgress() {
        ackedPerRound.push(0)
      },
    })
    fuzzing = false
    await probing
    // The last entry counts readings after the final round, when no more frames were sent.
    const rounds = ackedPerRound.slice(0, -1)
    expect(rounds.length).toBeGreaterThanOrEqual(10)
    expect(rounds.filter((n) => n === 0)).toEqual([])
    expect(result.framesSent).toBeGreaterThanOrEqual(FRAMES)
    const count = await svc.api.get(`/api/v1/readings/count?machineId=${probe.machineId}`)
    expect(count.body).toEqual({ count: probes })
    // Every fuzz session goes away (the broker notices closes asynchronously): only the probe is left.
    while (svc.service.broker.connectedClients() > 1) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(svc.service.broker.connectedClients()).toBe(1)
    const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 1_048_576
    expect(heapGrowthMb).toBeLessThan(256)
    console.log(
      { ...result, probes },
      (await svc.api.get('/metrics')).body
        .split('\n')
        .filter((l: string) => l.startsWith('factory_mqtt_refusals_total'))
        .join('\n'),
    )
    const health = await svc.api.get('/health')
    expect(health.body.status).toBe('ok')
    await client.endAsync()
  }, 120_000)
})
