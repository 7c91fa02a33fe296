// Request and response schemas: they validate requests and generate the OpenAPI document.
import { z } from '@hono/zod-openapi'

export const Id = z.coerce
  .number()
  .int()
  .positive()
  .max(Number.MAX_SAFE_INTEGER)
  .openapi({ type: 'integer', example: 1 })

export const idParam = <K extends string>(name: K) =>
  z.object({ [name]: Id.openapi({ param: { name, in: 'path' }, type: 'integer', example: 1 }) } as Record<
    K,
    typeof Id
  >)

export const EntityKey = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lowercase letters, digits, "-" and "_", 1-64 characters')
export const SensorKey = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, ".", "-" and "_", 1-64 characters')
const Name = z.string().trim().min(1).max(200)

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone })
    return true
  } catch {
    return false
  }
}
const TimeZone = z.string().refine(isTimeZone, 'an IANA time zone such as Europe/Berlin')

/** Epoch milliseconds or an ISO-8601 date-time with offset, as a query parameter. */
export const TimeParam = z
  .string()
  .openapi({ description: 'Epoch milliseconds or ISO-8601 with offset', example: '2026-11-29T00:00:00Z' })
  .transform((raw, ctx) => {
    const ms = /^-?\d{1,16}$/.test(raw)
      ? Number(raw)
      : /[zZ]|[+-]\d\d:?\d\d$/.test(raw)
        ? Date.parse(raw)
        : Number.NaN
    if (!Number.isFinite(ms)) {
      ctx.addIssue({ code: 'custom', message: 'expected epoch milliseconds or ISO-8601 with offset' })
      return z.NEVER
    }
    return ms
  })

export const Limit = (max: number, fallback: number) =>
  z.coerce.number().int().min(1).max(max).default(fallback).openapi({ type: 'integer', example: fallback })

export const Factory = z
  .object({
    id: z.number().int(),
    key: z.string(),
    name: z.string(),
    timezone: z.string(),
    createdMs: z.number().int(),
    updatedMs: z.number().int(),
  })
  .openapi('Factory')

export const FactoryCreate = z
  .object({ key: EntityKey, name: Name, timezone: TimeZone.optional() })
  .strict()
  .openapi('FactoryCreate', { example: { key: 'plant-1', name: 'Plant 1', timezone: 'Europe/Berlin' } })
export const FactoryPatch = z
  .object({ name: Name.optional(), timezone: TimeZone.optional() })
  .strict()
  .openapi('FactoryPatch')

export const Machine = z
  .object({
    id: z.number().int(),
    factoryId: z.number().int(),
    key: z.string(),
    name: z.string(),
    autoRegisterSensors: z.boolean(),
    status: z.enum(['unknown', 'online', 'offline']),
    statusSinceMs: z.number().int().nullable(),
    clientId: z.string().openapi({ description: 'MQTT client id and user name of this machine' }),
    telemetryTopic: z.string(),
    createdMs: z.number().int(),
    updatedMs: z.number().int(),
  })
  .openapi('Machine')

export const MachineCreate = z
  .object({ key: EntityKey, name: Name, autoRegisterSensors: z.boolean().optional() })
  .strict()
  .openapi('MachineCreate', { example: { key: 'press-7', name: 'Press 7' } })
export const MachinePatch = z
  .object({ name: Name.optional(), autoRegisterSensors: z.boolean().optional() })
  .strict()
  .openapi('MachinePatch')

export const Credential = z
  .object({
    machineId: z.number().int(),
    clientId: z.string(),
    username: z.string(),
    password: z.string().openapi({ description: 'Shown only in this response; store it on the device.' }),
    telemetryTopic: z.string(),
    statusTopic: z.string(),
  })
  .openapi('DeviceCredential')

const Bound = z.number().finite().nullable()
export const Sensor = z
  .object({
    id: z.number().int(),
    machineId: z.number().int(),
    key: z.string(),
    name: z.string(),
    unit: z.string(),
    kind: z.string(),
    minValue: z.number().nullable(),
    maxValue: z.number().nullable(),
    resolution: z.number().nullable(),
    expectedIntervalMs: z.number().int().nullable(),
    createdMs: z.number().int(),
    updatedMs: z.number().int(),
  })
  .openapi('Sensor')

const sensorFields = {
  name: Name,
  unit: z.string().max(32).optional(),
  kind: z
    .string()
    .regex(/^[a-z0-9_-]{1,32}$/)
    .optional()
    .openapi({ example: 'temperature' }),
  minValue: Bound.optional(),
  maxValue: Bound.optional(),
  resolution: z.number().finite().positive().nullable().optional(),
  expectedIntervalMs: z.number().int().positive().max(86_400_000).nullable().optional(),
}
const boundsOrdered = (s: { minValue?: number | null; maxValue?: number | null }) =>
  s.minValue == null || s.maxValue == null || s.minValue <= s.maxValue
export const SensorCreate = z
  .object({ key: SensorKey, ...sensorFields })
  .strict()
  .refine(boundsOrdered, { message: 'minValue must not exceed maxValue', path: ['minValue'] })
  .openapi('SensorCreate', {
    example: {
      key: 'spindle_temp',
      name: 'Spindle temperature',
      unit: '°C',
      kind: 'temperature',
      minValue: -40,
      maxValue: 200,
      resolution: 0.01,
      expectedIntervalMs: 1000,
    },
  })
export const SensorPatch = z
  .object({ ...sensorFields, name: Name.optional() })
  .strict()
  .refine(boundsOrdered, { message: 'minValue must not exceed maxValue', path: ['minValue'] })
  .openapi('SensorPatch')

export const Reading = z.object({ tsMs: z.number().int(), value: z.number() }).openapi('Reading')
export const LatestReading = z
  .object({
    sensorId: z.number().int(),
    key: z.string(),
    unit: z.string(),
    tsMs: z.number().int(),
    value: z.number(),
  })
  .openapi('LatestReading')

export const Reject = z
  .object({
    id: z.number().int(),
    receivedMs: z.number().int(),
    machineId: z.number().int().nullable(),
    clientId: z.string(),
    topic: z.string(),
    reason: z.string().openapi({ example: 'READING_VALUE_OUT_OF_RANGE' }),
    sensorKey: z.string().nullable(),
    detail: z.string(),
    payload: z.string(),
    payloadEncoding: z.enum(['utf8', 'base64']),
    payloadTruncated: z.boolean(),
  })
  .openapi('Reject')

export const ApiToken = z
  .object({
    id: z.number().int(),
    name: z.string(),
    scope: z.enum(['admin', 'read']),
    createdMs: z.number().int(),
    revokedMs: z.number().int().nullable(),
  })
  .openapi('ApiToken')
export const TokenCreate = z
  .object({ name: Name, scope: z.enum(['admin', 'read']) })
  .strict()
  .openapi('TokenCreate', { example: { name: 'dashboard wall screen', scope: 'read' } })
