// Request and response schemas of alert rules, alerts, webhooks and jobs.
import { z } from '@hono/zod-openapi'
import { ALERT_SEVERITIES, ALERT_STATES } from '../../db/index.ts'

const BodyId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER)
const Name = z.string().trim().min(1).max(200)
const Severity = z.enum(ALERT_SEVERITIES)
const DAY_MS = 86_400_000

const above = z
  .object({
    type: z.literal('above'),
    threshold: z.number(),
    clearThreshold: z
      .number()
      .optional()
      .openapi({ description: 'Clears at or below this; default threshold' }),
  })
  .strict()
  .refine((c) => c.clearThreshold === undefined || c.clearThreshold <= c.threshold, {
    message: 'clearThreshold must not exceed threshold',
    path: ['clearThreshold'],
  })
const below = z
  .object({
    type: z.literal('below'),
    threshold: z.number(),
    clearThreshold: z
      .number()
      .optional()
      .openapi({ description: 'Clears at or above this; default threshold' }),
  })
  .strict()
  .refine((c) => c.clearThreshold === undefined || c.clearThreshold >= c.threshold, {
    message: 'clearThreshold must not be below threshold',
    path: ['clearThreshold'],
  })
const outside = z
  .object({
    type: z.literal('outside'),
    low: z.number(),
    high: z.number(),
    clearLow: z.number().optional(),
    clearHigh: z.number().optional(),
  })
  .strict()
  .refine((c) => c.low <= c.high, { message: 'low must not exceed high', path: ['low'] })
  .refine((c) => (c.clearLow ?? c.low) >= c.low && (c.clearHigh ?? c.high) <= c.high, {
    message: 'the clear band must lie within [low, high]',
    path: ['clearLow'],
  })
  .refine((c) => (c.clearLow ?? c.low) <= (c.clearHigh ?? c.high), {
    message: 'clearLow must not exceed clearHigh',
    path: ['clearLow'],
  })
const rate = z
  .object({
    type: z.literal('rate'),
    windowMs: z.number().int().min(1).max(DAY_MS),
    limitPerSecond: z.number().positive(),
    clearLimitPerSecond: z.number().min(0).optional(),
  })
  .strict()
  .refine((c) => c.clearLimitPerSecond === undefined || c.clearLimitPerSecond <= c.limitPerSecond, {
    message: 'clearLimitPerSecond must not exceed limitPerSecond',
    path: ['clearLimitPerSecond'],
  })
const anomaly = z
  .object({
    type: z.literal('anomaly'),
    windowReadings: z.number().int().min(8).max(10_000).optional(),
    threshold: z.number().positive().optional(),
    clearThreshold: z.number().positive().optional(),
  })
  .strict()
  .refine((c) => c.clearThreshold === undefined || c.clearThreshold <= (c.threshold ?? 3.5), {
    message: 'clearThreshold must not exceed threshold',
    path: ['clearThreshold'],
  })
const stale = z
  .object({
    type: z.literal('stale'),
    factor: z
      .number()
      .min(1)
      .max(1000)
      .optional()
      .openapi({ description: 'Times expectedIntervalMs; default 3' }),
    afterMs: z
      .number()
      .int()
      .min(1)
      .max(30 * DAY_MS)
      .optional(),
  })
  .strict()

export const AlertCondition = z
  .discriminatedUnion('type', [above, below, outside, rate, anomaly, stale])
  .openapi('AlertCondition', { example: { type: 'above', threshold: 90, clearThreshold: 85 } })

const ruleShape = {
  name: Name,
  scope: z.enum(['sensor', 'machine', 'factory']),
  sensorId: BodyId.nullable().optional(),
  machineId: BodyId.nullable().optional(),
  factoryId: BodyId.nullable().optional(),
  sensorKind: z
    .string()
    .regex(/^[a-z0-9_-]{1,32}$/)
    .nullable()
    .optional()
    .openapi({ description: 'Machine/factory scope: only sensors of this kind; absent: all' }),
  condition: AlertCondition,
  forDurationMs: z
    .number()
    .int()
    .min(0)
    .max(7 * DAY_MS)
    .optional(),
  forReadings: z.number().int().min(0).max(100_000).optional(),
  severity: Severity,
  messageTemplate: z.string().min(1).max(500).optional().openapi({
    description:
      'Placeholders: {sensor} {sensorKey} {machine} {machineKey} {factory} {factoryKey} {value} {unit} {rule} {severity}',
  }),
  enabled: z.boolean().optional(),
}

export const DEFAULT_MESSAGE_TEMPLATE = '{sensor} on {machine} is {value} {unit}'

const scopeMatches = (r: {
  scope: string
  sensorId?: number | null
  machineId?: number | null
  factoryId?: number | null
}) =>
  r.scope === 'sensor'
    ? r.sensorId != null
    : r.scope === 'machine'
      ? r.machineId != null
      : r.factoryId != null

export const AlertRuleCreate = z
  .object(ruleShape)
  .strict()
  .refine(scopeMatches, { message: 'scope needs its id: sensorId, machineId or factoryId', path: ['scope'] })
  .openapi('AlertRuleCreate', {
    example: {
      name: 'Spindle too hot',
      scope: 'sensor',
      sensorId: 1,
      condition: { type: 'above', threshold: 90, clearThreshold: 85 },
      forDurationMs: 10_000,
      severity: 'major',
      messageTemplate: '{sensor} on {machine} is {value} {unit}',
    },
  })
export type AlertRuleCreate = z.infer<typeof AlertRuleCreate>

export const AlertRulePatch = z
  .object({
    ...ruleShape,
    name: Name.optional(),
    scope: ruleShape.scope.optional(),
    condition: AlertCondition.optional(),
    severity: Severity.optional(),
  })
  .strict()
  .openapi('AlertRulePatch')

export const AlertRule = z
  .object({
    id: z.number().int(),
    name: z.string(),
    scope: z.enum(['sensor', 'machine', 'factory']),
    sensorId: z.number().int().nullable(),
    machineId: z.number().int().nullable(),
    factoryId: z.number().int().nullable(),
    sensorKind: z.string().nullable(),
    condition: AlertCondition,
    forDurationMs: z.number().int(),
    forReadings: z.number().int(),
    severity: Severity,
    messageTemplate: z.string(),
    enabled: z.boolean(),
    createdMs: z.number().int(),
    updatedMs: z.number().int(),
  })
  .openapi('AlertRule')

export const Alert = z
  .object({
    id: z.number().int(),
    ruleId: z.number().int(),
    ruleName: z.string(),
    sensorId: z.number().int(),
    sensorKey: z.string(),
    machineId: z.number().int(),
    machineKey: z.string(),
    factoryId: z.number().int(),
    factoryKey: z.string(),
    state: z.enum(ALERT_STATES),
    severity: Severity,
    message: z.string(),
    openedMs: z.number().int(),
    lastValue: z.number().nullable(),
    lastTsMs: z.number().int().nullable(),
    triggerCount: z.number().int(),
    acknowledgedMs: z.number().int().nullable(),
    acknowledgedBy: z.string().nullable(),
    ackComment: z.string().nullable(),
    clearedMs: z.number().int().nullable(),
    clearedBy: z.string().nullable().openapi({ description: '"auto" when the clear condition held' }),
  })
  .openapi('Alert')

export const AlertEvent = z
  .object({
    id: z.number().int(),
    alertId: z.number().int(),
    atMs: z.number().int(),
    event: z.enum(['opened', 'acknowledged', 'cleared']),
    actor: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi('AlertEvent')

export const AlertTransition = z
  .object({
    event: z.enum(['opened', 'acknowledged', 'cleared']),
    atMs: z.number().int(),
    actor: z.string().nullable(),
    comment: z.string().nullable(),
    alert: Alert,
  })
  .openapi('AlertTransition')

export const AlertCounts = z
  .object({ active: z.number().int(), acknowledged: z.number().int(), cleared: z.number().int() })
  .openapi('AlertCounts')

export const AlertAction = z
  .object({ comment: z.string().max(1000).optional() })
  .strict()
  .openapi('AlertAction', { example: { comment: 'maintenance is on it' } })

const Url = z
  .string()
  .max(2000)
  .url()
  .refine((u) => /^https?:\/\//i.test(u), 'an http:// or https:// URL')
export const WebhookCreate = z
  .object({
    name: Name,
    url: Url,
    ruleId: BodyId.nullable()
      .optional()
      .openapi({ description: "Only this rule's alerts; absent: every rule" }),
    enabled: z.boolean().optional(),
    secret: z.string().min(16).max(200).optional().openapi({ description: 'Generated when absent' }),
  })
  .strict()
  .openapi('WebhookCreate', { example: { name: 'on-call bridge', url: 'https://example.com/hooks/factory' } })
export const WebhookPatch = z
  .object({
    name: Name.optional(),
    url: Url.optional(),
    ruleId: BodyId.nullable().optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .openapi('WebhookPatch')
export const Webhook = z
  .object({
    id: z.number().int(),
    name: z.string(),
    url: z.string(),
    ruleId: z.number().int().nullable(),
    enabled: z.boolean(),
    createdMs: z.number().int(),
    updatedMs: z.number().int(),
  })
  .openapi('Webhook')
export const WebhookDelivery = z
  .object({
    id: z.number().int(),
    webhookId: z.number().int(),
    alertId: z.number().int().nullable(),
    event: z.string(),
    status: z.enum(['pending', 'delivered', 'failed', 'dropped']),
    attempts: z.number().int(),
    responseStatus: z.number().int().nullable(),
    error: z.string().nullable(),
    createdMs: z.number().int(),
    updatedMs: z.number().int(),
  })
  .openapi('WebhookDelivery')

export const JobRun = z
  .object({
    id: z.number().int(),
    job: z.string(),
    startedMs: z.number().int(),
    endedMs: z.number().int().nullable(),
    result: z.enum(['running', 'ok', 'error']),
    rowsTouched: z.number().int(),
    error: z.string().nullable(),
  })
  .openapi('JobRun')
export const Job = z
  .object({
    name: z.string(),
    description: z.string(),
    schedule: z.union([z.object({ everyMs: z.number().int() }), z.object({ cron: z.string() })]),
    running: z.boolean(),
    nextRunMs: z.number().int().nullable(),
    lastRun: JobRun.nullable(),
  })
  .openapi('Job')
export type Job = z.infer<typeof Job>
