// Flood isolation: PUBACK latency of well-behaved devices at rated load, alone and while one device floods
// (by default at twice the whole rated load). Prints a Markdown table for docs/benchmarks.md ("Hardening").
import { monitorEventLoopDelay } from 'node:perf_hooks'
import mqtt, { type MqttClient } from 'mqtt'
import { type ProvisionedMachine, provisionMachine, startTestService } from '../helpers/service.ts'

const DEVICES = Number(process.env['BENCH_DEVICES'] ?? 100)
const MSG_PER_S = Number(process.env['BENCH_MSG_PER_S'] ?? 10)
const READINGS_PER_MSG = 10
const PHASE_MS = Number(process.env['BENCH_PHASE_MS'] ?? 5_000)
// Alone and flooded phases alternate this many times, so both see the same background load on a shared box.
const CYCLES = Number(process.env['BENCH_CYCLES'] ?? 4)
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

interface Phase {
  latenciesMs: number[]
  failed: number
}
const alone: Phase = { latenciesMs: [], failed: 0 }
const withFlood: Phase = { latenciesMs: [], failed: 0 }
const flooded = { acked: 0, disconnects: 0 }
const add = (into: Phase, r: Phase) => {
  for (const ms of r.latenciesMs) into.latenciesMs.push(ms)
  into.failed += r.failed
}
const p99s: string[] = []
// The broker shares this thread: its event-loop delay separates broker-thread stalls from slow commits.
const loopDelay = monitorEventLoopDelay({ resolution: 1 })
const loopP99Ms = () => {
  const ms = loopDelay.percentile(99) / 1e6
  loopDelay.reset()
  return ms.toFixed(1)
}
const loopP99s: string[] = []
loopDelay.enable()
for (let cycle = 0; cycle < CYCLES; cycle++) {
  loopDelay.reset()
  const a = await wellBehaved()
  const loopAlone = loopP99Ms()
  const flooding = flood()
  const f = await wellBehaved()
  loopP99s.push(`${loopAlone} → ${loopP99Ms()}`)
  const stopped = await flooding.stop()
  add(alone, a)
  add(withFlood, f)
  flooded.acked += stopped.acked
  flooded.disconnects += stopped.disconnects
  p99s.push(`${pct(a.latenciesMs, 99).toFixed(1)} → ${pct(f.latenciesMs, 99).toFixed(1)}`)
}
const totalS = (CYCLES * PHASE_MS) / 1000
const row = (name: string, r: Phase) =>
  `| ${name} | ${(r.latenciesMs.length / totalS).toFixed(0)} | ${pct(r.latenciesMs, 50).toFixed(1)} | ${pct(r.latenciesMs, 99).toFixed(1)} | ${r.failed} |`
process.stdout.write(
  [
    `${DEVICES} devices × ${MSG_PER_S} msg/s × ${READINGS_PER_MSG} readings (rated: ${RATED_MSG_PER_S} msg/s); flooder at ${FLOOD_MSG_PER_S} msg/s; ${CYCLES} × (${PHASE_MS / 1000} s alone, ${PHASE_MS / 1000} s with the flood)`,
    '',
    '| phase | well-behaved msg/s acknowledged | PUBACK p50 ms | PUBACK p99 ms | failed |',
    '|---|---|---|---|---|',
    row('rated load alone', alone),
    row(`rated load + one device flooding at ${FLOOD_MSG_PER_S} msg/s`, withFlood),
    `PUBACK p99 ms per cycle, alone → with flood: ${p99s.join(', ')}`,
    `event-loop delay p99 ms per cycle, alone → with flood: ${loopP99s.join(', ')}`,
    '',
    `flooder: ${(flooded.acked / totalS).toFixed(0)} msg/s acknowledged, ${flooded.disconnects} disconnects`,
    `throttled: ${await metric('factory_mqtt_throttled_total')}`,
    `refusals: ${await metric('factory_mqtt_refusals_total')}`,
    '',
  ].join('\n'),
)
await Promise.all(clients.map((c) => c.endAsync()))
await svc.cleanup()
