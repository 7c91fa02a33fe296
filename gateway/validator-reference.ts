// Reference telemetry validator in plain TypeScript (JSON.parse + checks): the Rust addon's contract, the benchmark baseline.
//
// Known differences from the Rust validator, both caused by JSON.parse:
// - The tokens NaN, Infinity and -Infinity are not JSON, so a message holding one is rejected whole
//   with PAYLOAD_JSON_MALFORMED instead of rejecting that reading alone (fixtures mark these `rustOnly`).
// - Objects list integer-like keys ("0", "17") first in ascending order, so readings with such sensor
//   keys come out in a different order than the payload's.
// The detail text of PAYLOAD_JSON_MALFORMED differs too (it is JSON.parse's message); every other
// column, including the other details, is identical.
import { compute } from '../crates/factory_compute/binding.ts'
import type { ValidationBatch, ValidatorOptions } from '../crates/factory_compute/index.js'

export type { ValidationBatch, ValidatorOptions }

/** The validator surface shared by the addon's `Validator` and the reference. */
export interface TelemetryValidator {
  upsertSensors(
    machineIds: Int32Array,
    sensorIds: Int32Array,
    keys: string[],
    minValues: Float64Array,
    maxValues: Float64Array,
  ): void
  removeSensors(sensorIds: Int32Array): void
  validate(
    payloads: Uint8Array,
    offsets: Uint32Array,
    machineIds: Int32Array,
    receivedMs: Float64Array,
    nowMs: number,
  ): ValidationBatch
}

const MAX_DEPTH = 32

// Codes are declared once, in Rust; the reference only looks their numbers up by name.
const codeNames = compute.rejectCodes()
function codeOf(name: string): number {
  const code = codeNames.indexOf(name)
  if (code <= 0) throw new Error(`reject code ${name} is not declared by the addon`)
  return code
}
const CODE = {
  malformed: codeOf('PAYLOAD_JSON_MALFORMED'),
  shape: codeOf('PAYLOAD_SHAPE_INVALID'),
  tooLarge: codeOf('PAYLOAD_BATCH_TOO_LARGE'),
  tsInvalid: codeOf('READING_TS_INVALID'),
  tsInFuture: codeOf('READING_TS_IN_FUTURE'),
  tsTooOld: codeOf('READING_TS_TOO_OLD'),
  notNumber: codeOf('READING_VALUE_NOT_NUMBER'),
  isString: codeOf('READING_VALUE_IS_STRING'),
  notFinite: codeOf('READING_VALUE_NOT_FINITE'),
  sensorUnknown: codeOf('READING_SENSOR_UNKNOWN'),
  outOfRange: codeOf('READING_VALUE_OUT_OF_RANGE'),
} as const

const TS_INVALID_DETAIL = 'ts is neither a finite number nor an ISO-8601 date-time with offset'

interface SensorBounds {
  sensorId: number
  minValue: number
  maxValue: number
}

type JsonObject = Record<string, unknown>

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

// Rust strings cannot hold lone surrogates; both sides turn them into U+FFFD.
function toWellFormed(text: string): string {
  return (text as string & { toWellFormed(): string }).toWellFormed()
}

/** Creates a reference validator with the addon's options and methods. */
export function createReferenceValidator(options: ValidatorOptions): TelemetryValidator {
  const { maxReadingsPerMessage, futureToleranceMs, backfillWindowMs } = options
  if (!Number.isInteger(maxReadingsPerMessage) || maxReadingsPerMessage < 0) {
    throw new Error(`maxReadingsPerMessage must be an integer >= 0, got ${maxReadingsPerMessage}`)
  }
  for (const [name, value] of [
    ['futureToleranceMs', futureToleranceMs],
    ['backfillWindowMs', backfillWindowMs],
  ] as const) {
    if (Number.isNaN(value) || value < 0) throw new Error(`${name} must be a number >= 0, got ${value}`)
  }
  const byMachine = new Map<number, Map<string, SensorBounds>>()
  const byId = new Map<number, { machineId: number; key: string }>()
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

  function removeSensor(sensorId: number): void {
    const held = byId.get(sensorId)
    if (!held) return
    byId.delete(sensorId)
    byMachine.get(held.machineId)?.delete(held.key)
  }

  function upsertSensors(
    machineIds: Int32Array,
    sensorIds: Int32Array,
    keys: string[],
    minValues: Float64Array,
    maxValues: Float64Array,
  ): void {
    for (let i = 0; i < sensorIds.length; i++) {
      const machineId = machineIds[i]!
      const sensorId = sensorIds[i]!
      const key = toWellFormed(keys[i]!)
      removeSensor(sensorId)
      const sensors = byMachine.get(machineId) ?? new Map<string, SensorBounds>()
      byMachine.set(machineId, sensors)
      const previous = sensors.get(key)
      if (previous) byId.delete(previous.sensorId)
      sensors.set(key, { sensorId, minValue: minValues[i]!, maxValue: maxValues[i]! })
      byId.set(sensorId, { machineId, key })
    }
  }

  function removeSensors(sensorIds: Int32Array): void {
    for (const sensorId of sensorIds) removeSensor(sensorId)
  }

  function validate(
    payloads: Uint8Array,
    offsets: Uint32Array,
    machineIds: Int32Array,
    receivedMs: Float64Array,
    nowMs: number,
  ): ValidationBatch {
    const out = createColumns()
    const futureLimitMs = nowMs + futureToleranceMs
    const pastLimitMs = nowMs - backfillWindowMs
    for (let msg = 0; msg < machineIds.length; msg++) {
      const machineId = machineIds[msg]!
      const sensors = byMachine.get(machineId)
      const messageReject = (code: number, detail: string) =>
        out.reject(msg, code, '', detail, Number.NaN, Number.NaN)
      let document: unknown
      try {
        document = JSON.parse(decoder.decode(payloads.subarray(offsets[msg], offsets[msg + 1])))
      } catch (error) {
        messageReject(CODE.malformed, error instanceof TypeError ? 'invalid UTF-8' : String(error))
        continue
      }
      if (!withinDepth(document, 1)) {
        messageReject(CODE.malformed, `nesting deeper than ${MAX_DEPTH}`)
        continue
      }
      if (typeof document !== 'object' || document === null) {
        messageReject(CODE.shape, 'top-level JSON value is not an object or an array')
        continue
      }
      const snapshots: unknown[] = Array.isArray(document) ? document : [document]
      let readings = 0
      for (const snapshot of snapshots) {
        if (isObject(snapshot) && isObject(snapshot['values']))
          readings += Object.keys(snapshot['values']).length
      }
      if (readings > maxReadingsPerMessage) {
        messageReject(
          CODE.tooLarge,
          `more than ${maxReadingsPerMessage} readings in one message (maxReadingsPerMessage)`,
        )
        continue
      }
      for (let index = 0; index < snapshots.length; index++) {
        const snapshot = snapshots[index]
        if (!isObject(snapshot)) {
          messageReject(CODE.shape, `snapshot ${index} is not an object`)
          continue
        }
        const values = Object.hasOwn(snapshot, 'values') ? snapshot['values'] : undefined
        if (!isObject(values)) {
          messageReject(CODE.shape, `snapshot ${index} has no values object`)
          continue
        }
        const tsMs = resolveTsMs(snapshot, receivedMs[msg]!)
        for (const rawKey in values) {
          const value = values[rawKey]
          const key = toWellFormed(rawKey)
          const number = typeof value === 'number' ? value : Number.NaN
          const reject = (code: number, detail: string) => out.reject(msg, code, key, detail, tsMs, number)
          if (Number.isNaN(tsMs)) reject(CODE.tsInvalid, TS_INVALID_DETAIL)
          else if (tsMs > futureLimitMs) reject(CODE.tsInFuture, 'ts is after nowMs + futureToleranceMs')
          else if (tsMs < pastLimitMs) reject(CODE.tsTooOld, 'ts is before nowMs - backfillWindowMs')
          else if (typeof value === 'string') reject(CODE.isString, 'value is a string')
          else if (typeof value !== 'number') reject(CODE.notNumber, `value is ${kindOf(value)}`)
          else if (!Number.isFinite(value)) reject(CODE.notFinite, 'value is not finite')
          else {
            const bounds = sensors?.get(key)
            if (!bounds) {
              reject(CODE.sensorUnknown, `sensor key is not registered for machine ${machineId}`)
            } else if (value < bounds.minValue || value > bounds.maxValue) {
              reject(CODE.outOfRange, "value is outside the sensor's [minValue, maxValue]")
            } else {
              out.accept(msg, bounds.sensorId, tsMs, value)
            }
          }
        }
      }
    }
    return out.finish()
  }

  return { upsertSensors, removeSensors, validate }
}

/** Epoch ms of a snapshot, NaN when its ts is invalid. */
function resolveTsMs(snapshot: JsonObject, receivedMs: number): number {
  if (!Object.hasOwn(snapshot, 'ts')) return Number.isFinite(receivedMs) ? Math.floor(receivedMs) : Number.NaN
  const ts = snapshot['ts']
  if (typeof ts === 'number') return Number.isFinite(ts) ? Math.floor(ts) : Number.NaN
  if (typeof ts === 'string') return parseIsoMs(ts)
  return Number.NaN
}

function kindOf(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'boolean') return 'a boolean'
  return Array.isArray(value) ? 'an array' : 'an object'
}

/** Whether no container below `value` (itself at `depth`) nests deeper than MAX_DEPTH. */
function withinDepth(value: unknown, depth: number): boolean {
  if (typeof value !== 'object' || value === null) return true
  if (depth > MAX_DEPTH) return false
  for (const child of Array.isArray(value) ? value : Object.values(value)) {
    if (!withinDepth(child, depth + 1)) return false
  }
  return true
}

const ISO_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/** RFC 3339 date-time with offset to epoch ms (fraction floored to ms), NaN when invalid; same rules as Rust. */
export function parseIsoMs(text: string): number {
  const match = ISO_PATTERN.exec(text)
  if (!match) return Number.NaN
  const [, y, mo, d, h, mi, s, fraction, sign, oh, om] = match
  const year = Number(y)
  const month = Number(mo)
  const day = Number(d)
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  const monthDays = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]
  if (monthDays === undefined || day < 1 || day > monthDays) return Number.NaN
  const hour = Number(h)
  const minute = Number(mi)
  const second = Number(s)
  if (hour > 23 || minute > 59 || second > 59) return Number.NaN
  let offsetMinutes = 0
  if (sign !== undefined) {
    const offsetHour = Number(oh)
    const offsetMinute = Number(om)
    if (offsetHour > 23 || offsetMinute > 59) return Number.NaN
    offsetMinutes = (sign === '-' ? -1 : 1) * (offsetHour * 60 + offsetMinute)
  }
  const millis = fraction === undefined ? 0 : Number(`${fraction}00`.slice(0, 3))
  return (
    daysFromCivil(year, month, day) * 86_400_000 +
    hour * 3_600_000 +
    minute * 60_000 +
    second * 1000 +
    millis -
    offsetMinutes * 60_000
  )
}

// H. Hinnant's days_from_civil, as in the Rust core; Date.UTC maps years 0-99 to 1900-1999.
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yearOfEra = y - era * 400
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear
  return era * 146_097 + dayOfEra - 719_468
}

/** Growable output columns, turned into typed arrays once at the end. */
function createColumns() {
  const msgIndex: number[] = []
  const sensorId: number[] = []
  const tsMs: number[] = []
  const value: number[] = []
  const rejectMsgIndex: number[] = []
  const rejectCode: number[] = []
  const rejectKey: string[] = []
  const rejectDetail: string[] = []
  const rejectTsMs: number[] = []
  const rejectValue: number[] = []
  return {
    accept(msg: number, sensor: number, ts: number, reading: number): void {
      msgIndex.push(msg)
      sensorId.push(sensor)
      tsMs.push(ts)
      value.push(reading)
    },
    reject(msg: number, code: number, key: string, detail: string, ts: number, reading: number): void {
      rejectMsgIndex.push(msg)
      rejectCode.push(code)
      rejectKey.push(key)
      rejectDetail.push(detail)
      rejectTsMs.push(ts)
      rejectValue.push(reading)
    },
    finish(): ValidationBatch {
      return {
        msgIndex: Uint32Array.from(msgIndex),
        sensorId: Int32Array.from(sensorId),
        tsMs: Float64Array.from(tsMs),
        value: Float64Array.from(value),
        rejectMsgIndex: Uint32Array.from(rejectMsgIndex),
        rejectCode: Uint8Array.from(rejectCode),
        rejectKey,
        rejectDetail,
        rejectTsMs: Float64Array.from(rejectTsMs),
        rejectValue: Float64Array.from(rejectValue),
      }
    },
  }
}
