// Tests the TypeScript reference validator against the shared fixtures and, property-based, against the Rust addon.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compute } from '../../crates/factory_compute/binding.ts'
import {
  createReferenceValidator,
  parseIsoMs,
  type ValidationBatch,
} from '../../gateway/validator-reference.ts'
import {
  batchRows,
  packMessages,
  payloadBytes,
  payloadCases,
  runCaseGroups,
} from '../fixtures/payload-cases.ts'

const codeNames = compute.rejectCodes()
const NOW_MS = 1_700_000_000_000
const options = { maxReadingsPerMessage: 30, futureToleranceMs: 60_000, backfillWindowMs: 86_400_000 }
const sensors = {
  machineIds: Int32Array.of(1, 1, 1, 2),
  sensorIds: Int32Array.of(10, 11, 12, 20),
  keys: ['temp', 'rpm', 'pressure', 'temp'],
  minValues: Float64Array.of(0, Number.NaN, -5, Number.NaN),
  maxValues: Float64Array.of(100, Number.NaN, 5, 1e6),
}

function bothValidators() {
  const rust = new compute.Validator(options)
  const reference = createReferenceValidator(options)
  for (const validator of [rust, reference]) {
    validator.upsertSensors(
      sensors.machineIds,
      sensors.sensorIds,
      sensors.keys,
      sensors.minValues,
      sensors.maxValues,
    )
  }
  return { rust, reference }
}

/** Plain arrays, so that a mismatch prints readably; NaN still compares equal to NaN. */
function plain(batch: ValidationBatch) {
  return Object.fromEntries(Object.entries(batch).map(([column, values]) => [column, Array.from(values)]))
}

describe('createReferenceValidator', () => {
  it('gives exactly the expected output for every fixture case JSON.parse can read', () => {
    const cases = payloadCases.filter((testCase) => !testCase.rustOnly)
    const groups = runCaseGroups(cases, createReferenceValidator, codeNames)
    for (const group of groups)
      expect({ cases: group.names, ...group.actual }).toEqual({ cases: group.names, ...group.expected })
  })

  it('rejects the whole message as malformed where the fixture needs NaN tokens (the one known difference)', () => {
    const rustOnly = payloadCases.filter((testCase) => testCase.rustOnly)
    expect(rustOnly.length).toBeGreaterThan(0)
    for (const testCase of rustOnly) {
      const validator = createReferenceValidator(testCase.options)
      const { payloads, offsets } = packMessages([payloadBytes(testCase)])
      const batch = validator.validate(
        payloads,
        offsets,
        Int32Array.of(testCase.machineId),
        Float64Array.of(0),
        testCase.nowMs,
      )
      expect(batchRows(batch, codeNames)).toEqual({
        accepted: [],
        rejects: [
          { msgIndex: 0, code: 'PAYLOAD_JSON_MALFORMED', key: '', tsMs: Number.NaN, value: Number.NaN },
        ],
      })
    }
  })

  it('parses RFC 3339 date-times exactly as Date.parse does where both accept them', () => {
    const dates = fc.date({ min: new Date(0), max: new Date(253402300799999), noInvalidDate: true })
    fc.assert(
      fc.property(dates, (date) => {
        expect(parseIsoMs(date.toISOString())).toBe(date.getTime())
      }),
    )
    expect(parseIsoMs('2024-02-29T23:30:00.12-01:30')).toBe(Date.parse('2024-03-01T01:00:00.120Z'))
    expect(parseIsoMs('2024-02-29T23:30:00')).toBeNaN()
  })

  it('rejects invalid options naming the option', () => {
    expect(() => createReferenceValidator({ ...options, maxReadingsPerMessage: 2.5 })).toThrow(
      'maxReadingsPerMessage',
    )
    expect(() => createReferenceValidator({ ...options, backfillWindowMs: -1 })).toThrow('backfillWindowMs')
  })
})

// Random snapshots, serialised with JSON.stringify, must give identical batches from Rust and the reference.
const NON_INTEGER_KEY = fc.string({ maxLength: 8, unit: 'binary' }).map((text) => `k${text}`)
const key = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('temp', 'rpm', 'pressure') },
  { weight: 1, arbitrary: fc.constantFrom('Temp', '', '__proto__') },
  { weight: 1, arbitrary: NON_INTEGER_KEY },
)
const value = fc.oneof(
  { weight: 4, arbitrary: fc.double({ min: -10, max: 110, noNaN: true }) },
  fc.double(),
  fc.integer({ min: -200, max: 200 }),
  fc.constantFrom(
    1e308,
    -1e308,
    1.7976931348623157e308,
    5e-324,
    -5e-324,
    1e-300,
    0.1,
    1e21,
    1e22,
    123456789.12345679,
  ),
  fc.string({ maxLength: 6 }),
  fc.constantFrom('12.5', 'NaN', ''),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
)
const isoDate = fc.date({
  min: new Date(-62_167_219_200_000),
  max: new Date(253402300799999),
  noInvalidDate: true,
})
const offset = fc.oneof(
  fc.constant('Z'),
  fc
    .tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 25 }), fc.integer({ min: 0, max: 61 }))
    .map(
      ([sign, hours, minutes]) =>
        `${sign}${String(hours).padStart(2, '0')}:${String(minutes).padStart(2, '0')}`,
    ),
)
const ts = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: NOW_MS - 86_400_000, max: NOW_MS + 60_000 }) },
  fc.integer({ min: NOW_MS - 100_000_000, max: NOW_MS + 100_000 }),
  fc.double({ min: NOW_MS - 90_000_000, max: NOW_MS + 70_000, noNaN: true }),
  fc.constantFrom(
    0,
    -1,
    1e300,
    -1e300,
    1.5,
    NOW_MS + 60_000,
    NOW_MS + 60_001,
    NOW_MS - 86_400_000,
    NOW_MS - 86_400_001,
  ),
  isoDate.map((date) => date.toISOString()),
  fc.integer({ min: NOW_MS - 90_000_000, max: NOW_MS + 70_000 }).map((ms) => new Date(ms).toISOString()),
  fc
    .tuple(
      fc.integer({ min: NOW_MS - 90_000_000, max: NOW_MS + 70_000 }),
      fc.stringMatching(/^(\.\d{1,5})?$/),
      offset,
    )
    .map(([ms, fraction, zone]) => `${new Date(ms).toISOString().slice(0, 19)}${fraction}${zone}`),
  fc.constantFrom(
    '2023-02-29T00:00:00Z',
    '2024-02-29T00:00:00Z',
    '2023-11-14T22:13:10',
    'soon',
    '1700000000000',
    '',
  ),
  fc.boolean(),
  fc.constant(null),
)
const snapshot = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      { ts, values: fc.dictionary(key, value, { maxKeys: 12 }) },
      { requiredKeys: ['values'] },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record({ ts, values: value, extra: fc.jsonValue({ maxDepth: 3 }) }, { requiredKeys: [] }),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
)
const message = fc.oneof(snapshot, fc.array(snapshot, { maxLength: 6 }))

describe('Rust validator and TypeScript reference', () => {
  it('give identical batches for random snapshots serialised with JSON.stringify', () => {
    const { rust, reference } = bothValidators()
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(message, fc.constantFrom(1, 2, 3), fc.double({ min: NOW_MS - 1e8, max: NOW_MS + 1e5 })),
          {
            minLength: 1,
            maxLength: 8,
          },
        ),
        (messages) => {
          const { payloads, offsets } = packMessages(
            messages.map(([body]) => Buffer.from(JSON.stringify(body))),
          )
          const machineIds = Int32Array.from(messages, ([, machineId]) => machineId)
          const receivedMs = Float64Array.from(messages, ([, , received]) => received)
          const fromRust = rust.validate(payloads, offsets, machineIds, receivedMs, NOW_MS)
          const fromReference = reference.validate(payloads, offsets, machineIds, receivedMs, NOW_MS)
          expect(plain(fromReference)).toEqual(plain(fromRust))
        },
      ),
      { numRuns: 1000 },
    )
  })
})
