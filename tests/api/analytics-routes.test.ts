// The analytics routes over a real SQLite file: statistics, anomalies, downsampling, 400s naming the field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openReadingWriter } from '../../db/index.ts'
import { createTestApp, type TestApp } from '../helpers/app.ts'

let t: TestApp
let machineId: number
let temperatureId: number
let pressureId: number
let idleId: number
const T0_MS = 1_764_374_400_000

beforeAll(async () => {
  t = await createTestApp()
  const f = await t.call('POST', '/api/v1/factories', { body: { key: 'plant', name: 'Plant' } })
  const m = await t.call('POST', `/api/v1/factories/${f.body.id}/machines`, {
    body: { key: 'press-1', name: 'Press 1' },
  })
  machineId = m.body.id
  const sensor = async (key: string, unit: string) =>
    (await t.call('POST', `/api/v1/machines/${machineId}/sensors`, { body: { key, name: key, unit } })).body
      .id as number
  temperatureId = await sensor('temperature', '°C')
  pressureId = await sensor('pressure', 'bar')
  idleId = await sensor('idle', 'rpm')
  // temperature: 0..100 in a shuffled order, one reading per second, with a spike of 1000 at t = 200 s.
  const temperature = Array.from({ length: 101 }, (_, i) => [T0_MS + i * 1000, (i * 37) % 101] as const)
  const spike = [T0_MS + 200_000, 1000] as const
  const pressure = [1, 2, 3, 4].map((v, i) => [T0_MS + i * 1000, v] as const)
  const rows = [
    ...temperature.map(([ts, v]) => [temperatureId, ts, v] as const),
    [temperatureId, spike[0], spike[1]] as const,
    ...pressure.map(([ts, v]) => [pressureId, ts, v] as const),
  ]
  const writer = openReadingWriter({ file: t.storage.file, synchronous: 'NORMAL', busyTimeoutMs: 1000 })
  writer.write(
    {
      count: rows.length,
      sensorId: Int32Array.from(rows, (r) => r[0]),
      tsMs: Float64Array.from(rows, (r) => r[1]),
      value: Float64Array.from(rows, (r) => r[2]),
    },
    [],
  )
  writer.close()
})
afterAll(() => t.close())

describe('GET /api/v1/sensors/{sensorId}/statistics', () => {
  it('answers the statistics of the readings in [from, to)', async () => {
    const res = await t.call(
      'GET',
      `/api/v1/sensors/${temperatureId}/statistics?from=${T0_MS}&to=${T0_MS + 101_000}`,
    )
    expect(res).toMatchObject({ status: 200 })
    expect(res.body).toEqual({
      sensorId: temperatureId,
      fromMs: T0_MS,
      toMs: T0_MS + 101_000,
      statistics: {
        count: 101,
        min: 0,
        max: 100,
        sum: 5050,
        mean: 50,
        std: Math.sqrt(850),
        p50: 50,
        p90: 90,
        p95: 95,
        p99: 99,
        first: { tsMs: T0_MS, value: 0 },
        last: { tsMs: T0_MS + 100_000, value: 64 },
      },
    })
  })

  it('answers nulls for an empty range', async () => {
    const res = await t.call('GET', `/api/v1/sensors/${idleId}/statistics`)
    expect(res.body.statistics).toEqual({
      count: 0,
      min: null,
      max: null,
      sum: 0,
      mean: null,
      std: null,
      p50: null,
      p90: null,
      p95: null,
      p99: null,
      first: null,
      last: null,
    })
  })

  it('answers 404 for an unknown sensor', async () => {
    expect(await t.call('GET', '/api/v1/sensors/999/statistics')).toMatchObject({
      status: 404,
      body: { error: { code: 'API_NOT_FOUND', message: 'sensor 999 not found' } },
    })
  })
})

describe('GET /api/v1/machines/{machineId}/statistics', () => {
  it('answers the statistics of every sensor of the machine in one call', async () => {
    const res = await t.call('GET', `/api/v1/machines/${machineId}/statistics?to=${T0_MS + 4000}`)
    expect(res.status).toBe(200)
    expect(
      res.body.sensors.map((s: { key: string; statistics: { count: number } }) => [
        s.key,
        s.statistics.count,
      ]),
    ).toEqual([
      ['temperature', 4],
      ['pressure', 4],
      ['idle', 0],
    ])
    expect(res.body.sensors[1]).toEqual({
      sensorId: pressureId,
      key: 'pressure',
      unit: 'bar',
      statistics: {
        count: 4,
        min: 1,
        max: 4,
        sum: 10,
        mean: 2.5,
        std: Math.sqrt(1.25),
        p50: 2.5,
        p90: expect.closeTo(3.7, 12),
        p95: expect.closeTo(3.85, 12),
        p99: expect.closeTo(3.97, 12),
        first: { tsMs: T0_MS, value: 1 },
        last: { tsMs: T0_MS + 3000, value: 4 },
      },
    })
  })
})

describe('GET /api/v1/sensors/{sensorId}/anomalies', () => {
  it('finds the spike with the default robust z-score', async () => {
    const res = await t.call('GET', `/api/v1/sensors/${temperatureId}/anomalies`)
    // 102 readings: median 50.5, MAD 25.5; score of 1000 = 0.6745 · 949.5 / 25.5.
    expect(res.body).toEqual({
      sensorId: temperatureId,
      method: 'robust-zscore',
      threshold: 3.5,
      anomalies: [{ tsMs: T0_MS + 200_000, value: 1000, score: expect.closeTo((0.6745 * 949.5) / 25.5, 10) }],
    })
  })

  it('uses the method and sensitivity asked for', async () => {
    const rolling = await t.call(
      'GET',
      `/api/v1/sensors/${temperatureId}/anomalies?method=rolling-zscore&window=10&threshold=4`,
    )
    expect(rolling.body).toMatchObject({ method: 'rolling-zscore', threshold: 4 })
    expect(rolling.body.anomalies.map((a: { value: number }) => a.value)).toEqual([1000])
    const ewma = await t.call(
      'GET',
      `/api/v1/sensors/${pressureId}/anomalies?method=ewma&alpha=1&baselinePoints=2&threshold=1`,
    )
    // Baseline 1, 2: mean 1.5, std 0.5; with alpha 1 the score is (x - 1.5) / 0.5.
    expect(ewma.body).toEqual({
      sensorId: pressureId,
      method: 'ewma',
      threshold: 1,
      anomalies: [
        { tsMs: T0_MS + 2000, value: 3, score: 3 },
        { tsMs: T0_MS + 3000, value: 4, score: 5 },
      ],
    })
  })

  const bad: [string, string, RegExp][] = [
    ['method=zscore', 'query.method', /./],
    ['threshold=0', 'query.threshold', /./],
    ['threshold=abc', 'query.threshold', /./],
    ['method=rolling-zscore&window=1', 'query.window', /./],
    ['method=rolling-zscore&window=2.5', 'query.window', /./],
    ['method=ewma&alpha=1.5', 'query.alpha', /./],
    ['method=ewma&window=10', 'query.window', /only applies to method rolling-zscore/],
    ['method=robust-zscore&alpha=0.5', 'query.alpha', /only applies to method ewma/],
    ['from=yesterday', 'query.from', /epoch milliseconds/],
  ]
  it.each(bad)('answers 400 naming the field for %s', async (query, field, message) => {
    const res = await t.call('GET', `/api/v1/sensors/${temperatureId}/anomalies?${query}`)
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('API_VALIDATION_FAILED')
    expect(res.body.error.field).toBe(field)
    expect(res.body.error.message).toMatch(message)
  })
})

describe('GET /api/v1/sensors/{sensorId}/downsampled', () => {
  it('reduces to N points with LTTB, keeping the first and last', async () => {
    const res = await t.call('GET', `/api/v1/sensors/${pressureId}/downsampled?points=2`)
    expect(res.body).toEqual({
      sensorId: pressureId,
      method: 'lttb',
      points: [
        { tsMs: T0_MS, value: 1 },
        { tsMs: T0_MS + 3000, value: 4 },
      ],
    })
  })

  it('aggregates into origin-aligned buckets', async () => {
    const res = await t.call(
      'GET',
      `/api/v1/sensors/${pressureId}/downsampled?bucketMs=2000&originMs=${T0_MS + 1000}`,
    )
    expect(res.body).toEqual({
      sensorId: pressureId,
      method: 'buckets',
      buckets: [
        { startMs: T0_MS - 1000, count: 1, min: 1, max: 1, avg: 1, first: 1, last: 1 },
        { startMs: T0_MS + 1000, count: 2, min: 2, max: 3, avg: 2.5, first: 2, last: 3 },
        { startMs: T0_MS + 3000, count: 1, min: 4, max: 4, avg: 4, first: 4, last: 4 },
      ],
    })
  })

  const bad: [string, string, RegExp][] = [
    ['', 'query.points', /exactly one of points and bucketMs/],
    ['points=10&bucketMs=1000', 'query.points', /exactly one/],
    ['points=1', 'query.points', /./],
    ['points=100001', 'query.points', /./],
    ['bucketMs=0', 'query.bucketMs', /./],
    ['bucketMs=-5', 'query.bucketMs', /./],
    ['points=10&originMs=5', 'query.originMs', /only applies with bucketMs/],
  ]
  it.each(bad)('answers 400 naming the field for "%s"', async (query, field, message) => {
    const res = await t.call('GET', `/api/v1/sensors/${temperatureId}/downsampled?${query}`)
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('API_VALIDATION_FAILED')
    expect(res.body.error.field).toBe(field)
    expect(res.body.error.message).toMatch(message)
  })
})

describe('OpenAPI document', () => {
  it('describes every analytics route with its parameters', async () => {
    const doc = (await t.call('GET', '/openapi.json', { token: null })).body
    const params = (path: string) =>
      (doc.paths[path].get.parameters as { name: string }[]).map((p) => p.name).sort()
    expect(params('/api/v1/sensors/{sensorId}/statistics')).toEqual(['from', 'sensorId', 'to'])
    expect(params('/api/v1/machines/{machineId}/statistics')).toEqual(['from', 'machineId', 'to'])
    expect(params('/api/v1/sensors/{sensorId}/anomalies')).toEqual([
      'alpha',
      'baselinePoints',
      'from',
      'method',
      'sensorId',
      'threshold',
      'to',
      'window',
    ])
    expect(params('/api/v1/sensors/{sensorId}/downsampled')).toEqual([
      'bucketMs',
      'from',
      'originMs',
      'points',
      'sensorId',
      'to',
    ])
    expect(doc.components.schemas.Statistics.example.count).toBe(3)
  })
})
