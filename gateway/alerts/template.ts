// Renders a rule's message template, e.g. "{sensor} on {machine} is {value} {unit}".
import type { AlertSensor } from '../../db/index.ts'

export interface TemplateValues {
  sensor: AlertSensor
  ruleName: string
  severity: string
  value: number | null
}

const formatValue = (value: number | null): string =>
  value === null ? 'no data' : String(Number(value.toPrecision(6)))

/** Known placeholders are replaced; unknown ones stay as written so a typo is visible in the message. */
export function renderMessage(template: string, v: TemplateValues): string {
  const fields: Record<string, string> = {
    sensor: v.sensor.sensorName,
    sensorKey: v.sensor.sensorKey,
    machine: v.sensor.machineName,
    machineKey: v.sensor.machineKey,
    factory: v.sensor.factoryName,
    factoryKey: v.sensor.factoryKey,
    value: formatValue(v.value),
    unit: v.sensor.unit,
    rule: v.ruleName,
    severity: v.severity,
  }
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => fields[name] ?? whole).trim()
}

export const TEMPLATE_PLACEHOLDERS = [
  'sensor',
  'sensorKey',
  'machine',
  'machineKey',
  'factory',
  'factoryKey',
  'value',
  'unit',
  'rule',
  'severity',
] as const
