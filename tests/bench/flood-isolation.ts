// Flood isolation: PUBACK latency of well-behaved devices at rated load, alone and while one device floods
// at twice the whole rated load. Prints a Markdown table for docs/benchmarks.md ("Hardening").
import mqtt, { type MqttClient } from 'mqtt'
import { type ProvisionedMachine, provisionMachine, startTestService } from '../helpers/service.ts'

const DEVICES = Number(process.env['BENCH_DEVICES'] ?? 100)
const MSG_PER_S = Number(process.env['BENCH_MSG_PER_S'] ?? 10)
const READINGS_PER_MSG = 10
const PHASE_MS = Number(process.env['BENCH_PHASE_MS'] ?? 10_000)
const RATED_MSG_PER_S = DEVICES * MSG_PER_S
const FLOOD_MSG_PER_S = Number(process.env['BENCH_FLOOD_MSG_PER_S'] ?? 2 * RATED_MSG_PER_S)

const svc = await startTestService({ FACTORY_LOG_LEVEL: 'warn', FACTORY_HTTP_RATE_LIMIT_PER_MIN: '0' })
const sensors = Array.from({ length: READINGS_PER_MSG }, (_, i) => ({ key: `s${i}` }))
const machines: ProvisionedMachine[] = []
for (let i = 0; i < DEVICES; i++)
  machines.push(await provisionMachine(svc.api, { machineKey: `d${i}`, sensors }))
const flooder = await provisionMachine(svc.api, { machineKey: 'flooder', sensors })
const connect = (m: ProvisionedMachine): Promise<MqttClient | null> =>
  new Promise((resolve) => {
    const c = mqtt.connect(svc.mqttUrl, {
      clientId: m.clientId,
      username: m.username,
      password: m.password,
      reconnectPeriod: 0,
      connectTimeout: 30_000,
    })
    // Refusals and drops are expected for the flooder; they end this attempt, never the process.
    c.on('error', () => {})
    c.once('connect', () => resolve(c))
    c.once('close', () => resolve(null))
  })
const clients = (await Promise.all(machines.map(connect))) as MqttClient[]
if (clients.some((c) => c === null)) throw new Error('a well-behaved device could not connect')
let ts = Date.now() - 3_600_000
const payload = () =>
  JSON.stringify({ ts: ts++, values: Object.fromEntries(sensors.map((s, i) => [s.key, i])) })

/** Every device publishes QoS 1 at MSG_PER_S for PHASE_MS; returns PUBACK latencies and failures. */
async function wellBehaved(): Promise<{ latenciesMs: number[]; failed: number }> {
  const latenciesMs: number[] = []
  let failed = 0
  const endMs = Date.now() + PHASE_MS
  await Promise.all(
    clients.map(async (c: MqttClient, i) => {
      const m = machines[i]!
      let next = Date.now() + Math.random() * (1000 / MSG_PER_S)
      const inFlight: Promise<void>[] = []
      while (next < endMs) {
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())))
        const sentMs = performance.now()
        inFlight.push(
          c.publishAsync(m.telemetryTopic, payload(), { qos: 1 }).then(
            () => {
              latenciesMs.push(performance.now() - sentMs)
            },
            () => {
              failed++
            },
          ),
        )
        next += 1000 / MSG_PER_S
      }
      await Promise.all(inFlight)
    }),
  )
  return { latenciesMs, failed }
}

/** One device sending FLOOD_MSG_PER_S with 256 messages in flight, reconnecting whenever it is dropped. */
function flood(): { stop(): Promise<{ acked: number; disconnects: number }> } {
  let stopped = false
  let acked = 0
  let disconnects = 0
  const run = (async () => {
    while (!stopped) {
      const c = await connect(flooder)
      if (!c) continue
      const closed = new Promise<void>((resolve) => c.once('close', () => resolve()))
      let open = true
      void closed.then(() => {
        open = false
        disconnects++
      })
      const gapMs = 1000 / FLOOD_MSG_PER_S
      let next = Date.now()
      let inFlight = 0
      while (!stopped && open) {
        if (inFlight >= 256 || Date.now() < next) {
          await new Promise((resolve) => setTimeout(resolve, 1))
          continue
        }
        inFlight++
        c.publish(flooder.telemetryTopic, payload(), { qos: 1 }, (error) => {
          inFlight--
          if (!error) acked++
        })
        next += gapMs
      }
      c.end(true)
    }
  })()
  return {
    async stop() {
      stopped = true
      await run
      return { acked, disconnects }
    },
  }
}

const pct = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN
}
const metric = async (name: string) => {
  const body: string = (await svc.api.get('/metrics')).body
  return [...body.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\d+)`, 'gm'))]
    .map((m) => `${m[1] ?? ''} ${m[2]}`)
    .join(', ')
}

const alone = await wellBehaved()
const flooding = flood()
const withFlood = await wellBehaved()
const flooded = await flooding.stop()
const row = (name: string, r: { latenciesMs: number[]; failed: number }) =>
  `| ${name} | ${(r.latenciesMs.length / (PHASE_MS / 1000)).toFixed(0)} | ${pct(r.latenciesMs, 50).toFixed(1)} | ${pct(r.latenciesMs, 99).toFixed(1)} | ${r.failed} |`
process.stdout.write(
  [
    `${DEVICES} devices × ${MSG_PER_S} msg/s × ${READINGS_PER_MSG} readings (rated: ${RATED_MSG_PER_S} msg/s); flooder at ${FLOOD_MSG_PER_S} msg/s; ${PHASE_MS / 1000} s per phase`,
    '',
    '| phase | well-behaved msg/s acknowledged | PUBACK p50 ms | PUBACK p99 ms | failed |',
    '|---|---|---|---|---|',
    row('rated load alone', alone),
    row(`rated load + one device flooding at ${FLOOD_MSG_PER_S} msg/s`, withFlood),
    '',
    `flooder: ${(flooded.acked / (PHASE_MS / 1000)).toFixed(0)} msg/s acknowledged, ${flooded.disconnects} disconnects`,
    `throttled: ${await metric('factory_mqtt_throttled_total')}`,
    `refusals: ${await metric('factory_mqtt_refusals_total')}`,
    '',
  ].join('\n'),
)
await Promise.all(clients.map((c) => c.endAsync()))
await svc.cleanup()
