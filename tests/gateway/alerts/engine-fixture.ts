// A real database in a temp directory with one machine and its sensors, a writer connection and an alert
// engine on it, and a helper that commits readings exactly as the writer thread does.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import {
  type AlertRule,
  type AlertRuleInput,
  type AlertTransition,
  openReadingWriter,
  openStorage,
  type ReadingColumns,
  type Storage,
} from '../../../db/index.ts'
import { type AlertEngine, createAlertEngine } from '../../../gateway/alerts/index.ts'

export interface EngineFixture {
  storage: Storage
  engine: AlertEngine
  sensors: Record<string, number>
  machineId: number
  factoryId: number
  rule(input: Partial<AlertRuleInput> & Pick<AlertRuleInput, 'condition'>): AlertRule
  /** Commits readings of one sensor ([tsMs, value] pairs) and evaluates them; returns the transitions. */
  feed(sensorKey: string, points: [number, number][], nowMs?: number): AlertTransition[]
  tick(nowMs: number): AlertTransition[]
  /** Closes the writer and opens a fresh one with a new engine, as a restart does. */
  restart(): void
  close(): void
}

export function columns(sensorId: number, points: [number, number][]): ReadingColumns {
  return {
    count: points.length,
    sensorId: Int32Array.from(points, () => sensorId),
    tsMs: Float64Array.from(points, (p) => p[0]),
    value: Float64Array.from(points, (p) => p[1]),
  }
}

export function createEngineFixture(
  sensorSpecs: { key: string; kind?: string; unit?: string; expectedIntervalMs?: number }[] = [
    { key: 'temp', kind: 'temperature', unit: '°C', expectedIntervalMs: 1000 },
  ],
): EngineFixture {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'fm-alerts-'))
  const storage = openStorage({ dataDir, synchronous: 'NORMAL', busyTimeoutMs: 5000 })
  const factory = storage.catalog.createFactory({ key: 'plant-1', name: 'Plant 1' })
  const machine = storage.catalog.createMachine(factory.id, { key: 'press-1', name: 'Press 1' })
  const sensors: Record<string, number> = {}
  for (const s of sensorSpecs) {
    sensors[s.key] = storage.catalog.createSensor(machine.id, { name: s.key, ...s }).id
  }
  const open = () => {
    const writer = openReadingWriter({ file: storage.file, synchronous: 'NORMAL', busyTimeoutMs: 5000 })
    return { writer, engine: createAlertEngine(writer.alerts) }
  }
  let current = open()
  const fixture: EngineFixture = {
    storage,
    engine: current.engine,
    sensors,
    machineId: machine.id,
    factoryId: factory.id,
    rule(input) {
      const rule = storage.alerts.createRule({
        name: 'rule',
        scope: 'sensor',
        sensorId: sensors[sensorSpecs[0]!.key],
        severity: 'major',
        messageTemplate: '{sensor} on {machine} is {value} {unit}',
        ...input,
      })
      current.engine.invalidate()
      return rule
    },
    feed(sensorKey, points, nowMs = points.at(-1)?.[0] ?? 0) {
      const rows = columns(sensors[sensorKey]!, points)
      return current.writer.transaction(() => {
        current.writer.write(rows, [])
        return current.engine.onBatch(rows, nowMs)
      })
    },
    tick: (nowMs) => current.engine.tick(nowMs).transitions,
    restart() {
      current.writer.close()
      current = open()
      fixture.engine = current.engine
    },
    close() {
      current.writer.close()
      storage.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
  return fixture
}
