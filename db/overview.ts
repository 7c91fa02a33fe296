// Read queries for the live dashboard: the whole factory tree with latest values, and latest values by id.
// Latest = sensor_latest (compacted readings) overlaid with the newest readings still in the hot blocks.
import type { Sqlite } from './connection.ts'
import { createHotReader } from './hot-blocks.ts'
import type { LatestReading, MachineStatus } from './types.ts'

export interface OverviewSensor {
  id: number
  key: string
  name: string
  unit: string
  kind: string
  expectedIntervalMs: number | null
  latest: { tsMs: number; value: number } | null
}

export interface OverviewMachine {
  id: number
  key: string
  name: string
  status: MachineStatus
  statusSinceMs: number | null
  sensors: OverviewSensor[]
}

export interface OverviewFactory {
  id: number
  key: string
  name: string
  machines: OverviewMachine[]
}

interface TreeRow {
  f_id: number
  f_key: string
  f_name: string
  m_id: number | null
  m_key: string
  m_name: string
  m_status: MachineStatus
  m_since: number | null
  s_id: number | null
  s_key: string
  s_name: string
  s_unit: string
  s_kind: string
  s_interval: number | null
  l_ts: number | null
  l_value: number | null
}

interface LatestRow {
  sensorId: number
  key: string
  unit: string
  tsMs: number | null
  value: number | null
}

export function createOverviewQueries(db: Sqlite) {
  const hot = createHotReader(db)
  // One read transaction: a compaction between reading sensor_latest and the hot blocks cannot hide a value.
  const snapshot = <T>(fn: () => T): T => db.transaction(fn).deferred()
  const q = {
    // One pass over the catalog: rows arrive grouped by factory, then machine, then sensor.
    tree: db.prepare(
      `SELECT f.id AS f_id, f.key AS f_key, f.name AS f_name,
         m.id AS m_id, m.key AS m_key, m.name AS m_name, m.status AS m_status, m.status_since_ms AS m_since,
         s.id AS s_id, s.key AS s_key, s.name AS s_name, s.unit AS s_unit, s.kind AS s_kind,
         s.expected_interval_ms AS s_interval, l.ts_ms AS l_ts, l.value AS l_value
       FROM factories f
       LEFT JOIN machines m ON m.factory_id = f.id
       LEFT JOIN sensors s ON s.machine_id = m.id
       LEFT JOIN sensor_latest l ON l.sensor_id = s.id
       ORDER BY f.id, m.id, s.id`,
    ),
    // The ids travel as one JSON array so a single prepared statement serves any list length.
    latestByIds: db.prepare(
      `SELECT s.id AS sensorId, s.key, s.unit, l.ts_ms AS tsMs, l.value FROM sensors s
       LEFT JOIN sensor_latest l ON l.sensor_id = s.id
       WHERE s.id IN (SELECT value FROM json_each(?)) ORDER BY s.id`,
    ),
    existingIds: db.prepare('SELECT id FROM sensors WHERE id IN (SELECT value FROM json_each(?))').pluck(),
  }

  return {
    /** Every factory with its machines (and their status) and sensors (with their latest reading). */
    tree(): OverviewFactory[] {
      const factories: OverviewFactory[] = []
      let factory: OverviewFactory | undefined
      let machine: OverviewMachine | undefined
      const [rows, newer] = snapshot(() => [q.tree.all() as TreeRow[], hot.latest()] as const)
      for (const r of rows) {
        const h = r.s_id === null ? undefined : newer.get(r.s_id)
        if (h && (r.l_ts === null || h.tsMs >= r.l_ts)) {
          r.l_ts = h.tsMs
          r.l_value = h.value
        }
        if (factory?.id !== r.f_id) {
          factory = { id: r.f_id, key: r.f_key, name: r.f_name, machines: [] }
          factories.push(factory)
          machine = undefined
        }
        if (r.m_id === null) continue
        if (machine?.id !== r.m_id) {
          machine = {
            id: r.m_id,
            key: r.m_key,
            name: r.m_name,
            status: r.m_status,
            statusSinceMs: r.m_since,
            sensors: [],
          }
          factory.machines.push(machine)
        }
        if (r.s_id === null) continue
        machine.sensors.push({
          id: r.s_id,
          key: r.s_key,
          name: r.s_name,
          unit: r.s_unit,
          kind: r.s_kind,
          expectedIntervalMs: r.s_interval,
          latest: r.l_ts === null || r.l_value === null ? null : { tsMs: r.l_ts, value: r.l_value },
        })
      }
      return factories
    },

    /** The latest reading of each listed sensor that has one, by sensor id. */
    latestForSensors(sensorIds: readonly number[]): LatestReading[] {
      const [rows, newer] = snapshot(
        () => [q.latestByIds.all(JSON.stringify(sensorIds)) as LatestRow[], hot.latest(sensorIds)] as const,
      )
      const out: LatestReading[] = []
      for (const r of rows) {
        const h = newer.get(r.sensorId)
        if (h && (r.tsMs === null || h.tsMs >= r.tsMs)) out.push({ ...r, tsMs: h.tsMs, value: h.value })
        else if (r.tsMs !== null && r.value !== null) out.push({ ...r, tsMs: r.tsMs, value: r.value })
      }
      return out
    },

    /** Which of the listed sensor ids exist. */
    existingSensorIds: (sensorIds: readonly number[]): number[] =>
      q.existingIds.all(JSON.stringify(sensorIds)) as number[],
  }
}

export type OverviewQueries = ReturnType<typeof createOverviewQueries>
