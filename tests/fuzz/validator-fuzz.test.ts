// 1,000,000 random and mutated payloads through the napi validator boundary, 10,000 per call: no abort, sane output.
import { describe, expect, it } from 'vitest'
import { compute } from '../../crates/factory_compute/binding.ts'
import { createRandom, type Random } from './mqtt-frames.ts'

const MESSAGES = Number(process.env['FUZZ_VALIDATOR_MESSAGES'] ?? 1_000_000)
const PER_CALL = 10_000
const SEED = Number(process.env['FUZZ_SEED'] ?? 7_777)
const NOW_MS = Date.now()

const KEYS = ['temp', 'rpm', '__proto__', 'constructor', 'é', '']
const VALUES = [
  '1',
  '-0',
  '1e308',
  '1e400',
  '-1e400',
  'NaN',
  'Infinity',
  'true',
  'null',
  '"12.5"',
  '[]',
  '{}',
  '0x10',
  '1.',
]
const TIMES = [
  `${NOW_MS}`,
  '-1',
  '1e30',
  '"2026-01-01T00:00:00Z"',
  '"not a date"',
  '9007199254740993',
  'null',
  '{}',
]

function snapshot(r: Random): string {
  const values = Array.from(
    { length: r.int(5) },
    () => `${JSON.stringify(r.pick(KEYS))}:${r.pick(VALUES)}`,
  ).join(',')
  return r.next() < 0.2 ? `{"values":{${values}}}` : `{"ts":${r.pick(TIMES)},"values":{${values}}}`
}

function payload(r: Random): Uint8Array {
  const roll = r.next()
  if (roll < 0.3) return Buffer.from(snapshot(r))
  if (roll < 0.45) return Buffer.from(`[${Array.from({ length: r.int(4) }, () => snapshot(r)).join(',')}]`)
  if (roll < 0.6) {
    // Mutate a valid snapshot: flip, cut or splice bytes (and so make invalid UTF-8).
    const bytes = Buffer.from(snapshot(r))
    for (let i = 0; i < 1 + r.int(3); i++) if (bytes.length > 0) bytes[r.int(bytes.length)] = r.int(256)
    return r.next() < 0.5 ? bytes : bytes.subarray(0, r.int(bytes.length + 1))
  }
  if (roll < 0.65) {
    const depth = 1 + r.int(200)
    return Buffer.from(`${'['.repeat(depth)}${']'.repeat(r.int(depth + 1))}`)
  }
  if (roll < 0.7) return Buffer.from(`{"values":{"temp":${'9'.repeat(1 + r.int(400))}}}`)
  if (roll < 0.75) return Buffer.alloc(0)
  return r.bytes(r.int(64))
}

describe('validator fuzzing', () => {
  it(`judges ${MESSAGES} hostile payloads without aborting, one verdict per reading`, () => {
    const validator = new compute.Validator({
      maxReadingsPerMessage: 1000,
      futureToleranceMs: 300_000,
      backfillWindowMs: 7 * 86_400_000,
    })
    validator.upsertSensors(
      Int32Array.of(1, 1, 1, 1),
      Int32Array.of(10, 11, 12, 13),
      ['temp', 'rpm', '__proto__', 'constructor'],
      Float64Array.of(-50, Number.NaN, Number.NaN, Number.NaN),
      Float64Array.of(500, Number.NaN, Number.NaN, Number.NaN),
    )
    const r = createRandom(SEED)
    let accepted = 0
    let rejected = 0
    for (let done = 0; done < MESSAGES; done += PER_CALL) {
      const parts = Array.from({ length: PER_CALL }, () => payload(r))
      const offsets = new Uint32Array(PER_CALL + 1)
      for (let i = 0; i < PER_CALL; i++) offsets[i + 1] = offsets[i]! + parts[i]!.length
      const machineIds = Int32Array.from({ length: PER_CALL }, () => (r.next() < 0.9 ? 1 : r.int(3)))
      const receivedMs = new Float64Array(PER_CALL).fill(NOW_MS)
      const out = validator.validate(Buffer.concat(parts), offsets, machineIds, receivedMs, NOW_MS)
      // Every accepted reading points at a real message, is finite and belongs to a registered sensor.
      expect(out.msgIndex.length).toBe(out.sensorId.length)
      expect(out.rejectCode.length).toBe(out.rejectMsgIndex.length)
      expect(out.msgIndex.every((m) => m < PER_CALL)).toBe(true)
      expect(out.value.every((v) => Number.isFinite(v))).toBe(true)
      expect(out.sensorId.every((s) => s >= 10 && s <= 13)).toBe(true)
      accepted += out.sensorId.length
      rejected += out.rejectCode.length
    }
    expect(accepted).toBeGreaterThan(0)
    expect(rejected).toBeGreaterThan(0)
  }, 120_000)
})
