// Tests the Rust telemetry validator through the Node-API addon: shared fixtures, argument checks, panics, fuzzing.
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compute } from '../../crates/factory_compute/binding.ts'
import { packMessages, payloadBytes, payloadCases, runCaseGroups } from '../fixtures/payload-cases.ts'

const codeNames = compute.rejectCodes()
const options = { maxReadingsPerMessage: 100, futureToleranceMs: 5000, backfillWindowMs: 86_400_000 }

function newValidator() {
  return new compute.Validator(options)
}

describe('Validator (Rust addon)', () => {
  it('gives exactly the expected output for every fixture case, validated in batches', () => {
    const groups = runCaseGroups(payloadCases, (caseOptions) => new compute.Validator(caseOptions), codeNames)
    expect(groups.length).toBeLessThan(payloadCases.length / 4)
    for (const group of groups)
      expect({ cases: group.names, ...group.actual }).toEqual({ cases: group.names, ...group.expected })
  })

  it('lists reject codes by numeric value, with 0 unused', () => {
    expect(codeNames).toEqual([
      'OK',
      'PAYLOAD_JSON_MALFORMED',
      'PAYLOAD_SHAPE_INVALID',
      'PAYLOAD_BATCH_TOO_LARGE',
      'READING_TS_INVALID',
      'READING_TS_IN_FUTURE',
      'READING_TS_TOO_OLD',
      'READING_VALUE_NOT_NUMBER',
      'READING_VALUE_IS_STRING',
      'READING_VALUE_NOT_FINITE',
      'READING_SENSOR_UNKNOWN',
      'READING_VALUE_OUT_OF_RANGE',
    ])
  })

  it('documents every reject code in docs/protocol.md', () => {
    const protocol = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8')
    const undocumented = codeNames.slice(1).filter((name) => !protocol.includes(`| \`${name}\``))
    expect(undocumented).toEqual([])
  })

  it('returns the whole batch shape with details, NaN where a ts or value does not apply', () => {
    const validator = newValidator()
    validator.upsertSensors(
      Int32Array.of(1),
      Int32Array.of(10),
      ['temp'],
      Float64Array.of(0),
      Float64Array.of(100),
    )
    const { payloads, offsets } = packMessages([
      Buffer.from('{"ts":1000,"values":{"temp":12.5,"temp2":true}}'),
      Buffer.from('[1]'),
      Buffer.from('{"values":'),
    ])
    const batch = validator.validate(
      payloads,
      offsets,
      Int32Array.of(1, 1, 1),
      Float64Array.of(0, 0, 0),
      2000,
    )
    expect(batch).toEqual({
      msgIndex: Uint32Array.of(0),
      sensorId: Int32Array.of(10),
      tsMs: Float64Array.of(1000),
      value: Float64Array.of(12.5),
      rejectMsgIndex: Uint32Array.of(0, 1, 2),
      rejectCode: Uint8Array.of(
        codeNames.indexOf('READING_VALUE_NOT_NUMBER'),
        codeNames.indexOf('PAYLOAD_SHAPE_INVALID'),
        codeNames.indexOf('PAYLOAD_JSON_MALFORMED'),
      ),
      rejectKey: ['temp2', '', ''],
      rejectDetail: [
        'value is a boolean',
        'snapshot 0 is not an object',
        'unexpected end of input at byte 10',
      ],
      rejectTsMs: Float64Array.of(1000, Number.NaN, Number.NaN),
      rejectValue: Float64Array.of(Number.NaN, Number.NaN, Number.NaN),
    })
  })

  it('replaces a sensor upserted again with the same id and forgets removed sensors', () => {
    const validator = newValidator()
    const nan = Float64Array.of(Number.NaN)
    validator.upsertSensors(Int32Array.of(1), Int32Array.of(10), ['temp'], nan, nan)
    validator.upsertSensors(Int32Array.of(1), Int32Array.of(10), ['temperature'], nan, nan)
    validator.upsertSensors(Int32Array.of(1), Int32Array.of(11), ['rpm'], nan, nan)
    validator.removeSensors(Int32Array.of(11, 999))
    expect(validator.sensorCount).toBe(1)
    const { payloads, offsets } = packMessages([Buffer.from('{"values":{"temp":1,"temperature":2,"rpm":3}}')])
    const batch = validator.validate(payloads, offsets, Int32Array.of(1), Float64Array.of(500), 1000)
    expect([Array.from(batch.sensorId), batch.rejectKey]).toEqual([[10], ['temp', 'rpm']])
  })

  it('accepts a Uint8Array view into a larger buffer as payloads', () => {
    const validator = newValidator()
    validator.upsertSensors(
      Int32Array.of(1),
      Int32Array.of(10),
      ['t'],
      Float64Array.of(0),
      Float64Array.of(9),
    )
    const body = Buffer.from('xx{"values":{"t":1}}yy')
    const view = new Uint8Array(body.buffer, body.byteOffset + 2, body.length - 4)
    const batch = validator.validate(
      view,
      Uint32Array.of(0, view.length),
      Int32Array.of(1),
      Float64Array.of(7),
      7,
    )
    expect([Array.from(batch.sensorId), Array.from(batch.tsMs)]).toEqual([[10], [7]])
  })

  it('rejects invalid options with an InvalidArg error naming the option', () => {
    const attempt = (overrides: Partial<typeof options>) => () =>
      new compute.Validator({ ...options, ...overrides })
    expect(attempt({ maxReadingsPerMessage: -1 })).toThrow(
      expect.objectContaining({
        code: 'InvalidArg',
        message: expect.stringContaining('maxReadingsPerMessage'),
      }),
    )
    expect(attempt({ maxReadingsPerMessage: 1.5 })).toThrow(expect.objectContaining({ code: 'InvalidArg' }))
    expect(attempt({ futureToleranceMs: Number.NaN })).toThrow(
      expect.objectContaining({ code: 'InvalidArg', message: expect.stringContaining('futureToleranceMs') }),
    )
    expect(attempt({ backfillWindowMs: -5 })).toThrow(
      expect.objectContaining({ code: 'InvalidArg', message: expect.stringContaining('backfillWindowMs') }),
    )
  })

  it('rejects inconsistent batch arguments with an InvalidArg error instead of reading out of bounds', () => {
    const validator = newValidator()
    const payloads = Buffer.from('{"values":{}}')
    const call =
      (offsets: Uint32Array, machineIds: Int32Array, receivedMs: Float64Array, nowMs = 0) =>
      () =>
        validator.validate(payloads, offsets, machineIds, receivedMs, nowMs)
    const invalidArg = expect.objectContaining({ code: 'InvalidArg' })
    expect(call(Uint32Array.of(0), Int32Array.of(1), Float64Array.of(0))).toThrow(invalidArg)
    expect(call(Uint32Array.of(0, 99), Int32Array.of(1), Float64Array.of(0))).toThrow(invalidArg)
    expect(call(Uint32Array.of(5, 2), Int32Array.of(1), Float64Array.of(0))).toThrow(invalidArg)
    expect(call(Uint32Array.of(0, 13), Int32Array.of(1), Float64Array.of())).toThrow(invalidArg)
    expect(call(Uint32Array.of(0, 13), Int32Array.of(1), Float64Array.of(0), Number.NaN)).toThrow(invalidArg)
    const mismatched = () =>
      validator.upsertSensors(
        Int32Array.of(1, 2),
        Int32Array.of(1),
        ['a'],
        Float64Array.of(0),
        Float64Array.of(0),
      )
    expect(mismatched).toThrow(invalidArg)
  })

  it('turns a Rust panic into a JS error instead of aborting the process', () => {
    expect(() => compute.validatorSelfTestPanic()).toThrow(
      expect.objectContaining({
        code: 'GenericFailure',
        message: 'validatorSelfTestPanic: deliberate panic',
      }),
    )
  })

  it('gives every message either readings and per-reading rejects or exactly one message-level reject, for any bytes', () => {
    const validator = newValidator()
    const nan = Float64Array.of(Number.NaN, Number.NaN)
    validator.upsertSensors(Int32Array.of(7, 7), Int32Array.of(101, 102), ['temp', 'rpm'], nan, nan)
    const seeds = payloadCases.map(payloadBytes)
    // Random bytes, and fixture payloads with bytes overwritten or cut short.
    const mutated = fc
      .tuple(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(),
      )
      .map(([seed, edits, cut]) => {
        const bytes = Uint8Array.from(seed)
        for (const [at, byte] of edits) if (bytes.length > 0) bytes[at % bytes.length] = byte
        return bytes.subarray(0, bytes.length === 0 ? 0 : cut % (bytes.length + 1))
      })
    const message = fc.oneof(fc.uint8Array({ maxLength: 64 }), mutated)
    const messageLevel = new Set(
      ['PAYLOAD_JSON_MALFORMED', 'PAYLOAD_BATCH_TOO_LARGE'].map((name) => codeNames.indexOf(name)),
    )
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 8 }), (bodies) => {
        const { payloads, offsets } = packMessages(bodies)
        const count = bodies.length
        const batch = validator.validate(
          payloads,
          offsets,
          new Int32Array(count).fill(7),
          new Float64Array(count),
          0,
        )
        for (let msg = 0; msg < count; msg++) {
          const rejectRows = [...batch.rejectMsgIndex.keys()].filter(
            (row) => batch.rejectMsgIndex[row] === msg,
          )
          const accepted = batch.msgIndex.filter((index) => index === msg).length
          const hasMessageLevel = rejectRows.some((row) => messageLevel.has(batch.rejectCode[row]!))
          if (hasMessageLevel)
            expect([rejectRows.length, accepted, batch.rejectKey[rejectRows[0]!]]).toEqual([1, 0, ''])
        }
        expect(batch.msgIndex.every((index) => index < count)).toBe(true)
        expect(batch.rejectCode.every((code) => code > 0 && code < codeNames.length)).toBe(true)
      }),
      { numRuns: 500 },
    )
  })
})
