// Times each analytics function in the Rust addon (boundary included) against its TypeScript twin, per size.
// Run: node --import tsx tests/bench/analytics-bench.ts [--sizes 1000,10000] [--json]
import { parseArgs } from 'node:util'
import {
  downsampleBuckets,
  ewma,
  lttb,
  robustZScore,
  rollingZScore,
  type Series,
  windowStats,
} from '../../api/analytics/index.ts'
import { compute } from '../../crates/factory_compute/binding.ts'

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000,100000,1000000' },
    json: { type: 'boolean', default: false },
  },
})
const SIZES = args.sizes.split(',').map(Number)
/** Each measurement repeats until this much time has passed (at least 3 runs), and reports the median. */
const MIN_SAMPLE_MS = 300

interface Case {
  name: string
  rust: (s: Series) => unknown
  rustAsync: (s: Series) => Promise<unknown>
  ts: (s: Series) => unknown
}

const CASES: Case[] = [
  {
    name: 'windowStats',
    rust: (s) => compute.analyticsWindowStats(s.tsMs, s.values),
    rustAsync: (s) => compute.analyticsWindowStatsAsync(s.tsMs, s.values),
    ts: (s) => windowStats(s),
  },
  {
    name: 'rollingZScore',
    rust: (s) => compute.analyticsRollingZscore(s.tsMs, s.values),
    rustAsync: (s) => compute.analyticsRollingZscoreAsync(s.tsMs, s.values),
    ts: (s) => rollingZScore(s),
  },
  {
    name: 'robustZScore',
    rust: (s) => compute.analyticsRobustZscore(s.tsMs, s.values),
    rustAsync: (s) => compute.analyticsRobustZscoreAsync(s.tsMs, s.values),
    ts: (s) => robustZScore(s),
  },
  {
    name: 'ewma',
    rust: (s) => compute.analyticsEwma(s.tsMs, s.values),
    rustAsync: (s) => compute.analyticsEwmaAsync(s.tsMs, s.values),
    ts: (s) => ewma(s),
  },
  {
    name: 'downsampleBuckets',
    rust: (s) => compute.analyticsDownsampleBuckets(s.tsMs, s.values, { bucketMs: 60_000 }),
    rustAsync: (s) => compute.analyticsDownsampleBucketsAsync(s.tsMs, s.values, { bucketMs: 60_000 }),
    ts: (s) => downsampleBuckets(s, { bucketMs: 60_000 }),
  },
  {
    name: 'lttb',
    rust: (s) => compute.analyticsLttb(s.tsMs, s.values, 1000),
    rustAsync: (s) => compute.analyticsLttbAsync(s.tsMs, s.values, 1000),
    ts: (s) => lttb(s, 1000),
  },
]

/** Sensor-like readings at 1 Hz: slow drift, noise, rare spikes, 1% of timestamps out of order. */
function readings(points: number): Series {
  let state = 0x9e3779b9
  const random = () => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return (state >>> 0) / 0x1_0000_0000
  }
  const tsMs = new Float64Array(points)
  const values = new Float64Array(points)
  for (let i = 0; i < points; i++) {
    tsMs[i] = 1_700_000_000_000 + i * 1000 + (random() < 0.01 ? -1500 : 0)
    values[i] = 20 + Math.sin(i / 3600) * 5 + random() + (random() < 0.001 ? 30 : 0)
  }
  return { tsMs, values }
}

async function medianMs(run: () => unknown): Promise<number> {
  const samples: number[] = []
  const started = performance.now()
  while (samples.length < 3 || performance.now() - started < MIN_SAMPLE_MS) {
    const t0 = performance.now()
    await run()
    samples.push(performance.now() - t0)
  }
  samples.sort((a, b) => a - b)
  return samples[Math.floor(samples.length / 2)]!
}

interface Row {
  function: string
  points: number
  rustMs: number
  rustAsyncMs: number
  tsMs: number
  speedup: number
}

const rows: Row[] = []
for (const points of SIZES) {
  const series = readings(points)
  for (const c of CASES) {
    // Warm-up: JIT-compile the twin and fault in the addon's code before timing.
    c.ts(series)
    c.rust(series)
    const rustMs = await medianMs(() => c.rust(series))
    const rustAsyncMs = await medianMs(() => c.rustAsync(series))
    const tsMs = await medianMs(() => c.ts(series))
    rows.push({ function: c.name, points, rustMs, rustAsyncMs, tsMs, speedup: tsMs / rustMs })
    if (!args.json) process.stderr.write('.')
  }
}

if (args.json) {
  process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`)
} else {
  process.stderr.write('\n')
  const fmt = (ms: number) => (ms < 10 ? ms.toFixed(3) : ms.toFixed(1))
  const header = ['function', 'points', 'rust ms', 'rust async ms', 'ts ms', 'ts / rust']
  const table = rows.map((r) => [
    r.function,
    r.points.toLocaleString('en-US'),
    fmt(r.rustMs),
    fmt(r.rustAsyncMs),
    fmt(r.tsMs),
    `${r.speedup.toFixed(1)}×`,
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)))
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`
  console.log(line(header))
  console.log(`|${widths.map((w, i) => (i < 2 ? `${'-'.repeat(w + 1)}-` : `-${'-'.repeat(w)}:`)).join('|')}|`)
  for (const row of table) console.log(line(row))
  console.log(
    `\nnode ${process.version}, ${process.platform}/${process.arch}; median of ≥3 runs per cell (≥${MIN_SAMPLE_MS} ms each).`,
  )
}
