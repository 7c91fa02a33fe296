// Ingest benchmark: the PUBACK-after-commit path under factory_cli load, against a real server process.
// Usage: node --import tsx tests/bench/ingest-bench.ts [--quick] [--write-docs]
// Prints a table; with --write-docs it replaces the "ingest" section of docs/benchmarks.md.
import { execFile, execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { procStat, root, startServerProcess } from './server-process.ts'

const execFileAsync = promisify(execFile)

const cli = process.env['FACTORY_CLI_BIN'] ?? path.join(root, 'target/release/factory_cli')
const quick = process.argv.includes('--quick')
const writeDocs = process.argv.includes('--write-docs')
// 35 s leaves at least two 10 s event-loop windows wholly inside the flood, after its connect burst.
const DURATION_S = quick ? 5 : 35
const LOOP_WINDOW_MS = 10_000

interface Scenario {
  name: string
  target: string
  connections: number
  inflight: number
  sensors: number
  batch: number
}

const ALL_SCENARIOS: Scenario[] = [
  {
    name: 'P2 one device, 1 in flight, QoS 1',
    target: '≥ 1,000 msg/s',
    connections: 1,
    inflight: 1,
    sensors: 1,
    batch: 1,
  },
  {
    name: 'P1 100 connections pipelining, QoS 1',
    target: 'event-loop p99 ≤ 20 ms',
    connections: 100,
    inflight: 32,
    sensors: 1,
    batch: 1,
  },
]

// --only P1 (or P2) runs one scenario.
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined
const SCENARIOS = ALL_SCENARIOS.filter((s) => only === undefined || s.name.startsWith(only))

async function main() {
  if (!existsSync(cli))
    execFileSync('cargo', ['build', '--release', '-p', 'factory_cli'], { cwd: root, stdio: 'inherit' })
  // The server as `just run` starts it: compiled (npm run build), falling back to the sources.
  const fm = await startServerProcess()
  const { apiUrl, dataDir } = fm
  const server = fm.child
  const mqttPort = new URL(fm.mqttUrl).port
  const results: string[] = []
  try {
    const tokenFile = path.join(dataDir, 'admin-token')
    const creds = path.join(dataDir, 'credentials.json')
    const common = ['--api-url', apiUrl, '--token-file', tokenFile]
    execFileSync(
      cli,
      [
        'provision',
        '-n',
        '100',
        '--sensors',
        '1',
        '-o',
        creds,
        '--mqtt-url',
        `mqtt://127.0.0.1:${mqttPort}`,
        ...common,
      ],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    )
    for (const s of SCENARIOS) {
      const before = procStat(server.pid!)
      let peakRssMb = before.rssMb
      let loopP99Ms = 0
      // Each completed window: when it was first seen and its p99. A window seen at t covers about
      // [t - 10 s, t]; "steady" windows lie wholly inside the flood and after its first second.
      const windows: { seenMs: number; p99Ms: number }[] = []
      const floodStartMs = Date.now()
      // /health reports the event-loop delay of the last full 10 s window; sample it through the run.
      const sampler = setInterval(async () => {
        peakRssMb = Math.max(peakRssMb, procStat(server.pid!).rssMb)
        try {
          const health = (await (await fetch(`${apiUrl}/health`)).json()) as {
            eventLoop: { delayP99Ms: number }
          }
          loopP99Ms = Math.max(loopP99Ms, health.eventLoop.delayP99Ms)
          if (windows.at(-1)?.p99Ms !== health.eventLoop.delayP99Ms)
            windows.push({ seenMs: Date.now(), p99Ms: health.eventLoop.delayP99Ms })
          if (process.env['BENCH_VERBOSE'])
            console.error(
              `${s.name.slice(0, 2)} event-loop window p99 ${health.eventLoop.delayP99Ms.toFixed(1)} ms`,
            )
        } catch {
          // a missed sample under load is not a result
        }
      }, 1000)
      const { stdout: out } = await execFileAsync(
        cli,
        [
          'flood',
          '--credentials',
          creds,
          '--mqtt-url',
          `mqtt://127.0.0.1:${mqttPort}`,
          '-c',
          String(s.connections),
          '--inflight',
          String(s.inflight),
          '--sensors',
          String(s.sensors),
          '--batch',
          String(s.batch),
          '--duration-s',
          String(DURATION_S),
          '--json',
          '--quiet',
          ...common,
        ],
        { maxBuffer: 16 * 1024 * 1024 },
      )
      await new Promise((r) => setTimeout(r, 11_000)) // let the 10 s event-loop window covering the run close
      clearInterval(sampler)
      const after = procStat(server.pid!)
      const steady = windows.filter(
        (w) =>
          w.seenMs - LOOP_WINDOW_MS - 1000 >= floodStartMs + 1000 &&
          w.seenMs <= floodStartMs + DURATION_S * 1000,
      )
      const steadyP99 = steady.length > 0 ? `${Math.max(...steady.map((w) => w.p99Ms)).toFixed(1)} ms` : 'n/a'
      const report = JSON.parse(out)
      // Schema: docs/cli.md (factory_cli.flood.v1).
      const elapsedS: number = report.elapsedS
      const rate: number = report.messages.acknowledgedPerS
      const p99Us: number = report.latencyUs.p99
      const cpuPct = ((after.cpuS - before.cpuS) / (elapsedS + 11)) * 100
      const proof = report.verify.status === 'ok'
      results.push(
        `| ${s.name} | ${Math.round(rate).toLocaleString('en')} msg/s | ${(p99Us / 1000).toFixed(1)} ms | ${steadyP99} | ${loopP99Ms.toFixed(1)} ms | ${peakRssMb.toFixed(0)} MB | ${cpuPct.toFixed(0)}% | ${proof ? 'all committed' : 'MISSING'} | ${s.target} |`,
      )
      console.log(results.at(-1))
    }
  } finally {
    await fm.stop()
  }

  const table = [
    `Command: \`node --import tsx tests/bench/ingest-bench.ts${quick ? ' --quick' : ''}\` (${DURATION_S} s per scenario, factory_cli flood as the load generator, server as a separate process).`,
    '',
    '| scenario | acknowledged (= committed) | PUBACK p99 | event-loop p99, steady windows | event-loop p99, any window incl. connect burst | peak RSS | server CPU | proof | target |',
    '|---|---|---|---|---|---|---|---|---|',
    ...results,
  ].join('\n')
  console.log(`\n${table}`)
  if (writeDocs) replaceSection('ingest', table)
}

function replaceSection(name: string, body: string) {
  const file = path.join(root, 'docs/benchmarks.md')
  const start = `<!-- ${name}:start -->`
  const end = `<!-- ${name}:end -->`
  const doc = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n'
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
