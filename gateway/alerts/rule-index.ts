// Binds every enabled rule to the sensors in its scope and indexes the bindings by sensor id, so a batch
// is evaluated in O(readings), not O(readings × rules).
import type { AlertRule, AlertSensor, OpenAlertRow, RuleStateRow } from '../../db/index.ts'

/** One rule watching one sensor, with its evaluation state. */
export interface Binding {
  rule: AlertRule
  sensor: AlertSensor
  pendingSinceMs: number | null
  pendingReadings: number
  lastTsMs: number | null
  lastValue: number | null
  alertId: number | null
  triggerCount: number
}

export interface RuleIndex {
  /** Bindings per sensor id (every condition, stale included: a reading clears a stale alert). */
  bySensor: Map<number, Binding[]>
  stale: Binding[]
  byAlert: Map<number, Binding>
  all: Binding[]
}

const stateKey = (ruleId: number, sensorId: number) => `${ruleId}:${sensorId}`

function scopeSensors(
  rule: AlertRule,
  sensors: Map<number, AlertSensor>,
  list: AlertSensor[],
): AlertSensor[] {
  if (rule.scope === 'sensor') {
    const one = rule.sensorId === null ? undefined : sensors.get(rule.sensorId)
    return one ? [one] : []
  }
  return list.filter(
    (s) =>
      (rule.scope === 'machine' ? s.machineId === rule.machineId : s.factoryId === rule.factoryId) &&
      (rule.sensorKind === null || s.kind === rule.sensorKind),
  )
}

export function buildRuleIndex(
  rules: AlertRule[],
  sensorList: AlertSensor[],
  states: RuleStateRow[],
  openAlerts: OpenAlertRow[],
): RuleIndex {
  const sensors = new Map(sensorList.map((s) => [s.sensorId, s]))
  const stateOf = new Map(states.map((s) => [stateKey(s.ruleId, s.sensorId), s]))
  const alertOf = new Map(openAlerts.map((a) => [stateKey(a.ruleId, a.sensorId), a]))
  const bySensor = new Map<number, Binding[]>()
  const byMachine = new Map<number, AlertSensor[]>()
  const byFactory = new Map<number, AlertSensor[]>()
  const append = <K>(map: Map<K, AlertSensor[]>, key: K, s: AlertSensor) => {
    const list = map.get(key)
    if (list) list.push(s)
    else map.set(key, [s])
  }
  // In place: copying the list per sensor made a rebuild quadratic in a factory's sensors (~1 s at 20,000).
  for (const s of sensorList) {
    append(byMachine, s.machineId, s)
    append(byFactory, s.factoryId, s)
  }
  const index: RuleIndex = { bySensor, stale: [], byAlert: new Map(), all: [] }
  for (const rule of rules) {
    const candidates =
      rule.scope === 'machine'
        ? (byMachine.get(rule.machineId ?? 0) ?? [])
        : rule.scope === 'factory'
          ? (byFactory.get(rule.factoryId ?? 0) ?? [])
          : []
    for (const sensor of scopeSensors(rule, sensors, candidates)) {
      const key = stateKey(rule.id, sensor.sensorId)
      const state = stateOf.get(key)
      const open = alertOf.get(key)
      const binding: Binding = {
        rule,
        sensor,
        pendingSinceMs: state?.pendingSinceMs ?? null,
        pendingReadings: state?.pendingReadings ?? 0,
        lastTsMs: state?.lastTsMs ?? null,
        lastValue: null,
        alertId: open?.id ?? null,
        triggerCount: open?.triggerCount ?? 0,
      }
      const list = bySensor.get(sensor.sensorId)
      if (list) list.push(binding)
      else bySensor.set(sensor.sensorId, [binding])
      if (rule.condition.type === 'stale') index.stale.push(binding)
      if (binding.alertId !== null) index.byAlert.set(binding.alertId, binding)
      index.all.push(binding)
    }
  }
  return index
}
