// Flood isolation: PUBACK latency of well-behaved devices at rated load, alone and while one device floods
// (by default at twice the whole rated load). The server runs as its own process; the well-behaved devices
// publish from this one (MQTT.js); the flooder is `factory_cli flood` in a third, as they would be separate
// machines on a plant network. Prints a Markdown table for docs/benchmarks.md ("Hardening").
import { execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import mqtt, { type MqttClient } from 'mqtt'
import { createApiClient, type ProvisionedMachine, provisionMachine } from '../helpers/service.ts'
import { procStat, root, startServerProcess } from './server-process.ts'

const cli = process.env['FACTORY_CLI_BIN'] ?? path.join(root, 'target/release/factory_cli')
const DEVICES = Number(process.env['BENCH_DEVICES'] ?? 100)
const MSG_PER_S = Number(process.env['BENCH_MSG_PER_S'] ?? 10)
const READINGS_PER_MSG = 10
const PHASE_MS = Number(process.env['BENCH_PHASE_MS'] ?? 5_000)
// Alone and flooded phases alternate this many times, so both see the same background load on a shared box.
const CYCLES = Number(process.env['BENCH_CYCLES'] ?? 4)
const RATED_MSG_PER_S = DEVICES * MSG_PER_S
const FLOOD_MSG_PER_S = Number(process.env['BENCH_FLOOD_MSG_PER_S'] ?? 2 * RATED_MSG_PER_S)

if (!existsSync(cli))
  execFileSync('cargo', ['build', '--release', '-p', 'factory_cli'], { cwd: root, stdio: 'inherit' })
const server = await startServerProcess({ FACTORY_HTTP_RATE_LIMIT_PER_MIN: '0' })
const api = createApiClient(server.apiUrl, server.adminToken())
const sensors = Array.from({ length: READINGS_PER_MSG }, (_, i) => ({ key: `s${i}` }))
const machines: ProvisionedMachine[] = []
for (let i = 0; i < DEVICES; i++) machines.push(await provisionMachine(api, { machineKey: `d${i}`, sensors }))
const flooder = await provisionMachine(api, { machineKey: 'flooder', sensors })
const connect = (m: ProvisionedMachine): Promise<MqttClient | null> =>
  new Promise((resolve) => {
    const c = mqtt.connect(server.mqttUrl, {
      clientId: m.clientId,
      username: m.username,
      password: m.password,
      reconnectPeriod: 0,
      connectTimeout: 30_000,
    })
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
async function wellBehaved(): Promise<Phase> {
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

/** One device sending FLOOD_MSG_PER_S with 256 messages in flight, from factory_cli, until stopped. */
function flood(cycle: number): { stop(): Promise<void> } {
  const child = spawn(
    cli,
    [
      'flood',
      '--mqtt-url',
      server.mqttUrl,
      '--username',
      flooder.username,
      '--password',
      flooder.password,
      '--topic',
      flooder.telemetryTopic,
      '--sensors',
      String(READINGS_PER_MSG),
      '--rate',
      String(FLOOD_MSG_PER_S),
      '--inflight',
      '256',
      // Longer than the phase: the flood is stopped when the phase ends, whatever the throttle let through.
      '--duration-s',
      String((10 * PHASE_MS) / 1000),
      // Each cycle's flood gets timestamps of its own, so none of it is a duplicate of an earlier cycle.
      '--ts-start-ms',
      String(Date.now() - 7_200_000 + cycle * 1_000_000),
      '--no-verify',
      '--quiet',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  )
  const exited = new Promise((resolve) => child.once('exit', resolve))
  return {
    async stop() {
      child.kill('SIGKILL')
      await exited
    },
  }
}

const pct = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN
}
const metric = async (name: string) => {
  const body: string = (await api.get('/metrics')).body
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
const add = (into: Phase, r: Phase) => {
  for (const ms of r.latenciesMs) into.latenciesMs.push(ms)
  into.failed += r.failed
}
const p99s: string[] = []
// The server's CPU per phase (percent of one core) tells a saturated server from a stalled one.
const cpuPcts: string[] = []
const serverCpu = () => {
  const before = procStat(server.child.pid!).cpuS
  const startMs = performance.now()
  return () => ((procStat(server.child.pid!).cpuS - before) / ((performance.now() - startMs) / 1000)) * 100
}
let peakRssMb = 0
const rssSampler = setInterval(() => {
  peakRssMb = Math.max(peakRssMb, procStat(server.child.pid!).rssMb)
}, 250)
try {
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const cpuAlone = serverCpu()
    const a = await wellBehaved()
    const aloneCpu = cpuAlone()
    const cpuFlood = serverCpu()
    const flooding = flood(cycle)
    const f = await wellBehaved()
    await flooding.stop()
    cpuPcts.push(`${aloneCpu.toFixed(0)}% → ${cpuFlood().toFixed(0)}%`)
    add(alone, a)
    add(withFlood, f)
    p99s.push(`${pct(a.latenciesMs, 99).toFixed(1)} → ${pct(f.latenciesMs, 99).toFixed(1)}`)
  }
  const totalS = (CYCLES * PHASE_MS) / 1000
  const row = (name: string, r: Phase) =>
    `| ${name} | ${(r.latenciesMs.length / totalS).toFixed(0)} | ${pct(r.latenciesMs, 50).toFixed(1)} | ${pct(r.latenciesMs, 99).toFixed(1)} | ${r.failed} |`
  // One s0 reading per flooder message: its stored count is the number of flooder messages committed.
  const floodedMsgs = (await api.get(`/api/v1/readings/count?sensorId=${flooder.sensors['s0']}`)).body.count
  process.stdout.write(
    [
      `${DEVICES} devices × ${MSG_PER_S} msg/s × ${READINGS_PER_MSG} readings (rated: ${RATED_MSG_PER_S} msg/s); flooder at ${FLOOD_MSG_PER_S} msg/s; ${CYCLES} × (${PHASE_MS / 1000} s alone, ${PHASE_MS / 1000} s with the flood)`,
      '',
      '| phase | well-behaved msg/s acknowledged | PUBACK p50 ms | PUBACK p99 ms | failed |',
      '|---|---|---|---|---|',
      row('rated load alone', alone),
      row(`rated load + one device flooding at ${FLOOD_MSG_PER_S} msg/s`, withFlood),
      `PUBACK p99 ms per cycle, alone → with flood: ${p99s.join(', ')}`,
      `server CPU per cycle (% of one core), alone → with flood: ${cpuPcts.join(', ')}; peak RSS ${peakRssMb.toFixed(0)} MB`,
      '',
      `flooder: ${floodedMsgs} messages committed, ${(floodedMsgs / totalS).toFixed(0)} msg/s over the flood phases`,
      `throttled: ${await metric('factory_mqtt_throttled_total')}`,
      `refusals: ${await metric('factory_mqtt_refusals_total')}`,
      '',
    ].join('\n'),
  )
  await Promise.all(clients.map((c) => c.endAsync()))
} finally {
  clearInterval(rssSampler)
  await server.stop()
}
