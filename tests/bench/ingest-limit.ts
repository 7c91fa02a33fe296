// Ingest at the limit: factory-monitor (every reading committed before its PUBACK) side by side with
// Mosquitto forwarding to one QoS 1 subscriber, both under the same factory_cli flood, in one run.
// Usage: node --import tsx tests/bench/ingest-limit.ts [--quick] [--write-docs] [--only P1,P2,...]
//        [--no-mosquitto] [--server dist|source]  (dist: compiled by `npm run build`, the default; source: tsx)
//        [--node-args '<flags>']  (for the server process, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof') [--compare <checkout> [--cost-only] [--compare-rate <msg/s>] [--cost-subscriber]]  (interleaves a second server tree, A B A B, on P1 and P3; ratios are what count)
//        [--compare-env KEY=VALUE,...] [--compare-node-args '<flags>']  (for the --compare server instead, e.g. to compare a setting)
//        [--rounds N]  (P3 floods per system, one after the other; default 1, or 2 with --compare)
//        [--p9-subscribers factory_cli,mosquitto_sub,mosquitto_sub-nice19]  (P9 runs once per subscriber kind each round)
// With --write-docs it replaces the "ingest-limit" section of docs/benchmarks.md and docs/ingest-curve.svg.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { startServerProcess } from './server-process.ts'

const root = path.resolve(import.meta.dirname, '../..')
const cli = process.env['FACTORY_CLI_BIN'] ?? path.join(root, 'target/release/factory_cli')
const MOSQUITTO = process.env['MOSQUITTO_BIN'] ?? '/usr/sbin/mosquitto'
const MOSQUITTO_SUB = process.env['MOSQUITTO_SUB_BIN'] ?? '/usr/bin/mosquitto_sub'
const args = process.argv.slice(2)
const flag = (name: string) => args.includes(name)
const option = (name: string) => {
  const at = args.indexOf(name)
  return at >= 0 ? args[at + 1] : undefined
}
const quick = flag('--quick')
const writeDocs = flag('--write-docs')
const only = option('--only')?.split(',')
const compareDir = option('--compare')
const compareEnv = Object.fromEntries(
  (option('--compare-env')?.split(',') ?? []).map((kv) => [kv.split('=')[0]!, kv.slice(kv.indexOf('=') + 1)]),
)
const compareName = `factory-monitor (${[compareDir, option('--compare-env'), option('--compare-node-args')].filter(Boolean).join(' ')})`
const wanted = (id: string) => !only || only.includes(id)
/** How the server runs: compiled JavaScript, as `just run` starts it, or TypeScript through tsx. */
type ServerFrom = 'dist' | 'source'
const serverFrom: ServerFrom = option('--server') === 'source' ? 'source' : 'dist'

/** 22 s (after a 3 s ramp) holds at least one whole 10 s event-loop window of /health, which P7 reads. */
const LOOP_RUN_S = 22
/** --quick floods are shorter; their event-loop figure is often missing (–). P3 always runs LOOP_RUN_S. */
const RUN_S = quick ? 12 : LOOP_RUN_S
const CURVE_POINT_S = quick ? 4 : 8
const CURVE_FRACTIONS = quick ? [0.25, 0.5, 1, 1.2] : [0.1, 0.25, 0.5, 0.75, 0.9, 1, 1.1, 1.2]
const HEALTH_WINDOW_S = 10
/** P3's target: readings per second persisted from 1,000 machines. */
const P3_TARGET_READINGS_PER_S = 200_000
/** Server-side settings for load tests: the per-device publish and per-address connect limits are off. */
const SERVER_ENV = {
  FACTORY_MQTT_PUBLISH_RATE_PER_S: '0',
  FACTORY_MQTT_CONNECT_RATE_PER_IP_PER_MIN: '0',
  FACTORY_MQTT_ALLOW_ANONYMOUS: 'true',
  // Provisioning 1,000 machines × 20 sensors is ~22,000 API requests from one token.
  FACTORY_HTTP_RATE_LIMIT_PER_MIN: '0',
  FACTORY_LOG_LEVEL: 'warn',
}

interface Flood {
  connections: number
  inflight: number
  sensors: number
  rate?: number
  qos?: 0 | 1
  verify?: boolean
  durationS: number
  /** A number of messages instead of a duration. */
  count?: number
  rampS?: number
}

interface FloodReport {
  elapsedS: number
  messages: { acknowledged: number; acknowledgedPerS: number; publishedPerS: number }
  readings: { acknowledged: number; acknowledgedPerS: number }
  latencyUs: { p50: number; p99: number } | null
  errors: Record<string, number>
  connections: { opened: number; failed: number }
  tsRangeMs: [number, number] | null
  verify: { status: string } | null
}

/** What one flood measured, server side included. */
interface Run {
  report: FloodReport
  /** CPU in percent of one core over the flood, per process. */
  cpu: Record<string, number>
  peakRssMb: Record<string, number>
  /** Worst p99 event-loop delay of the /health windows that lay wholly inside the flood. */
  loopP99Ms: number | null
  /** Messages the subscriber received while the flood ran, per second, and in total after it drained. */
  subscriber: { perS: number; total: number } | null
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** CPU seconds (user + system, children excluded) and resident memory of one process, from /proc. */
function procStat(pid: number, thread?: number): { cpuS: number; rssMb: number } {
  try {
    const dir = thread === undefined ? `/proc/${pid}` : `/proc/${pid}/task/${thread}`
    const stat = readFileSync(`${dir}/stat`, 'utf8').split(') ')[1]!.split(' ')
    const ticks = Number(stat[11]) + Number(stat[12])
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
    return { cpuS: ticks / 100, rssMb: rssKb / 1024 }
  } catch {
    return { cpuS: 0, rssMb: 0 }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Busy share of all CPUs over `ms`, from /proc/stat (user, nice, system, irq, softirq, steal). */
async function machineBusy(ms: number): Promise<number> {
  const sample = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
    const idle = f[3]! + f[4]!
    return { idle, total: f.slice(0, 8).reduce((a, b) => a + b, 0) }
  }
  const a = sample()
  await sleep(ms)
  const b = sample()
  return b.total > a.total ? 1 - (b.idle - a.idle) / (b.total - a.total) : 0
}

/** A flood starts once the machine is quiet (≤ 15% busy over half a second), at most 30 s after the last. */
const QUIET_BUSY_SHARE = 0.15
const QUIET_WAIT_MAX_MS = 30_000

/**
 * Before each measured flood, the work left by the one before it (a server's writer paying its compaction
 * debt, a subscriber draining) must not run into it, or with --compare one system would share the CPUs with
 * the other's after-work. Returns how long it waited.
 */
async function waitForQuiet(): Promise<number> {
  const startedMs = Date.now()
  let busy = await machineBusy(500)
  while (busy > QUIET_BUSY_SHARE && Date.now() - startedMs < QUIET_WAIT_MAX_MS) busy = await machineBusy(500)
  return Date.now() - startedMs
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', resolve))

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  await Promise.race([exited(child), sleep(15_000).then(() => child.kill('SIGKILL'))])
}

/** A server under test: where to publish, which processes to account for, and its /health if it has one. */
interface System {
  name: string
  mqttUrl: string
  pids: Record<string, number>
  healthUrl: string | null
  apiArgs: string[]
  verify: boolean
  stop(): Promise<void>
}

async function startFactoryMonitor(
  name: string,
  dir: string,
  from: ServerFrom = serverFrom,
  env: Record<string, string> = {},
  nodeArgs: string[] = option('--node-args')?.split(' ').filter(Boolean) ?? [],
): Promise<System & { apiUrl: string }> {
  const server = await startServerProcess(
    { ...SERVER_ENV, ...env },
    {
      cwd: dir,
      from,
      nodeArgs,
    },
  ).catch((error: Error) => {
    throw new Error(`${name}: ${error.message}`)
  })
  return {
    name,
    apiUrl: server.apiUrl,
    mqttUrl: server.mqttUrl,
    pids: { server: server.child.pid! },
    healthUrl: `${server.apiUrl}/health`,
    apiArgs: ['--api-url', server.apiUrl, '--token-file', path.join(server.dataDir, 'admin-token')],
    verify: true,
    stop: server.stop,
  }
}

/** factory-monitor's count of subscribers it disconnected for falling behind ingestion (its /metrics). */
async function slowSubscriberDrops(system: System & { apiUrl: string }): Promise<number> {
  const tokenFile = system.apiArgs[system.apiArgs.indexOf('--token-file') + 1]!
  const res = await fetch(`${system.apiUrl}/metrics`, {
    headers: { authorization: `Bearer ${readFileSync(tokenFile, 'utf8').trim()}` },
  })
  const match = /^factory_mqtt_refusals_total\{reason="MQTT_SUBSCRIBER_TOO_SLOW"\} (\d+)/m.exec(
    await res.text(),
  )
  return match ? Number(match[1]) : 0
}

async function startMosquitto(): Promise<System | null> {
  if (!existsSync(MOSQUITTO) || !existsSync(MOSQUITTO_SUB)) return null
  const dir = mkdtempSync(path.join(tmpdir(), 'fm-mosquitto-'))
  const port = await freePort()
  // Anonymous on, so the flood's device logins are accepted as they are. Tuned for its best forwarding
  // rate: no limit on QoS 1 messages in flight to the subscriber (the default 20 made it forward about half
  // as fast, queueing the rest), and no queue limit (beyond 1,000 queued it would drop QoS 1 messages).
  const config = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'max_inflight_messages 0',
    'max_queued_messages 0',
    'persistence false',
    'log_type error',
  ].join('\n')
  writeFileSync(path.join(dir, 'mosquitto.conf'), `${config}\n`)
  const broker = spawn(MOSQUITTO, ['-c', path.join(dir, 'mosquitto.conf')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  for (let i = 0; ; i++) {
    if (broker.exitCode !== null) throw new Error('mosquitto exited during start-up')
    if (i > 100) throw new Error('mosquitto did not start listening')
    const listening = await new Promise<boolean>((resolve) => {
      const socket = createServer()
      socket.once('error', () => resolve(true))
      socket.listen(port, '127.0.0.1', () => socket.close(() => resolve(false)))
    })
    if (listening) break
    await sleep(50)
  }
  return {
    name: 'Mosquitto 2.0 → 1 subscriber',
    mqttUrl: `mqtt://127.0.0.1:${port}`,
    pids: { mosquitto: broker.pid! },
    healthUrl: null,
    apiArgs: [],
    verify: false,
    async stop() {
      await stop(broker)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

// Subscribers: Mosquitto's reference client (mosquitto_sub), which gets the most out of Mosquitto and is
// what its P1 runs use, and `factory_cli subscribe`. P9 runs with each (`--p9-subscribers` to choose).
// `mosquitto_sub-nice19` is mosquitto_sub at the lowest CPU priority: a subscriber that cannot keep up and
// takes only the CPU the broker and the generator leave, as one on another machine would take none.
type SubscriberKind = 'mosquitto_sub' | 'mosquitto_sub-nice19' | 'factory_cli'
const P9_SUBSCRIBERS = (option('--p9-subscribers') ?? 'factory_cli,mosquitto_sub,mosquitto_sub-nice19')
  .split(',')
  // Without Mosquitto's clients installed, P9 runs with factory_cli subscribe only.
  .filter((kind) => !kind.startsWith('mosquitto_sub') || existsSync(MOSQUITTO_SUB)) as SubscriberKind[]

/** One clean-session QoS 1 subscriber on factories/#; `received()` is its latest count. */
function startSubscriber(mqttUrl: string, kind: SubscriberKind) {
  const { hostname, port } = new URL(mqttUrl)
  const mosquittoSub = [MOSQUITTO_SUB, '-h', hostname, '-p', port, '-q', '1', '-t', 'factories/#', '-F', 'x']
  const [command, ...commandArgs] =
    kind === 'factory_cli'
      ? [cli, 'subscribe', '--mqtt-url', mqttUrl, '--topic', 'factories/#', '--report-ms', '100']
      : kind === 'mosquitto_sub'
        ? mosquittoSub
        : // nice execs the command: the pid stays the subscriber's, for its CPU figure.
          ['nice', '-n', '19', ...mosquittoSub]
  const child = spawn(command!, commandArgs, { stdio: ['ignore', 'pipe', 'inherit'] })
  let received = 0
  let pending = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    // mosquitto_sub prints one "x\n" per message; factory_cli one JSON line of counts per interval.
    if (kind !== 'factory_cli') {
      received += chunk.length / 2
      return
    }
    const lines = (pending + chunk.toString()).split('\n')
    pending = lines.pop()!
    for (const line of lines) if (line) received = (JSON.parse(line) as { received: number }).received
  })
  return {
    pid: child.pid!,
    received: () => received,
    exited: () => child.exitCode !== null,
    stop: () => stop(child),
  }
}
type Subscriber = ReturnType<typeof startSubscriber>

let tsCursorMs = Date.now() - 6 * 24 * 3_600_000

/**
 * Connects every device of a credentials file once, so that no measured flood includes a device's first
 * password check, as a plant's machines are connected before they stream. Passes repeat until every device
 * got in: a device whose CONNACK does not come within the client's 5 s gives up (with scrypt hashes, one
 * ~26 ms check at a time, most of 1,000 devices did). Returns the seconds it took.
 */
async function connectAll(system: System, creds: string, devices: number, sensors: number): Promise<number> {
  const startMs = Date.now()
  for (let pass = 1; ; pass++) {
    const run = await flood(system, creds, {
      connections: devices,
      inflight: 1,
      sensors,
      durationS: 0,
      count: devices,
    })
    if (run.report.connections.failed === 0) break
    if (pass === 10)
      throw new Error(
        `${system.name}: ${run.report.connections.failed} of ${devices} devices could not connect`,
      )
  }
  return (Date.now() - startMs) / 1000
}

/** Runs one factory_cli flood against a system, sampling CPU, memory and /health once a second. */
async function flood(
  system: System,
  creds: string,
  f: Flood,
  subscriber: Subscriber | null = null,
): Promise<Run> {
  const verify = Boolean(f.verify && system.verify)
  const floodArgs = [
    'flood',
    '--credentials',
    creds,
    '--mqtt-url',
    system.mqttUrl,
    '-c',
    String(f.connections),
    '--inflight',
    String(f.inflight),
    '--sensors',
    String(f.sensors),
    '--batch',
    '1',
    '--qos',
    String(f.qos ?? 1),
    ...(f.count ? ['--count', String(f.count)] : ['--duration-s', String(f.durationS)]),
    '--ts-start-ms',
    String(tsCursorMs),
    '--drain-timeout-s',
    '60',
    '--json',
    '--quiet',
    ...(f.rate ? ['--rate', String(Math.round(f.rate))] : []),
    ...(f.rampS ? ['--ramp-s', String(f.rampS)] : []),
    ...(verify ? system.apiArgs : ['--no-verify']),
  ]
  const quietWaitMs = await waitForQuiet()
  if (quietWaitMs >= 1000)
    console.log(`(${system.name}: waited ${(quietWaitMs / 1000).toFixed(1)} s for a quiet machine)`)
  const generator = spawn(cli, floodArgs, { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  generator.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString()
  })
  const pids: Record<string, number> = { ...system.pids, generator: generator.pid! }
  // The broker's event loop runs on the server's main thread; its share is the one that saturates first.
  if (system.pids['server']) pids['main thread'] = system.pids['server']
  if (subscriber) pids['subscriber'] = subscriber.pid
  const startedMs = Date.now()
  const cpuBefore = Object.fromEntries(
    Object.entries(pids).map(([k, pid]) => [k, procStat(pid, k === 'main thread' ? pid : undefined).cpuS]),
  )
  const cpuLast = { ...cpuBefore }
  const peakRssMb: Record<string, number> = {}
  const windows: { seenMs: number; p99: number }[] = []
  let lastWindow = ''
  const subscriberAtStart = subscriber?.received() ?? 0
  let subscriberAtEnd = subscriberAtStart
  let floodEndMs = Number.POSITIVE_INFINITY
  // The load ends when the generator stops publishing; it then drains and verifies through the API, which
  // keeps the server busy in another way, so CPU and event-loop figures stop at the load's end.
  const loadEndMs = f.count ? Number.POSITIVE_INFINITY : startedMs + ((f.rampS ?? 0) + f.durationS) * 1000
  let cpuLastMs = startedMs
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      const loading = Date.now() <= loadEndMs
      for (const [k, pid] of Object.entries(pids)) {
        const s = k === 'main thread' ? procStat(pid, pid) : procStat(pid)
        if (s.cpuS > 0 && loading) cpuLast[k] = s.cpuS
        peakRssMb[k] = Math.max(peakRssMb[k] ?? 0, s.rssMb)
      }
      if (loading) cpuLastMs = Date.now()
      if (loading && subscriber) subscriberAtEnd = subscriber.received()
      if (system.healthUrl) {
        try {
          const health = (await (await fetch(system.healthUrl)).json()) as {
            eventLoop: { delayP99Ms: number; delayMaxMs: number }
          }
          const key = `${health.eventLoop.delayP99Ms}/${health.eventLoop.delayMaxMs}`
          if (key !== lastWindow) windows.push({ seenMs: Date.now(), p99: health.eventLoop.delayP99Ms })
          lastWindow = key
        } catch {
          // a missed sample under load is not a result
        }
      }
      await sleep(1000)
    }
  })()
  await exited(generator)
  floodEndMs = Date.now()
  sampling = false
  await sampler
  if (generator.exitCode !== 0 && out === '')
    throw new Error(`factory_cli flood failed against ${system.name}`)
  const report = JSON.parse(out) as FloodReport
  if (report.tsRangeMs) tsCursorMs = report.tsRangeMs[1] + 60_000
  tsCursorMs = Math.max(tsCursorMs, startedMs - 6 * 24 * 3_600_000)
  const wallS = (Math.min(cpuLastMs, floodEndMs) - startedMs) / 1000
  const cpu = Object.fromEntries(
    Object.keys(pids).map((k) => [k, ((cpuLast[k]! - cpuBefore[k]!) / wallS) * 100]),
  )
  // A window is published when it ends: it lay inside the load if it ended after the ramp + 10 s (+1 s
  // polling) and was seen before the load ended.
  const loadStartMs = startedMs + (f.rampS ?? 0) * 1000
  const inside = windows.filter(
    (w) =>
      w.seenMs - 1000 - HEALTH_WINDOW_S * 1000 >= loadStartMs && w.seenMs <= Math.min(floodEndMs, loadEndMs),
  )
  let subscriberTotal = subscriber?.received() ?? 0
  if (subscriber) {
    // Let whatever the broker still queues for the subscriber arrive, so the total is final.
    for (let quiet = 0; quiet < 3 && !subscriber.exited(); ) {
      await sleep(500)
      const now = subscriber.received()
      quiet = now === subscriberTotal ? quiet + 1 : 0
      subscriberTotal = now
    }
  }
  return {
    report,
    cpu,
    peakRssMb,
    loopP99Ms: inside.length > 0 ? Math.max(...inside.map((w) => w.p99)) : null,
    subscriber: subscriber
      ? {
          perS: (subscriberAtEnd - subscriberAtStart) / f.durationS,
          total: subscriberTotal - subscriberAtStart,
        }
      : null,
  }
}

const credentialDirs: string[] = []

/** Provisions n machines in their own factory (`factory`): provisioning existing machine keys again would
 * issue them new secrets, and an earlier scenario's credentials file would stop working. */
function provision(
  system: System & { apiUrl: string },
  n: number,
  sensors: number,
  factory = 'load',
): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'fm-creds-'))
  credentialDirs.push(dir)
  const file = path.join(dir, 'credentials.json')
  execFileSync(
    cli,
    [
      'provision',
      '--factory',
      factory,
      '-n',
      String(n),
      '--sensors',
      String(sensors),
      '-o',
      file,
      '--mqtt-url',
      system.mqttUrl,
      ...system.apiArgs,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  )
  return file
}

const fmt = (n: number) => Math.round(n).toLocaleString('en')
const ms = (us: number | undefined) => (us === undefined ? '–' : `${(us / 1000).toFixed(1)} ms`)
const pct = (n: number | undefined) => (n === undefined ? '–' : `${Math.round(n)}%`)
/** The table's columns after the throughput, as one run of factory-monitor measured them. */
const runColumns = (run: Run, proof: string, loop = true): string[] => [
  ms(run.report.latencyUs?.p99),
  loop && run.loopP99Ms !== null ? `${run.loopP99Ms.toFixed(1)} ms` : '–',
  mb(run.peakRssMb['server']),
  Object.entries(run.cpu)
    .map(([k, v]) => `${k} ${pct(v)}`)
    .join(', '),
  proof,
]
const mb = (n: number | undefined) => (n === undefined ? '–' : `${Math.round(n)} MB`)

interface CurvePoint {
  offered: number
  acked: number
  p99Ms: number
}

function svgChart(series: { name: string; color: string; points: CurvePoint[] }[], capacity: number): string {
  const W = 720
  const H = 420
  const pad = { l: 70, r: 70, t: 40, b: 50 }
  const all = series.flatMap((s) => s.points)
  const maxX = Math.max(...all.map((p) => p.offered)) * 1.05
  const maxY = Math.max(...all.map((p) => Math.max(p.acked, p.offered))) * 1.1
  const maxL = Math.max(1, ...all.map((p) => p.p99Ms)) * 1.1
  const x = (v: number) => pad.l + (v / maxX) * (W - pad.l - pad.r)
  const y = (v: number) => H - pad.b - (v / maxY) * (H - pad.t - pad.b)
  const yl = (v: number) => H - pad.b - (v / maxL) * (H - pad.t - pad.b)
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<title>Acknowledged messages per second and PUBACK p99 against offered load</title>`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">Throughput (solid) and PUBACK p99 (dashed) against offered load, QoS 1, 100 connections</text>`,
    `<line x1="${pad.l}" y1="${H - pad.b}" x2="${W - pad.r}" y2="${H - pad.b}" stroke="black"/>`,
    `<line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${H - pad.b}" stroke="black"/>`,
    `<line x1="${W - pad.r}" y1="${pad.t}" x2="${W - pad.r}" y2="${H - pad.b}" stroke="black"/>`,
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(maxX / 1.05)}" y2="${y(maxX / 1.05)}" stroke="#bbb" stroke-dasharray="2,3"/>`,
    `<line x1="${x(capacity)}" y1="${pad.t}" x2="${x(capacity)}" y2="${H - pad.b}" stroke="#ccc"/>`,
    `<text x="${x(capacity) + 4}" y="${pad.t + 12}" fill="#888">closed-loop capacity</text>`,
    `<text x="${W / 2}" y="${H - 12}" text-anchor="middle">offered load (msg/s)</text>`,
    `<text x="16" y="${H / 2}" transform="rotate(-90 16 ${H / 2})" text-anchor="middle">acknowledged msg/s</text>`,
    `<text x="${W - 16}" y="${H / 2}" transform="rotate(90 ${W - 16} ${H / 2})" text-anchor="middle">PUBACK p99 (ms)</text>`,
  ]
  for (let i = 0; i <= 4; i++) {
    const vx = (maxX / 1.05) * (i / 4)
    const vy = (maxY / 1.1) * (i / 4)
    const vl = (maxL / 1.1) * (i / 4)
    parts.push(`<text x="${x(vx)}" y="${H - pad.b + 16}" text-anchor="middle">${fmt(vx)}</text>`)
    parts.push(`<text x="${pad.l - 6}" y="${y(vy) + 4}" text-anchor="end">${fmt(vy)}</text>`)
    parts.push(`<text x="${W - pad.r + 6}" y="${yl(vl) + 4}">${vl.toFixed(vl < 10 ? 1 : 0)}</text>`)
  }
  series.forEach((s, i) => {
    const line = (f: (p: CurvePoint) => number, g: (v: number) => number) =>
      s.points.map((p) => `${x(p.offered).toFixed(1)},${g(f(p)).toFixed(1)}`).join(' ')
    parts.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${line((p) => p.acked, y)}"/>`,
    )
    parts.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="2" stroke-dasharray="6,4" points="${line((p) => p.p99Ms, yl)}"/>`,
    )
    for (const p of s.points)
      parts.push(`<circle cx="${x(p.offered)}" cy="${y(p.acked)}" r="3" fill="${s.color}"/>`)
    parts.push(`<rect x="${pad.l + 12}" y="${pad.t + 8 + i * 18}" width="14" height="4" fill="${s.color}"/>`)
    parts.push(`<text x="${pad.l + 32}" y="${pad.t + 14 + i * 18}">${s.name}</text>`)
  })
  parts.push('</svg>')
  return `${parts.join('\n')}\n`
}

async function main() {
  if (!existsSync(cli))
    execFileSync('cargo', ['build', '--release', '-p', 'factory_cli'], { cwd: root, stdio: 'inherit' })
  const loadBefore = loadavg()[0]!
  const rows: string[] = []
  const notes: string[] = []
  const row = (cells: (string | number)[]) => {
    rows.push(`| ${cells.join(' | ')} |`)
    console.log(rows.at(-1))
  }
  if (wanted('memory')) {
    // Same load on the server run through tsx and compiled, interleaved; each starts on an empty database.
    for (let round = 0; round < 2; round++) {
      for (const from of ['source', 'dist'] as const) {
        const system = await startFactoryMonitor(`factory-monitor (${from})`, root, from)
        try {
          await sleep(3000)
          const idleMb = procStat(system.pids['server']!).rssMb
          const creds = provision(system, 100, 1)
          const run = await flood(system, creds, {
            connections: 100,
            inflight: 32,
            sensors: 1,
            rate: 20_000,
            durationS: 10,
          })
          const label = from === 'dist' ? 'compiled JS (`npm run build`)' : 'TypeScript through tsx'
          row([
            `memory #${round + 1}`,
            `factory-monitor, ${label}: idle, then 20,000 msg/s`,
            `${fmt(run.report.messages.acknowledgedPerS)} msg/s committed`,
            ms(run.report.latencyUs?.p99),
            run.loopP99Ms === null ? '–' : `${run.loopP99Ms.toFixed(1)} ms`,
            `${mb(idleMb)} idle, ${mb(run.peakRssMb['server'])} peak`,
            Object.entries(run.cpu)
              .map(([k, v]) => `${k} ${pct(v)}`)
              .join(', '),
            'not checked',
          ])
        } finally {
          await system.stop()
        }
      }
    }
  }
  const fm = await startFactoryMonitor('factory-monitor', root)
  // Should a second system fail to start, none is left running.
  const started = await Promise.allSettled([
    compareDir
      ? startFactoryMonitor(
          compareName,
          compareDir,
          serverFrom,
          compareEnv,
          option('--compare-node-args')?.split(' ').filter(Boolean),
        )
      : null,
    wanted('P1') && !flag('--no-mosquitto') ? startMosquitto() : null,
  ])
  const failed = started.find((s) => s.status === 'rejected')
  if (failed) {
    for (const s of [{ status: 'fulfilled' as const, value: fm }, ...started])
      if (s.status === 'fulfilled') await s.value?.stop()
    throw failed.reason
  }
  const [other, mosquitto] = started.map((s) => (s.status === 'fulfilled' ? s.value : null)) as [
    Awaited<ReturnType<typeof startFactoryMonitor>> | null,
    Awaited<ReturnType<typeof startMosquitto>>,
  ]
  if (wanted('P1') && !mosquitto && !flag('--no-mosquitto'))
    notes.push(`Mosquitto is not installed (${MOSQUITTO}, ${MOSQUITTO_SUB}); the P1 comparison was skipped.`)
  const curve: Record<string, CurvePoint[]> = {}
  let p1Rate = 0
  let mosquittoRate = 0
  try {
    const creds100 = provision(fm, 100, 1)
    const credsOther = other ? provision(other, 100, 1) : null
    // No measured flood may include a device's first password check (see connectAll).
    await connectAll(fm, creds100, 100, 1)
    if (other && credsOther) await connectAll(other, credsOther, 100, 1)
    const P1: Flood = { connections: 100, inflight: 32, sensors: 1, durationS: RUN_S, verify: true }

    if (wanted('P1') || wanted('P9')) {
      // Interleaved A B A B, so a neighbour's load hits every system alike; P9 (factory-monitor with a
      // subscriber) runs in the same rounds, and compares with the P1 run just before it.
      const p9Name = (kind: SubscriberKind) => `factory-monitor + 1 QoS 1 subscriber on factories/# (${kind})`
      const entries: { system: System; creds: string; name: string; subscriber: SubscriberKind | null }[] = [
        { system: fm, creds: creds100, name: fm.name, subscriber: null },
      ]
      if (mosquitto && wanted('P1'))
        entries.push({
          system: mosquitto,
          creds: creds100,
          name: mosquitto.name,
          subscriber: 'mosquitto_sub',
        })
      if (other && credsOther && wanted('P1'))
        entries.push({ system: other, creds: credsOther, name: other.name, subscriber: null })
      if (wanted('P9'))
        for (const kind of P9_SUBSCRIBERS)
          entries.push({ system: fm, creds: creds100, name: p9Name(kind), subscriber: kind })
      const rates: Record<string, number[]> = {}
      const p9: Record<
        string,
        { ratio: number; received: number; acknowledged: number; dropped: boolean; tooSlow: number }[]
      > = {}
      for (let round = 0; round < (flag('--cost-only') ? 0 : 2); round++) {
        for (const { system, creds, name, subscriber: kind } of entries) {
          const subscriber = kind ? startSubscriber(system.mqttUrl, kind) : null
          if (subscriber) await sleep(300)
          const isP9 = system === fm && kind !== null
          const dropsBefore = isP9 ? await slowSubscriberDrops(fm) : 0
          const run = await flood(system, creds, P1, subscriber)
          const dropped = subscriber?.exited() ?? false
          // A subscriber that fell behind was disconnected; mosquitto_sub reconnects and subscribes again.
          const tooSlow = isP9 ? (await slowSubscriberDrops(fm)) - dropsBefore : 0
          await subscriber?.stop()
          const r = run.report
          // Mosquitto's figure is what it forwards; factory-monitor's is what it commits.
          const forwarding = subscriber !== null && system === mosquitto
          const rate = forwarding ? run.subscriber!.perS : r.messages.acknowledgedPerS
          rates[name] = [...(rates[name] ?? []), rate]
          if (system === fm && kind) {
            const runs = p9[kind] ?? []
            p9[kind] = runs
            runs.push({
              ratio: rate / rates[fm.name]![round]!,
              received: run.subscriber!.total,
              acknowledged: r.messages.acknowledged,
              dropped,
              tooSlow,
            })
          }
          row([
            system === fm && kind ? `P9 #${round + 1}` : `P1 #${round + 1}`,
            name,
            forwarding
              ? `${fmt(run.subscriber!.perS)} msg/s forwarded (${fmt(r.messages.acknowledgedPerS)} acknowledged; ${fmt(run.subscriber!.total)} of ${fmt(r.messages.acknowledged)} delivered)`
              : subscriber
                ? `${fmt(r.messages.acknowledgedPerS)} msg/s committed; subscriber got ${fmt(run.subscriber!.total)} of ${fmt(r.messages.acknowledged)}${tooSlow > 0 ? `, disconnected ${tooSlow}× for falling behind` : ''}`
                : `${fmt(r.messages.acknowledgedPerS)} msg/s committed`,
            ms(r.latencyUs?.p99),
            run.loopP99Ms === null ? '–' : `${run.loopP99Ms.toFixed(1)} ms`,
            mb(run.peakRssMb['server'] ?? run.peakRssMb['mosquitto']),
            Object.entries(run.cpu)
              .map(([k, v]) => `${k} ${pct(v)}`)
              .join(', '),
            r.verify ? r.verify.status : 'not checked',
          ])
        }
      }
      for (const [kind, runs] of Object.entries(p9))
        notes.push(
          `P9 (${kind}): with the subscriber attached ingestion ran at ${runs.map((p) => `${p.ratio.toFixed(3)}×`).join(', ')} the P1 run just before it (round by round; target ≥ 0.8×); the subscriber received ${runs.map((p) => `${fmt(p.received)} of ${fmt(p.acknowledged)}`).join(', ')} messages${runs.some((p) => p.dropped) ? ' and was disconnected' : ''}${runs.some((p) => p.tooSlow > 0) ? `; it fell behind and was disconnected ${runs.map((p) => `${p.tooSlow}×`).join(', ')} (MQTT_SUBSCRIBER_TOO_SLOW)` : ''}.`,
        )
      const best = (name: string) => Math.max(...(rates[name] ?? [0]))
      p1Rate = best(fm.name)
      if (mosquitto && rates[mosquitto.name]) {
        mosquittoRate = best(mosquitto.name)
        notes.push(
          `P1: factory-monitor commits ${(p1Rate / mosquittoRate).toFixed(2)}× the messages per second Mosquitto forwards to its subscriber (best of two each; target ≥ 1.3×).`,
        )
      }
      if (other && credsOther) {
        const pairs = (rates[fm.name] ?? []).map((r, i) => (r / rates[other.name]![i]!).toFixed(2))
        notes.push(`This tree / ${compareDir}: ${pairs.join(', ')} (round by round).`)
        // Throughput swings with the neighbours' load; main-thread CPU per message at one fixed rate much less.
        const rate = Number(option('--compare-rate') ?? 20_000)
        const costs: Record<string, number[]> = {}
        for (let round = 0; round < 3; round++) {
          for (const [system, creds] of [
            [fm, creds100],
            [other, credsOther],
          ] as const) {
            // --cost-subscriber: with P9's subscriber attached.
            const subscriber = flag('--cost-subscriber')
              ? startSubscriber(system.mqttUrl, P9_SUBSCRIBERS[0] ?? 'factory_cli')
              : null
            if (subscriber) await sleep(300)
            const run = await flood(system, creds, { ...P1, rate, durationS: 8, verify: false }, subscriber)
            await subscriber?.stop()
            const perMsgUs = (run.cpu['main thread']! * 10_000) / run.report.messages.acknowledgedPerS
            costs[system.name] = [...(costs[system.name] ?? []), perMsgUs]
            console.log(
              `cost ${system.name}: ${perMsgUs.toFixed(2)} µs main-thread CPU/msg (server ${pct(run.cpu['server'])}) at ${fmt(run.report.messages.acknowledgedPerS)} msg/s`,
            )
          }
        }
        const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
        notes.push(
          `Main-thread CPU per message at ${fmt(rate)} msg/s (median of 3): this tree ${median(costs[fm.name]!).toFixed(2)} µs, ${compareDir} ${median(costs[other.name]!).toFixed(2)} µs.`,
        )
      }
    }

    if (wanted('P2')) {
      const run = await flood(fm, creds100, {
        connections: 1,
        inflight: 1,
        sensors: 1,
        durationS: quick ? 5 : 10,
        verify: true,
      })
      const r = run.report
      row([
        'P2',
        'factory-monitor, 1 device, 1 in flight',
        `${fmt(r.messages.acknowledgedPerS)} msg/s committed`,
        ...runColumns(run, r.verify?.status ?? 'not checked', false),
      ])
      notes.push(`P2: ${fmt(r.messages.acknowledgedPerS)} msg/s with one message in flight (target ≥ 1,000).`)
    }

    if (wanted('P3')) {
      // With --compare, both servers' devices are connected first and the floods alternate A B A B.
      const p3Systems = other ? [fm, other] : [fm]
      const p3 = p3Systems.map((system) => ({
        system,
        creds: provision(system, 1000, 20, 'p3'),
        connectS: 0,
      }))
      for (const entry of p3) entry.connectS = await connectAll(entry.system, entry.creds, 1000, 20)
      const rounds = Number(option('--rounds') ?? (other ? 2 : 1))
      for (let round = 0; round < rounds; round++) {
        for (const { system, creds, connectS } of p3) {
          const run = await flood(system, creds, {
            connections: 1000,
            inflight: 4,
            sensors: 20,
            durationS: LOOP_RUN_S,
            rampS: 3,
            verify: true,
          })
          const r = run.report
          row([
            rounds > 1 ? `P3 #${round + 1}` : 'P3',
            system === fm ? 'factory-monitor, 1,000 machines, 20-reading snapshots' : system.name,
            `${fmt(r.readings.acknowledgedPerS)} readings/s committed (${fmt(r.messages.acknowledgedPerS)} msg/s)`,
            ...runColumns(run, r.verify?.status ?? 'not checked'),
          ])
          if (round === 0 && system === fm)
            notes.push(
              `P3: ${fmt(r.readings.acknowledgedPerS)} readings/s, peak server RSS ${mb(run.peakRssMb['server'])} (targets ≥ 200,000 readings/s, ≤ 300 MB); connecting the 1,000 devices for the first time (a password check each) took ${connectS.toFixed(1)} s before the flood.`,
            )
        }
      }
      // The same devices offering P3's target (200,000 readings/s, open loop) rather than all they can: the
      // event-loop delay a plant at that load sees, next to the saturated figure above.
      const creds1000 = p3[0]!.creds
      const run = await flood(fm, creds1000, {
        connections: 1000,
        inflight: 4,
        sensors: 20,
        rate: P3_TARGET_READINGS_PER_S / 20,
        durationS: LOOP_RUN_S,
        rampS: 3,
        verify: true,
      })
      const r = run.report
      row([
        'P3 at target',
        `factory-monitor, 1,000 machines offering ${fmt(P3_TARGET_READINGS_PER_S)} readings/s`,
        `${fmt(r.readings.acknowledgedPerS)} readings/s committed (${fmt(r.messages.acknowledgedPerS)} msg/s)`,
        ...runColumns(run, r.verify?.status ?? 'not checked'),
      ])
      notes.push(
        `P3 at its target load (${fmt(P3_TARGET_READINGS_PER_S)} readings/s offered): event-loop delay p99 ${run.loopP99Ms === null ? '–' : `${run.loopP99Ms.toFixed(1)} ms`}, PUBACK p99 ${ms(r.latencyUs?.p99)}.`,
      )
    }

    // Before P8: the curve measures a server in a steady state, P8 leaves one with a backlog behind.
    if (wanted('curve')) {
      const capacity = p1Rate || 20_000
      const targets: [System, string, number][] = [[fm, creds100, capacity]]
      if (mosquitto && mosquittoRate > 0) targets.push([mosquitto, creds100, capacity])
      for (const [system, creds, base] of targets) {
        const points: CurvePoint[] = []
        for (const fraction of CURVE_FRACTIONS) {
          const subscriber = system === mosquitto ? startSubscriber(system.mqttUrl, 'mosquitto_sub') : null
          if (subscriber) await sleep(300)
          const run = await flood(
            system,
            creds,
            { ...P1, rate: base * fraction, durationS: CURVE_POINT_S, verify: false },
            subscriber,
          )
          await subscriber?.stop()
          points.push({
            offered: base * fraction,
            acked: subscriber ? run.subscriber!.perS : run.report.messages.acknowledgedPerS,
            p99Ms: (run.report.latencyUs?.p99 ?? 0) / 1000,
          })
          console.log(`curve ${system.name} ${Math.round(fraction * 100)}%: ${JSON.stringify(points.at(-1))}`)
        }
        curve[system.name] = points
      }
    }

    if (wanted('P8')) {
      // 2× overload with a window far larger than the server can absorb: memory must stay bounded.
      const capacity = p1Rate || 20_000
      const run = await flood(fm, creds100, {
        connections: 100,
        inflight: 2000,
        sensors: 1,
        rate: capacity * 2,
        durationS: RUN_S,
      })
      const r = run.report
      row([
        'P8',
        'factory-monitor at 2× capacity, 2,000 in flight per connection',
        `${fmt(r.messages.acknowledgedPerS)} msg/s committed (${fmt(r.messages.publishedPerS)} published/s)`,
        ...runColumns(run, 'not checked'),
      ])
      notes.push(`P8: at 2× overload the server's peak RSS was ${mb(run.peakRssMb['server'])}.`)
    }
  } finally {
    await fm.stop()
    await other?.stop()
    await mosquitto?.stop()
    for (const dir of credentialDirs) rmSync(dir, { recursive: true, force: true })
  }

  const loadAfter = loadavg()[0]!
  const lines = [
    `Command: \`npx just bench-ingest\` (\`node --import tsx tests/bench/ingest-limit.ts${quick ? ' --quick' : ''}\`): ${RUN_S} s floods, factory_cli flood as the load generator for every system, servers as separate processes, each flood starting once the machine is at most ${Math.round(QUIET_BUSY_SHARE * 100)}% busy (at most ${QUIET_WAIT_MAX_MS / 1000} s after the last), rate limits off (\`FACTORY_MQTT_PUBLISH_RATE_PER_S=0\`, \`FACTORY_MQTT_CONNECT_RATE_PER_IP_PER_MIN=0\`). Load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after, on 2 cores.`,
    '',
    '| run | system | throughput | PUBACK p99 | event-loop p99 | peak RSS | CPU (% of one core) | proof |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    ...notes.map((n) => `- ${n}`),
  ]
  const names = Object.keys(curve)
  if (names.length > 0) {
    lines.push('', '![throughput and PUBACK p99 against offered load](ingest-curve.svg)', '')
    lines.push(`| offered msg/s | ${names.map((n) => `${n}: acknowledged/s | p99`).join(' | ')} |`)
    lines.push(`|---:|${names.map(() => '---:|---:').join('|')}|`)
    const points = curve[names[0]!]!
    points.forEach((p, i) => {
      lines.push(
        `| ${fmt(p.offered)} | ${names.map((n) => `${fmt(curve[n]![i]!.acked)} | ${curve[n]![i]!.p99Ms.toFixed(1)} ms`).join(' | ')} |`,
      )
    })
  }
  const table = lines.join('\n')
  console.log(`\n${table}`)
  if (writeDocs) {
    replaceSection('ingest-limit', table)
    if (names.length > 0) {
      const colors = ['#1f77b4', '#d62728', '#2ca02c']
      writeFileSync(
        path.join(root, 'docs/ingest-curve.svg'),
        svgChart(
          names.map((name, i) => ({ name, color: colors[i]!, points: curve[name]! })),
          p1Rate,
        ),
      )
    }
  }
}

function replaceSection(name: string, body: string) {
  const file = path.join(root, 'docs/benchmarks.md')
  const start = `<!-- ${name}:start -->`
  const end = `<!-- ${name}:end -->`
  const doc = readFileSync(file, 'utf8')
  const block = `${start}\n${body}\n${end}`
  const next = doc.includes(start)
    ? doc.slice(0, doc.indexOf(start)) + block + doc.slice(doc.indexOf(end) + end.length)
    : `${doc.trimEnd()}\n\n${block}\n`
  writeFileSync(file, next)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
