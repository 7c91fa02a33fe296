// Row types of alert rules, alerts and their audit events: camelCase, times in epoch milliseconds.

export const ALERT_SEVERITIES = ['critical', 'major', 'minor', 'warning', 'info'] as const
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number]
export const ALERT_STATES = ['active', 'acknowledged', 'cleared'] as const
export type AlertState = (typeof ALERT_STATES)[number]
export type AlertScope = 'sensor' | 'machine' | 'factory'

/**
 * What a rule watches. Each value condition has a trigger limit and an optional clear limit (hysteresis);
 * between the two the alert keeps its state. See docs/alerts.md.
 */
export type AlertCondition =
  | { type: 'above'; threshold: number; clearThreshold?: number }
  | { type: 'below'; threshold: number; clearThreshold?: number }
  | { type: 'outside'; low: number; high: number; clearLow?: number; clearHigh?: number }
  | { type: 'rate'; windowMs: number; limitPerSecond: number; clearLimitPerSecond?: number }
  | { type: 'anomaly'; windowReadings?: number; threshold?: number; clearThreshold?: number }
  | { type: 'stale'; factor?: number; afterMs?: number }

export interface AlertRule {
  id: number
  name: string
  scope: AlertScope
  sensorId: number | null
  machineId: number | null
  factoryId: number | null
  /** For machine and factory scope: only sensors of this kind (null: every sensor). */
  sensorKind: string | null
  condition: AlertCondition
  forDurationMs: number
  forReadings: number
  severity: AlertSeverity
  messageTemplate: string
  enabled: boolean
  createdMs: number
  updatedMs: number
}

export interface AlertRuleInput {
  name: string
  scope: AlertScope
  sensorId?: number | null
  machineId?: number | null
  factoryId?: number | null
  sensorKind?: string | null
  condition: AlertCondition
  forDurationMs?: number
  forReadings?: number
  severity: AlertSeverity
  messageTemplate: string
  enabled?: boolean
}

export interface Alert {
  id: number
  ruleId: number
  ruleName: string
  sensorId: number
  sensorKey: string
  machineId: number
  machineKey: string
  factoryId: number
  factoryKey: string
  state: AlertState
  severity: AlertSeverity
  message: string
  openedMs: number
  lastValue: number | null
  lastTsMs: number | null
  /** Readings that met the condition since the alert opened (re-triggers update it, never a new alert). */
  triggerCount: number
  acknowledgedMs: number | null
  acknowledgedBy: string | null
  ackComment: string | null
  clearedMs: number | null
  clearedBy: string | null
}

export type AlertEventKind = 'opened' | 'acknowledged' | 'cleared'

export interface AlertEvent {
  id: number
  alertId: number
  atMs: number
  event: AlertEventKind
  actor: string | null
  detail: Record<string, unknown> | null
}

/** One change of an alert, as sent to MQTT, SSE and webhooks: the event and the alert after it. */
export interface AlertTransition {
  event: AlertEventKind
  atMs: number
  actor: string | null
  comment: string | null
  alert: Alert
}

export interface AlertFilter {
  state?: AlertState
  severity?: AlertSeverity
  factoryId?: number
  machineId?: number
  sensorId?: number
  ruleId?: number
  /** Opened at or after. */
  fromMs?: number
  /** Opened before. */
  toMs?: number
  beforeId?: number
  limit?: number
}

export interface AlertRuleFilter {
  sensorId?: number
  machineId?: number
  factoryId?: number
  enabled?: boolean
}
