// Alert rules CRUD and alert queries for the API; alert state itself is written by the gateway's writer.
import { EventEmitter } from 'node:events'
import type {
  Alert,
  AlertEvent,
  AlertEventKind,
  AlertFilter,
  AlertRule,
  AlertRuleFilter,
  AlertRuleInput,
  AlertState,
} from './alert-types.ts'
import type { Sqlite } from './connection.ts'
import { StorageError, translateSqliteError } from './errors.ts'

export interface AlertRuleRow {
  id: number
  name: string
  scope: AlertRule['scope']
  sensor_id: number | null
  machine_id: number | null
  factory_id: number | null
  sensor_kind: string | null
  condition: string
  for_duration_ms: number
  for_readings: number
  severity: AlertRule['severity']
  message_template: string
  enabled: number
  created_ms: number
  updated_ms: number
}

export const toAlertRule = (r: AlertRuleRow): AlertRule => ({
  id: r.id,
  name: r.name,
  scope: r.scope,
  sensorId: r.sensor_id,
  machineId: r.machine_id,
  factoryId: r.factory_id,
  sensorKind: r.sensor_kind,
  condition: JSON.parse(r.condition),
  forDurationMs: r.for_duration_ms,
  forReadings: r.for_readings,
  severity: r.severity,
  messageTemplate: r.message_template,
  enabled: r.enabled === 1,
  createdMs: r.created_ms,
  updatedMs: r.updated_ms,
})

interface AlertRow {
  id: number
  rule_id: number
  rule_name: string
  sensor_id: number
  sensor_key: string
  machine_id: number
  machine_key: string
  factory_id: number
  factory_key: string
  state: Alert['state']
  severity: Alert['severity']
  message: string
  opened_ms: number
  last_value: number | null
  last_ts_ms: number | null
  trigger_count: number
  acknowledged_ms: number | null
  acknowledged_by: string | null
  ack_comment: string | null
  cleared_ms: number | null
  cleared_by: string | null
}

export const ALERT_SELECT = `SELECT a.*, r.name AS rule_name, s.key AS sensor_key, s.machine_id,
  m.key AS machine_key, m.factory_id, f.key AS factory_key
  FROM alerts a JOIN alert_rules r ON r.id = a.rule_id JOIN sensors s ON s.id = a.sensor_id
  JOIN machines m ON m.id = s.machine_id JOIN factories f ON f.id = m.factory_id`

export const toAlert = (r: AlertRow): Alert => ({
  id: r.id,
  ruleId: r.rule_id,
  ruleName: r.rule_name,
  sensorId: r.sensor_id,
  sensorKey: r.sensor_key,
  machineId: r.machine_id,
  machineKey: r.machine_key,
  factoryId: r.factory_id,
  factoryKey: r.factory_key,
  state: r.state,
  severity: r.severity,
  message: r.message,
  openedMs: r.opened_ms,
  lastValue: r.last_value,
  lastTsMs: r.last_ts_ms,
  triggerCount: r.trigger_count,
  acknowledgedMs: r.acknowledged_ms,
  acknowledgedBy: r.acknowledged_by,
  ackComment: r.ack_comment,
  clearedMs: r.cleared_ms,
  clearedBy: r.cleared_by,
})

interface EventRow {
  id: number
  alert_id: number
  at_ms: number
  event: AlertEventKind
  actor: string | null
  detail: string | null
}

const toEvent = (r: EventRow): AlertEvent => ({
  id: r.id,
  alertId: r.alert_id,
  atMs: r.at_ms,
  event: r.event,
  actor: r.actor,
  detail: r.detail === null ? null : JSON.parse(r.detail),
})

/** WHERE clause and parameters for an alert filter; shared by the list and the counts. */
function alertWhere(filter: AlertFilter, withState: boolean): { sql: string; params: unknown[] } {
  const parts: string[] = []
  const params: unknown[] = []
  const add = (clause: string, value: unknown) => {
    if (value === undefined) return
    parts.push(clause)
    params.push(value)
  }
  if (withState) add('a.state = ?', filter.state)
  add('a.severity = ?', filter.severity)
  add('m.factory_id = ?', filter.factoryId)
  add('s.machine_id = ?', filter.machineId)
  add('a.sensor_id = ?', filter.sensorId)
  add('a.rule_id = ?', filter.ruleId)
  add('a.opened_ms >= ?', filter.fromMs)
  add('a.opened_ms < ?', filter.toMs)
  add('a.id < ?', filter.beforeId)
  return { sql: parts.length > 0 ? `WHERE ${parts.join(' AND ')}` : '', params }
}

export type AlertRuleChange = { kind: 'rules' }

export function createAlertStore(db: Sqlite) {
  const events = new EventEmitter<{ change: [AlertRuleChange] }>()
  const statements = new Map<string, ReturnType<Sqlite['prepare']>>()
  const prepared = (sql: string) => {
    let statement = statements.get(sql)
    if (!statement) {
      statement = db.prepare(sql)
      statements.set(sql, statement)
    }
    return statement
  }
  const q = {
    getRule: db.prepare('SELECT * FROM alert_rules WHERE id = ?'),
    insertRule: db.prepare(
      `INSERT INTO alert_rules (name, scope, sensor_id, machine_id, factory_id, sensor_kind, condition,
       for_duration_ms, for_readings, severity, message_template, enabled, created_ms, updated_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    ),
    updateRule: db.prepare(
      `UPDATE alert_rules SET name = ?, scope = ?, sensor_id = ?, machine_id = ?, factory_id = ?,
       sensor_kind = ?, condition = ?, for_duration_ms = ?, for_readings = ?, severity = ?,
       message_template = ?, enabled = ?, updated_ms = ? WHERE id = ? RETURNING *`,
    ),
    deleteRule: db.prepare('DELETE FROM alert_rules WHERE id = ?'),
    // A rule's pending state is meaningless once its condition or scope changes.
    resetStates: db.prepare('DELETE FROM alert_rule_states WHERE rule_id = ?'),
    getAlert: db.prepare(`${ALERT_SELECT} WHERE a.id = ?`),
    events: db.prepare('SELECT * FROM alert_events WHERE alert_id = ? ORDER BY id'),
  }

  const write = <T>(what: string, fn: () => T): T => {
    try {
      return db.transaction(fn).immediate()
    } catch (error) {
      if (error instanceof StorageError) throw error
      return translateSqliteError(error, what)
    }
  }

  const ruleParams = (input: AlertRuleInput) => [
    input.name,
    input.scope,
    input.scope === 'sensor' ? (input.sensorId ?? null) : null,
    input.scope === 'machine' ? (input.machineId ?? null) : null,
    input.scope === 'factory' ? (input.factoryId ?? null) : null,
    input.scope === 'sensor' ? null : (input.sensorKind ?? null),
    JSON.stringify(input.condition),
    input.forDurationMs ?? 0,
    input.forReadings ?? 0,
    input.severity,
    input.messageTemplate,
    input.enabled === false ? 0 : 1,
  ]
  const changed = () => events.emit('change', { kind: 'rules' })

  return {
    /** Rule changes the writer must reload its rule index for. */
    onChange(listener: (change: AlertRuleChange) => void): void {
      events.on('change', listener)
    },

    listRules(filter: AlertRuleFilter = {}): AlertRule[] {
      const parts: string[] = []
      const params: unknown[] = []
      if (filter.sensorId !== undefined) {
        parts.push('sensor_id = ?')
        params.push(filter.sensorId)
      }
      if (filter.machineId !== undefined) {
        parts.push('machine_id = ?')
        params.push(filter.machineId)
      }
      if (filter.factoryId !== undefined) {
        parts.push('factory_id = ?')
        params.push(filter.factoryId)
      }
      if (filter.enabled !== undefined) {
        parts.push('enabled = ?')
        params.push(filter.enabled ? 1 : 0)
      }
      const where = parts.length > 0 ? `WHERE ${parts.join(' AND ')}` : ''
      const rows = prepared(`SELECT * FROM alert_rules ${where} ORDER BY id`).all(params) as AlertRuleRow[]
      return rows.map(toAlertRule)
    },
    getRule(id: number): AlertRule | undefined {
      const row = q.getRule.get(id) as AlertRuleRow | undefined
      return row && toAlertRule(row)
    },
    createRule(input: AlertRuleInput): AlertRule {
      const now = Date.now()
      const rule = write(`alert rule "${input.name}"`, () =>
        toAlertRule(q.insertRule.get([...ruleParams(input), now, now]) as AlertRuleRow),
      )
      changed()
      return rule
    },
    /** Replaces a rule's definition (the API merges a patch first); resets its pending state. */
    replaceRule(id: number, input: AlertRuleInput): AlertRule | undefined {
      const rule = write('alert rule', () => {
        const row = q.updateRule.get([...ruleParams(input), Date.now(), id]) as AlertRuleRow | undefined
        if (row) q.resetStates.run(id)
        return row && toAlertRule(row)
      })
      if (rule) changed()
      return rule
    },
    deleteRule(id: number): boolean {
      const deleted = write('alert rule', () => q.deleteRule.run(id).changes > 0)
      if (deleted) changed()
      return deleted
    },

    listAlerts(filter: AlertFilter = {}): Alert[] {
      const { sql, params } = alertWhere(filter, true)
      const rows = prepared(`${ALERT_SELECT} ${sql} ORDER BY a.id DESC LIMIT ?`).all([
        ...params,
        filter.limit ?? 100,
      ]) as AlertRow[]
      return rows.map(toAlert)
    },
    /** How many alerts are in each state, under the same filter as the list (state ignored). */
    countAlerts(filter: AlertFilter = {}): Record<AlertState, number> {
      const { sql, params } = alertWhere({ ...filter, beforeId: undefined }, false)
      const rows = prepared(
        `SELECT a.state, count(*) AS n FROM alerts a JOIN sensors s ON s.id = a.sensor_id
         JOIN machines m ON m.id = s.machine_id ${sql} GROUP BY a.state`,
      ).all(params) as { state: AlertState; n: number }[]
      const counts: Record<AlertState, number> = { active: 0, acknowledged: 0, cleared: 0 }
      for (const r of rows) counts[r.state] = r.n
      return counts
    },
    getAlert(id: number): Alert | undefined {
      const row = q.getAlert.get(id) as AlertRow | undefined
      return row && toAlert(row)
    },
    listEvents: (alertId: number): AlertEvent[] => (q.events.all(alertId) as EventRow[]).map(toEvent),
  }
}

export type AlertStore = ReturnType<typeof createAlertStore>
