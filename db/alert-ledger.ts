// The writer thread's side of alerting: loads rules and state, and writes alert changes on the writer's
// own connection, inside the batch transaction.
import type { Alert, AlertEventKind, AlertRule } from './alert-types.ts'
import { ALERT_SELECT, type AlertRuleRow, toAlert, toAlertRule } from './alerts.ts'
import type { Sqlite } from './connection.ts'
import { createHotReader } from './hot-blocks.ts'

/** A sensor with what rule matching and message templates need. */
export interface AlertSensor {
  sensorId: number
  sensorKey: string
  sensorName: string
  unit: string
  kind: string
  expectedIntervalMs: number | null
  createdMs: number
  machineId: number
  machineKey: string
  machineName: string
  factoryId: number
  factoryKey: string
  factoryName: string
}

export interface RuleStateRow {
  ruleId: number
  sensorId: number
  pendingSinceMs: number | null
  pendingReadings: number
  lastTsMs: number | null
}

export interface OpenAlertRow {
  id: number
  ruleId: number
  sensorId: number
  triggerCount: number
}

export interface NewAlert {
  ruleId: number
  sensorId: number
  severity: AlertRule['severity']
  message: string
  openedMs: number
  value: number | null
  tsMs: number | null
}

export function createAlertLedger(db: Sqlite) {
  const hot = createHotReader(db)
  const q = {
    rules: db.prepare('SELECT * FROM alert_rules WHERE enabled = 1 ORDER BY id'),
    sensors: db.prepare(
      `SELECT s.id AS sensorId, s.key AS sensorKey, s.name AS sensorName, s.unit, s.kind,
       s.expected_interval_ms AS expectedIntervalMs, s.created_ms AS createdMs, m.id AS machineId,
       m.key AS machineKey, m.name AS machineName, f.id AS factoryId, f.key AS factoryKey,
       f.name AS factoryName FROM sensors s JOIN machines m ON m.id = s.machine_id
       JOIN factories f ON f.id = m.factory_id`,
    ),
    states: db.prepare(
      `SELECT rule_id AS ruleId, sensor_id AS sensorId, pending_since_ms AS pendingSinceMs,
       pending_readings AS pendingReadings, last_ts_ms AS lastTsMs FROM alert_rule_states`,
    ),
    openAlerts: db.prepare(
      `SELECT id, rule_id AS ruleId, sensor_id AS sensorId, trigger_count AS triggerCount FROM alerts
       WHERE state <> 'cleared'`,
    ),
    latest: db.prepare('SELECT sensor_id AS sensorId, ts_ms AS tsMs FROM sensor_latest'),
    saveState: db.prepare(
      `INSERT INTO alert_rule_states (rule_id, sensor_id, pending_since_ms, pending_readings, last_ts_ms,
       updated_ms) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (rule_id, sensor_id) DO UPDATE SET pending_since_ms = excluded.pending_since_ms,
       pending_readings = excluded.pending_readings, last_ts_ms = excluded.last_ts_ms, updated_ms = excluded.updated_ms`,
    ),
    insertAlert: db.prepare(
      `INSERT INTO alerts (rule_id, sensor_id, state, severity, message, opened_ms, last_value, last_ts_ms,
       trigger_count) VALUES (?, ?, 'active', ?, ?, ?, ?, ?, 1) RETURNING id`,
    ),
    touchAlert: db.prepare(
      'UPDATE alerts SET last_value = ?, last_ts_ms = ?, trigger_count = ? WHERE id = ?',
    ),
    ackAlert: db.prepare(
      `UPDATE alerts SET state = 'acknowledged', acknowledged_ms = ?, acknowledged_by = ?, ack_comment = ?
       WHERE id = ? AND state = 'active'`,
    ),
    clearAlert: db.prepare(
      `UPDATE alerts SET state = 'cleared', cleared_ms = ?, cleared_by = ? WHERE id = ? AND state <> 'cleared'`,
    ),
    insertEvent: db.prepare(
      'INSERT INTO alert_events (alert_id, at_ms, event, actor, detail) VALUES (?, ?, ?, ?, ?)',
    ),
    getAlert: db.prepare(`${ALERT_SELECT} WHERE a.id = ?`),
  }

  return {
    rules: (): AlertRule[] => (q.rules.all() as AlertRuleRow[]).map(toAlertRule),
    sensors: (): AlertSensor[] => q.sensors.all() as AlertSensor[],
    states: (): RuleStateRow[] => q.states.all() as RuleStateRow[],
    openAlerts: (): OpenAlertRow[] => q.openAlerts.all() as OpenAlertRow[],
    latestTimes: (): { sensorId: number; tsMs: number }[] =>
      db
        .transaction(() => {
          // Readings newer than sensor_latest are still in the hot blocks.
          const rows = q.latest.all() as { sensorId: number; tsMs: number }[]
          const newer = hot.latest()
          for (const r of rows) {
            const h = newer.get(r.sensorId)
            if (h && h.tsMs > r.tsMs) r.tsMs = h.tsMs
            newer.delete(r.sensorId)
          }
          for (const [sensorId, h] of newer) rows.push({ sensorId, tsMs: h.tsMs })
          return rows
        })
        .deferred(),

    saveState(s: RuleStateRow, nowMs: number): void {
      q.saveState.run(s.ruleId, s.sensorId, s.pendingSinceMs, s.pendingReadings, s.lastTsMs, nowMs)
    },
    openAlert(a: NewAlert): number {
      const { id } = q.insertAlert.get(
        a.ruleId,
        a.sensorId,
        a.severity,
        a.message,
        a.openedMs,
        a.value,
        a.tsMs,
      ) as { id: number }
      return id
    },
    touchAlert(id: number, value: number | null, tsMs: number | null, triggerCount: number): void {
      q.touchAlert.run(value, tsMs, triggerCount, id)
    },
    /** False when the alert is not active (already acknowledged or cleared). */
    acknowledge: (id: number, atMs: number, by: string, comment: string | null): boolean =>
      q.ackAlert.run(atMs, by, comment, id).changes > 0,
    /** False when the alert is already cleared. */
    clear: (id: number, atMs: number, by: string): boolean => q.clearAlert.run(atMs, by, id).changes > 0,
    addEvent(
      alertId: number,
      atMs: number,
      event: AlertEventKind,
      actor: string | null,
      detail: Record<string, unknown> | null,
    ): void {
      q.insertEvent.run(alertId, atMs, event, actor, detail === null ? null : JSON.stringify(detail))
    },
    getAlert(id: number): Alert | undefined {
      const row = q.getAlert.get(id) as Parameters<typeof toAlert>[0] | undefined
      return row && toAlert(row)
    },
    /** Runs fn in a transaction, or in a savepoint when the batch transaction is already open. */
    atomically<T>(fn: () => T): T {
      return db.transaction(fn).immediate()
    },
  }
}

export type AlertLedger = ReturnType<typeof createAlertLedger>
