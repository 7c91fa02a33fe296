// Benchmarks the Rust validator (through the addon) against the TypeScript reference on the same batches.
// Run: node --import tsx tests/bench/validator-bench.ts
import { performance } from 'node:perf_hooks'
import { compute } from '../../crates/factory_compute/binding.ts'
import { createReferenceValidator, type TelemetryValidator } from '../../gateway/validator-reference.ts'

const READINGS_PER_SNAPSHOT = 20
const MACHINES = 100
const NOW_MS = 1_700_000_000_000
const SIZES = [1_000, 10_000, 100_000, 1_000_000]
const options = { maxReadingsPerMessage: 1000, futureToleranceMs: 60_000, backfillWindowMs: 86_400_000 }
const sensorKeys = Array.from(
  { length: READINGS_PER_SNAPSHOT },
  (_, index) => `sensor_${String(index).padStart(2, '0')}`,
)

interface Batch {
  payloads: Buffer
  offsets: Uint32Array
  machineIds: Int32Array
  receivedMs: Float64Array
}

/** One message per snapshot of 20 readings, as devices publish them; a few bad readings mixed in. */
function buildBatch(readings: number): Batch {
  const messages = Math.ceil(readings / READINGS_PER_SNAPSHOT)
  const bodies: Buffer[] = []
  const machineIds = new Int32Array(messages)
  const receivedMs = new Float64Array(messages)
  let seed = 42
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
    return seed / 2_147_483_648
  }
  for (let msg = 0; msg < messages; msg++) {
    const values: Record<string, number | string> = {}
    for (const key of sensorKeys) values[key] = Math.round(random() * 100_000) / 1000
    if (msg % 50 === 0) values[sensorKeys[3]!] = 'n/a'
    const ts = msg % 2 === 0 ? NOW_MS - 1000 - msg : new Date(NOW_MS - 2000 - msg).toISOString()
    bodies.push(Buffer.from(JSON.stringify({ ts, values })))
    machineIds[msg] = msg % MACHINES
    receivedMs[msg] = NOW_MS
  }
  const offsets = new Uint32Array(messages + 1)
  bodies.forEach((body, index) => {
    offsets[index + 1] = offsets[index]! + body.length
  })
  return { payloads: Buffer.concat(bodies), offsets, machineIds, receivedMs }
}

function register(validator: TelemetryValidator): void {
  const count = MACHINES * READINGS_PER_SNAPSHOT
  const machineIds = Int32Array.from({ length: count }, (_, index) =>
    Math.floor(index / READINGS_PER_SNAPSHOT),
  )
  const sensorIds = Int32Array.from({ length: count }, (_, index) => index + 1)
  const keys = Array.from({ length: count }, (_, index) => sensorKeys[index % READINGS_PER_SNAPSHOT]!)
  validator.upsertSensors(
    machineIds,
    sensorIds,
    keys,
    new Float64Array(count),
    new Float64Array(count).fill(100),
  )
}

/** Median wall time of `runs` calls after one warm-up call. */
function timeMs(validator: TelemetryValidator, batch: Batch, runs: number): { ms: number; accepted: number } {
  const call = () =>
    validator.validate(batch.payloads, batch.offsets, batch.machineIds, batch.receivedMs, NOW_MS)
  const accepted = call().msgIndex.length
  const samples: number[] = []
  for (let run = 0; run < runs; run++) {
    const started = performance.now()
    call()
    samples.push(performance.now() - started)
  }
  samples.sort((a, b) => a - b)
  return { ms: samples[Math.floor(samples.length / 2)]!, accepted }
}

const rust = new compute.Validator(options)
const reference = createReferenceValidator(options)
register(rust)
register(reference)

const rows = SIZES.map((readings) => {
  const batch = buildBatch(readings)
  const runs = readings >= 1_000_000 ? 5 : readings >= 100_000 ? 11 : 31
  const fromRust = timeMs(rust, batch, runs)
  const fromReference = timeMs(reference, batch, runs)
  if (fromRust.accepted !== fromReference.accepted) {
    throw new Error(
      `outputs differ at ${readings} readings: ${fromRust.accepted} vs ${fromReference.accepted} accepted`,
    )
  }
  return {
    readings,
    messages: batch.machineIds.length,
    payloadMiB: batch.payloads.length / 1024 / 1024,
    rustMs: fromRust.ms,
    referenceMs: fromReference.ms,
  }
})

console.log(
  `validator benchmark: snapshots of ${READINGS_PER_SNAPSHOT} readings, one per message, half ISO ts`,
)
console.log(`node ${process.version}, median of repeated runs after a warm-up\n`)
console.log('| readings | messages | payload MiB | Rust ms | TS ms | TS/Rust | Rust M readings/s |')
console.log('|---:|---:|---:|---:|---:|---:|---:|')
for (const row of rows) {
  console.log(
    `| ${row.readings.toLocaleString('en')} | ${row.messages.toLocaleString('en')} | ${row.payloadMiB.toFixed(2)} | ` +
      `${row.rustMs.toFixed(2)} | ${row.referenceMs.toFixed(2)} | ${(row.referenceMs / row.rustMs).toFixed(1)}x | ` +
      `${(row.readings / row.rustMs / 1000).toFixed(1)} |`,
  )
}
