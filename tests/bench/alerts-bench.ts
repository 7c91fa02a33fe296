// Alert evaluation under ingest load: throughput without rules vs with 10,000 rules (same run), and the
// latency from a reading's commit (its PUBACK) to the alert arriving on the SSE stream. The alert row is
// written in the reading's own transaction, so it is active at commit; what is measured is the delivery.
// Run: node --import tsx tests/bench/alerts-bench.ts [--machines 100] [--sensors 100] [--seconds 10]
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import mqtt, { type MqttClient } from 'mqtt'

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : fallback
}
const MACHINES = arg('machines', 100)
const SENSORS = arg('sensors', 100)
const SECONDS = arg('seconds', 10)
const WINDOW = 8 // QoS 1 publishes in flight per device
const PROBES = 200

const root = path.resolve(import.meta.dirname, '../..')
const dataDir = mkdtempSync(path.join(tmpdir(), 'fm-alerts-bench-'))

async function startGateway() {
  const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      FACTORY_DATA_DIR: dataDir,
      FACTORY_HTTP_PORT: '0',
      FACTORY_MQTT_PORT: '0',
      FACTORY_HTTP_HOST: '127.0.0.1',
      FACTORY_MQTT_HOST: '127.0.0.1',
      FACTORY_HTTP_RATE_LIMIT_PER_MIN: '0',
      FACTORY_MQTT_PUBLISH_RATE_PER_S: '0',
      FACTORY_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const ports = await new Promise<{ http: number; mqtt: number }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)))
    const lines = createInterface({ input: child.stdout! })
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line)
        if (entry.msg === 'factory-monitor started') resolve({ http: entry.http, mqtt: entry.mqtt })
      } catch {
        // not a log line
      }
    })
  })
  return { child, ...ports }
}

async function main() {
  const gw = await startGateway()
  const token = readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim()
  const base = `http://127.0.0.1:${gw.http}`
  const api = async (method: string, url: string, body?: unknown): Promise<any> => {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const json = await res.json()
    if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(json)}`)
    return json
  }
  const inParallel = async <T>(items: T[], width: number, fn: (item: T) => Promise<void>) => {
    let next = 0
    await Promise.all(
      Array.from({ length: width }, async () => {
        while (next < items.length) await fn(items[next++]!)
      }),
    )
  }

  process.stderr.write(`provisioning ${MACHINES} machines × ${SENSORS} sensors…\n`)
  const factory = await api('POST', '/api/v1/factories', { key: 'bench', name: 'bench' })
  const keys = Array.from({ length: SENSORS }, (_, i) => `s${i}`)
  const machines: { id: number; username: string; password: string; topic: string; sensorIds: number[] }[] =
    []
  await inParallel(
    // Machines [0, MACHINES) get rules, [MACHINES, 2·MACHINES) none, the last one holds the probes.
    Array.from({ length: 2 * MACHINES + 1 }, (_, i) => i),
    8,
    async (i) => {
      const m = await api('POST', `/api/v1/factories/${factory.id}/machines`, { key: `m${i}`, name: `m${i}` })
      const sensorIds: number[] = []
      const count = i === 2 * MACHINES ? PROBES : SENSORS
      for (let s = 0; s < count; s++) {
        sensorIds.push(
          (await api('POST', `/api/v1/machines/${m.id}/sensors`, { key: `s${s}`, name: `s${s}` })).id,
        )
      }
      const cred = await api('POST', `/api/v1/machines/${m.id}/credentials`)
      machines[i] = {
        id: m.id,
        username: cred.username,
        password: cred.password,
        topic: cred.telemetryTopic,
        sensorIds,
      }
    },
  )
  const probe = machines.pop()!

  const connect = (m: (typeof machines)[number]) =>
    new Promise<MqttClient>((resolve, reject) => {
      const c = mqtt.connect(`mqtt://127.0.0.1:${gw.mqtt}`, {
        clientId: m.username,
        username: m.username,
        password: m.password,
        reconnectPeriod: 0,
      })
      c.once('connect', () => resolve(c))
      c.once('error', reject)
    })
  const clients = await Promise.all(machines.map(connect))
  const probeClient = await connect(probe)

  let tsMs = Date.now() - 200_000
  const payload = () => {
    tsMs += 1
    const values: Record<string, number> = {}
    for (const k of keys) values[k] = Math.round(Math.random() * 1000) / 10
    return JSON.stringify({ ts: tsMs, values })
  }

  const ruled = clients.slice(0, MACHINES).map((c, i) => ({ c, m: machines[i]! }))
  const unruled = clients.slice(MACHINES).map((c, i) => ({ c, m: machines[MACHINES + i]! }))

  /** Publishes from the given devices for SECONDS; returns committed readings per second. */
  const load = async (label: string, devices: typeof ruled, during?: () => Promise<void>) => {
    let acked = 0
    let running = true
    const started = performance.now()
    const loops = devices.flatMap(({ c, m }) =>
      Array.from({ length: WINDOW }, async () => {
        while (running) {
          await c.publishAsync(m.topic, payload(), { qos: 1 })
          acked++
        }
      }),
    )
    const side = during?.()
    await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000))
    running = false
    await Promise.all(loops)
    const seconds = (performance.now() - started) / 1000
    await side
    const readingsPerS = (acked * SENSORS) / seconds
    process.stderr.write(
      `${label}: ${Math.round(readingsPerS)} readings/s (${acked} messages in ${seconds.toFixed(1)} s)\n`,
    )
    return readingsPerS
  }

  await load('warm-up', ruled)
  const beforeRules = await load('machines with rules, before the rules exist', ruled)

  process.stderr.write(`creating ${MACHINES * SENSORS + PROBES} rules…\n`)
  const ruleTargets = [
    ...machines.slice(0, MACHINES).flatMap((m) => m.sensorIds.map((id) => ({ id, threshold: 1000 }))),
    ...probe.sensorIds.map((id) => ({ id, threshold: 50 })),
  ]
  await inParallel(ruleTargets, 8, async ({ id, threshold }) => {
    await api('POST', '/api/v1/alert-rules', {
      name: `r${id}`,
      scope: 'sensor',
      sensorId: id,
      condition: { type: 'above', threshold },
      severity: 'warning',
    })
  })

  // SSE: every alert event with the receive time.
  const arrivals = new Map<number, number>()
  const waiters = new Map<number, (atMs: number) => void>()
  const controller = new AbortController()
  const sse = await fetch(`${base}/api/v1/events/alerts`, {
    headers: { authorization: `Bearer ${token}` },
    signal: controller.signal,
  })
  void (async () => {
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for await (const chunk of sse.body!) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true })
        let end = buffer.indexOf('\n\n')
        while (end >= 0) {
          const frame = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const data = frame.split('\n').find((l) => l.startsWith('data: '))
          if (data) {
            const t = JSON.parse(data.slice(6))
            if (t.event === 'opened') {
              const at = performance.now()
              arrivals.set(t.alert.sensorId, at)
              waiters.get(t.alert.sensorId)?.(at)
            }
          }
          end = buffer.indexOf('\n\n')
        }
      }
    } catch {
      // aborted at the end
    }
  })()

  // Publish start to SSE arrival: the commit, the PUBACK-side bookkeeping and the notification together,
  // so an upper bound on commit-to-alert (the alert row itself is written in the batch's transaction).
  const latenciesMs: number[] = []
  const pubackMs: number[] = []
  const commitToSseMs: number[] = []
  const probeIntervalMs = (SECONDS * 1000) / PROBES / 2
  const probes = async () => {
    for (let i = 0; i < PROBES; i++) {
      const sensorId = probe.sensorIds[i]!
      const arrived = new Promise<number>((resolve) => {
        const seen = arrivals.get(sensorId)
        if (seen !== undefined) resolve(seen)
        else waiters.set(sensorId, resolve)
      })
      tsMs += 1
      const sentAt = performance.now()
      await probeClient.publishAsync(probe.topic, JSON.stringify({ ts: tsMs, values: { [`s${i}`]: 100 } }), {
        qos: 1,
      })
      const pubackAt = performance.now()
      pubackMs.push(pubackAt - sentAt)
      const arrivedAt = await arrived
      latenciesMs.push(arrivedAt - sentAt)
      // The SSE event may even beat the PUBACK to this process; that counts as no delay.
      commitToSseMs.push(Math.max(0, arrivedAt - pubackAt))
      await new Promise((resolve) => setTimeout(resolve, probeIntervalMs))
    }
  }

  // Interleaved so both sides see the same database growth: devices whose sensors have rules, then the
  // same number of devices whose sensors have none.
  await load('warm-up with rules', ruled)
  const withRules: number[] = []
  const without: number[] = []
  for (let round = 0; round < 2; round++) {
    withRules.push(await load(`with rules (${round + 1})`, ruled, round === 0 ? probes : undefined))
    without.push(await load(`without rules (${round + 1})`, unruled))
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  controller.abort()

  const pct = (values: number[], p: number) => {
    const sorted = values.slice().sort((a, b) => a - b)
    return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 100) / 100
  }
  const result = {
    machinesWithRules: MACHINES,
    machinesWithoutRules: MACHINES,
    sensorsWithRules: MACHINES * SENSORS,
    rules: ruleTargets.length,
    seconds: SECONDS,
    readingsPerSecondBeforeRules: Math.round(beforeRules),
    readingsPerSecondWithRules: withRules.map(Math.round),
    readingsPerSecondWithoutRules: without.map(Math.round),
    throughputChangePercent: Math.round(((mean(withRules) - mean(without)) / mean(without)) * 1000) / 10,
    probes: latenciesMs.length,
    publishToPubackMs: { p50: pct(pubackMs, 50), p99: pct(pubackMs, 99), max: pct(pubackMs, 100) },
    publishToAlertOnSseMs: {
      p50: pct(latenciesMs, 50),
      p99: pct(latenciesMs, 99),
      max: pct(latenciesMs, 100),
    },
    commitToAlertOnSseMs: {
      p50: pct(commitToSseMs, 50),
      p99: pct(commitToSseMs, 99),
      max: pct(commitToSseMs, 100),
    },
  }
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
  for (const c of [...clients, probeClient]) await c.endAsync()
  gw.child.kill('SIGTERM')
  await new Promise((resolve) => gw.child.once('exit', resolve))
  rmSync(dataDir, { recursive: true, force: true })
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})
