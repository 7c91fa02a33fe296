// Bucketed series and CSV export over HTTP, fed through MQTT like any device.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  connectDevice,
  type ProvisionedMachine,
  provisionMachine,
  publish,
  startTestService,
  type TestService,
} from '../helpers/service.ts'

let svc: TestService
let press: ProvisionedMachine
const T0 = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000

beforeAll(async () => {
  svc = await startTestService()
  press = await provisionMachine(svc.api)
  const client = await connectDevice(svc.mqttUrl, {
    clientId: press.clientId,
    username: press.username,
    password: press.password,
  })
  const snapshots = [0, 30_000, 60_000, 180_000].map((dt, i) => ({ ts: T0 + dt, values: { temp: 20 + i } }))
  await publish(client, press.telemetryTopic, JSON.stringify(snapshots))
  await client.endAsync()
})
afterAll(async () => {
  await svc?.cleanup()
})

describe('series and export', () => {
  it('returns 1-minute buckets of just-acknowledged readings with gaps filled on request', async () => {
    const id = press.sensors['temp']!
    const res = await svc.api.get(
      `/api/v1/sensors/${id}/series?from=${T0}&to=${T0 + 240_000}&bucket=1m&fill=null`,
    )
    expect(res.status).toBe(200)
    const bucket = (startMs: number, count: number, values: number[]) => ({
      startMs,
      endMs: startMs + 60_000,
      count,
      min: count ? Math.min(...values) : null,
      max: count ? Math.max(...values) : null,
      avg: count ? values.reduce((a, b) => a + b, 0) / count : null,
      sum: count ? values.reduce((a, b) => a + b, 0) : null,
      first: count ? values[0] : null,
      last: count ? values.at(-1) : null,
    })
    expect(res.body).toEqual({
      sensorId: id,
      tier: '1m',
      buckets: [
        bucket(T0, 2, [20, 21]),
        bucket(T0 + 60_000, 1, [22]),
        bucket(T0 + 120_000, 0, []),
        bucket(T0 + 180_000, 1, [23]),
      ],
    })
  })

  it('names the offending parameter when a query is invalid', async () => {
    const id = press.sensors['temp']!
    const res = await svc.api.get(`/api/v1/sensors/${id}/series?from=${T0}&to=${T0 + 1}&bucket=7x`)
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('API_VALIDATION_FAILED')
    expect(res.body.error.field).toBe('query.bucket')
    const tz = await svc.api.get(
      `/api/v1/sensors/${id}/series?from=${T0}&to=${T0 + 1}&bucket=1d&tz=Mars/Olympus`,
    )
    expect(tz.body.error.field).toBe('query.tz')
  })

  it('streams the raw readings as CSV', async () => {
    const id = press.sensors['temp']!
    const res = await svc.api.get(`/api/v1/sensors/${id}/export.csv?from=${T0}&to=${T0 + 120_000}`)
    expect(res.status).toBe(200)
    expect(res.body).toBe(
      `ts_ms,iso_time,value\n${T0},${new Date(T0).toISOString()},20\n${T0 + 30_000},${new Date(T0 + 30_000).toISOString()},21\n${T0 + 60_000},${new Date(T0 + 60_000).toISOString()},22\n`,
    )
  })
})
