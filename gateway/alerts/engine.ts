// Streaming alert evaluation in the writer thread: every committed batch's readings go through the rules
// of their sensors; time-based rules (stale data, for-duration expiry) run on scheduler ticks.
import type { AlertLedger, AlertTransition, ReadingColumns } from '../../db/index.ts'
import { historyNeeds, judge, STALE_DEFAULT_FACTOR } from './conditions.ts'
import { type Binding, buildRuleIndex, type RuleIndex } from './rule-index.ts'
import { SensorHistory } from './sensor-history.ts'
import { renderMessage } from './template.ts'

/** Who clears an alert when its clear condition holds. */
export const AUTO_ACTOR = 'auto'

export type AlertActionErrorCode = 'ALERT_NOT_FOUND' | 'ALERT_STATE_CONFLICT'

export class AlertActionError extends Error {
  constructor(
    readonly code: AlertActionErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'AlertActionError'
  }
}

export interface TickResult {
  transitions: AlertTransition[]
  rowsTouched: number
}

export function createAlertEngine(ledger: AlertLedger) {
  let index: RuleIndex = { bySensor: new Map(), stale: [], byAlert: new Map(), all: [] }
  let histories = new Map<number, SensorHistory>()
  const lastSeen = new Map<number, number>()
  /** Bindings waiting for a for-duration to expire without further readings. */
  const pending = new Set<Binding>()
  /** The audit trail records when the gateway saw a change; the alert itself keeps reading times. */
  let eventNowMs = 0
  let needsReload = true

  // Per-call scratch: what changed, written once per binding at the end.
  const dirty = new Set<Binding>()
  const touched = new Set<Binding>()
  let changes: {
    alertId: number
    event: AlertTransition['event']
    atMs: number
    actor: string | null
    comment: string | null
  }[] = []

  const reload = () => {
    index = buildRuleIndex(ledger.rules(), ledger.sensors(), ledger.states(), ledger.openAlerts())
    const nextHistories = new Map<number, SensorHistory>()
    for (const [sensorId, bindings] of index.bySensor) {
      let count = 0
      let ageMs = 0
      for (const b of bindings) {
        const needs = historyNeeds(b.rule.condition)
        if (!needs) continue
        count = Math.max(count, needs.count)
        ageMs = Math.max(ageMs, needs.ageMs)
      }
      if (count === 0 && ageMs === 0) continue
      const kept = histories.get(sensorId)
      if (kept && kept.needs.count >= count && kept.needs.ageMs >= ageMs) nextHistories.set(sensorId, kept)
      else nextHistories.set(sensorId, new SensorHistory({ count, ageMs }))
    }
    histories = nextHistories
    lastSeen.clear()
    for (const { sensorId, tsMs } of ledger.latestTimes()) lastSeen.set(sensorId, tsMs)
    pending.clear()
    for (const b of index.all)
      if (isTimed(b) && b.pendingSinceMs !== null && b.alertId === null) pending.add(b)
    needsReload = false
  }

  const isTimed = (b: Binding) => b.rule.forDurationMs > 0 && b.rule.condition.type !== 'stale'

  const resetPending = (b: Binding) => {
    b.pendingSinceMs = null
    b.pendingReadings = 0
    pending.delete(b)
  }

  const due = (b: Binding, atMs: number) =>
    b.pendingSinceMs !== null &&
    b.pendingReadings >= Math.max(1, b.rule.forReadings) &&
    atMs - b.pendingSinceMs >= b.rule.forDurationMs

  const open = (b: Binding, atMs: number, value: number | null, tsMs: number | null) => {
    const message = renderMessage(b.rule.messageTemplate, {
      sensor: b.sensor,
      ruleName: b.rule.name,
      severity: b.rule.severity,
      value,
    })
    const id = ledger.openAlert({
      ruleId: b.rule.id,
      sensorId: b.sensor.sensorId,
      severity: b.rule.severity,
      message,
      openedMs: atMs,
      value,
      tsMs,
    })
    ledger.addEvent(id, eventNowMs, 'opened', null, { value, tsMs, pendingSinceMs: b.pendingSinceMs })
    b.alertId = id
    b.triggerCount = 1
    index.byAlert.set(id, b)
    resetPending(b)
    dirty.add(b)
    changes.push({ alertId: id, event: 'opened', atMs, actor: null, comment: null })
  }

  const close = (
    b: Binding,
    atMs: number,
    actor: string,
    comment: string | null,
    detail: Record<string, unknown>,
  ) => {
    const id = b.alertId!
    if (touched.has(b)) {
      ledger.touchAlert(id, b.lastValue, b.lastTsMs, b.triggerCount)
      touched.delete(b)
    }
    ledger.clear(id, atMs, actor)
    ledger.addEvent(id, eventNowMs, 'cleared', actor === AUTO_ACTOR ? null : actor, { ...detail, comment })
    index.byAlert.delete(id)
    b.alertId = null
    b.triggerCount = 0
    resetPending(b)
    dirty.add(b)
    changes.push({ alertId: id, event: 'cleared', atMs, actor: actor === AUTO_ACTOR ? null : actor, comment })
  }

  const step = (b: Binding, tsMs: number, value: number, history: SensorHistory | undefined) => {
    if (b.lastTsMs !== null && tsMs <= b.lastTsMs) return // a resend or an out-of-order backfill
    b.lastTsMs = tsMs
    b.lastValue = value
    if (b.rule.condition.type === 'stale') {
      if (b.alertId !== null) close(b, tsMs, AUTO_ACTOR, null, { reason: 'data received', value, tsMs })
      return
    }
    const verdict = judge(b.rule.condition, tsMs, value, history)
    if (verdict === 'unknown') return
    if (b.alertId !== null) {
      if (verdict === 'trigger') {
        b.triggerCount++
        touched.add(b)
      } else if (verdict === 'clear') {
        close(b, tsMs, AUTO_ACTOR, null, { reason: 'condition cleared', value, tsMs })
      }
      return
    }
    if (verdict !== 'trigger') {
      if (b.pendingSinceMs !== null) {
        resetPending(b)
        dirty.add(b)
      }
      return
    }
    if (b.pendingSinceMs === null) {
      b.pendingSinceMs = tsMs
      b.pendingReadings = 0
      if (isTimed(b)) pending.add(b)
    }
    b.pendingReadings++
    if (due(b, tsMs)) open(b, tsMs, value, tsMs)
    else dirty.add(b)
  }

  /** Writes the scratch state and returns the transitions with fresh alert snapshots. */
  const finish = (nowMs: number): AlertTransition[] => {
    for (const b of touched)
      if (b.alertId !== null) ledger.touchAlert(b.alertId, b.lastValue, b.lastTsMs, b.triggerCount)
    for (const b of dirty) {
      ledger.saveState(
        {
          ruleId: b.rule.id,
          sensorId: b.sensor.sensorId,
          pendingSinceMs: b.pendingSinceMs,
          pendingReadings: b.pendingReadings,
          lastTsMs: b.lastTsMs,
        },
        nowMs,
      )
    }
    const transitions: AlertTransition[] = []
    for (const c of changes) {
      const alert = ledger.getAlert(c.alertId)
      if (alert) transitions.push({ event: c.event, atMs: c.atMs, actor: c.actor, comment: c.comment, alert })
    }
    return transitions
  }

  const run = <T>(fn: () => T, nowMs: number): { value: T; transitions: AlertTransition[] } => {
    eventNowMs = nowMs
    dirty.clear()
    touched.clear()
    changes = []
    try {
      return ledger.atomically(() => {
        const value = fn()
        return { value, transitions: finish(nowMs) }
      })
    } catch (error) {
      // The savepoint rolled back: the in-memory state no longer matches the database.
      needsReload = true
      throw error
    } finally {
      dirty.clear()
      touched.clear()
      changes = []
    }
  }

  const staleLimitMs = (b: Binding): number | null => {
    const c = b.rule.condition
    if (c.type !== 'stale') return null
    if (c.afterMs !== undefined) return c.afterMs
    const expected = b.sensor.expectedIntervalMs
    return expected === null ? null : expected * (c.factor ?? STALE_DEFAULT_FACTOR)
  }

  const actionTarget = (alertId: number) => {
    const alert = ledger.getAlert(alertId)
    if (!alert) throw new AlertActionError('ALERT_NOT_FOUND', `alert ${alertId} not found`)
    return alert
  }

  return {
    /** Rules, sensors or their kinds changed: rebuild the index before the next evaluation. */
    invalidate(): void {
      needsReload = true
    },

    /** Evaluates a batch's accepted readings; call inside the batch transaction. */
    onBatch(rows: ReadingColumns, nowMs: number): AlertTransition[] {
      if (needsReload) reload()
      if (index.bySensor.size === 0) return []
      return run(() => {
        for (let i = 0; i < rows.count; i++) {
          const sensorId = rows.sensorId[i]!
          const bindings = index.bySensor.get(sensorId)
          if (!bindings) continue
          const tsMs = rows.tsMs[i]!
          const value = rows.value[i]!
          const seen = lastSeen.get(sensorId)
          if (seen === undefined || tsMs > seen) lastSeen.set(sensorId, tsMs)
          const history = histories.get(sensorId)
          history?.push(tsMs, value)
          for (const b of bindings) step(b, tsMs, value, history)
        }
      }, nowMs).transitions
    },

    /** Opens alerts whose for-duration expired without new readings, and alerts for stale sensors. */
    tick(nowMs: number): TickResult {
      if (needsReload) reload()
      const { transitions } = run(() => {
        for (const b of [...pending]) {
          if (b.alertId === null && due(b, nowMs)) open(b, nowMs, b.lastValue, b.lastTsMs)
        }
        for (const b of index.stale) {
          if (b.alertId !== null) continue
          const limitMs = staleLimitMs(b)
          if (limitMs === null) continue
          const last = lastSeen.get(b.sensor.sensorId) ?? Math.max(b.rule.createdMs, b.sensor.createdMs)
          if (nowMs - last > limitMs + b.rule.forDurationMs)
            open(b, nowMs, null, lastSeen.get(b.sensor.sensorId) ?? null)
        }
      }, nowMs)
      return { transitions, rowsTouched: transitions.length }
    },

    acknowledge(alertId: number, actor: string, comment: string | null, nowMs: number): AlertTransition[] {
      if (needsReload) reload()
      return run(() => {
        const alert = actionTarget(alertId)
        if (!ledger.acknowledge(alertId, nowMs, actor, comment))
          throw new AlertActionError('ALERT_STATE_CONFLICT', `alert ${alertId} is ${alert.state}, not active`)
        ledger.addEvent(alertId, nowMs, 'acknowledged', actor, { comment })
        changes.push({ alertId, event: 'acknowledged', atMs: nowMs, actor, comment })
      }, nowMs).transitions
    },

    clear(alertId: number, actor: string, comment: string | null, nowMs: number): AlertTransition[] {
      if (needsReload) reload()
      return run(() => {
        const alert = actionTarget(alertId)
        const b = index.byAlert.get(alertId)
        if (alert.state === 'cleared')
          throw new AlertActionError('ALERT_STATE_CONFLICT', `alert ${alertId} is already cleared`)
        if (b) close(b, nowMs, actor, comment, { reason: 'cleared manually' })
        else {
          // Its rule was disabled or rescoped; the alert is still closed and audited.
          ledger.clear(alertId, nowMs, actor)
          ledger.addEvent(alertId, nowMs, 'cleared', actor, { reason: 'cleared manually', comment })
          changes.push({ alertId, event: 'cleared', atMs: nowMs, actor, comment })
        }
      }, nowMs).transitions
    },

    /** For tests and diagnostics: how many (rule, sensor) bindings are evaluated. */
    bindingCount(): number {
      if (needsReload) reload()
      return index.all.length
    },
  }
}

export type AlertEngine = ReturnType<typeof createAlertEngine>
