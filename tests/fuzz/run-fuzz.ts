// `just fuzz`: a long MQTT fuzz run against a live service, with a probe device and memory figures.
import { connectDevice, provisionMachine, publish, startTestService } from '../helpers/service.ts'
import { runMqttFuzz } from './mqtt-fuzz.ts'

const frames = Number(process.env['FUZZ_FRAMES'] ?? 2_000_000)
const seed = Number(process.env['FUZZ_SEED'] ?? Date.now() % 1_000_000_000)

const svc = await startTestService({
  FACTORY_MQTT_ALLOW_ANONYMOUS: 'true',
  FACTORY_MQTT_CONNECT_RATE_PER_IP_PER_MIN: '0',
  FACTORY_LOG_LEVEL: 'warn',
})
const probe = await provisionMachine(svc.api, { machineKey: 'probe', sensors: [{ key: 'temp' }] })
const target = await provisionMachine(svc.api, {
  machineKey: 'target',
  autoRegisterSensors: true,
  sensors: [],
})
const client = await connectDevice(svc.mqttUrl, {
  clientId: probe.clientId,
  username: probe.username,
  password: probe.password,
})
// Probe timestamps count up one per ms from an hour ago, so a long run stays in the past.
const baseTs = Date.now() - 3_600_000
let probes = 0
let maxRssMb = 0
let fuzzing = true
const startedMs = Date.now()
process.stdout.write(`fuzzing ${frames} frames, seed ${seed}\n`)
// The probe publishes QoS 1 readings a few ms apart for as long as frames fly.
const probing = (async () => {
  while (fuzzing) {
    await publish(
      client,
      probe.telemetryTopic,
      JSON.stringify({ ts: baseTs + probes, values: { temp: probes } }),
    )
    probes++
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
})()
const result = await runMqttFuzz({
  port: svc.service.mqttPort,
  frames,
  seed,
  credentials: { username: target.username, password: target.password },
  progressEvery: 50_000,
  async onProgress(sent) {
    const rssMb = process.memoryUsage().rss / 1_048_576
    maxRssMb = Math.max(maxRssMb, rssMb)
    process.stdout.write(
      `\r${sent} frames, ${probes} probe readings acknowledged, rss ${rssMb.toFixed(0)} MB   `,
    )
  },
})
fuzzing = false
await probing
const count = await svc.api.get(`/api/v1/readings/count?machineId=${probe.machineId}`)
const refusals = (await svc.api.get('/metrics')).body
  .split('\n')
  .filter((line: string) => line.startsWith('factory_mqtt_refusals_total'))
process.stdout.write(
  `\n${JSON.stringify({ ...result, seconds: (Date.now() - startedMs) / 1000, probes, stored: count.body.count, maxRssMb: Math.round(maxRssMb) })}\n${refusals.join('\n')}\n`,
)
await client.endAsync()
await svc.cleanup()
if (count.body.count !== probes) {
  process.stderr.write('probe readings missing\n')
  process.exit(1)
}
