// Retention runs as a scheduled job with a visible run history, deleting exactly what is past the setting.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  connectDevice,
  provisionMachine,
  publish,
  startTestService,
  type TestService,
} from '../helpers/service.ts'

const DAY_MS = 86_400_000
let svc: TestService

beforeAll(async () => {
  svc = await startTestService({
    FACTORY_RETENTION_RAW_DAYS: '1',
    FACTORY_INGEST_BACKFILL_WINDOW_MS: String(3 * DAY_MS),
  })
})
afterAll(async () => {
  await svc?.cleanup()
})

describe('the retention job', () => {
  it('deletes raw readings older than FACTORY_RETENTION_RAW_DAYS and records the run', async () => {
    const m = await provisionMachine(svc.api, { machineKey: 'retention' })
    const client = await connectDevice(svc.mqttUrl, {
      clientId: m.clientId,
      username: m.username,
      password: m.password,
    })
    const nowMs = Date.now()
    const oldTs = nowMs - 2 * DAY_MS
    const freshTs = nowMs - 60_000
    await publish(
      client,
      m.telemetryTopic,
      JSON.stringify([
        { ts: oldTs, values: { temp: 1 } },
        { ts: freshTs, values: { temp: 2 } },
      ]),
    )
    await client.endAsync()
    const sensor = m.sensors['temp']!
    expect((await svc.api.get(`/api/v1/readings/count?sensorId=${sensor}`)).body).toEqual({ count: 2 })

    const run = await svc.service.alerting.scheduler.runNow('retention')
    expect(run).toMatchObject({ job: 'retention', result: 'ok' })
    expect(run.rowsTouched).toBeGreaterThanOrEqual(1)
    expect((await svc.api.get(`/api/v1/sensors/${sensor}/readings`)).body.readings).toEqual([
      { tsMs: freshTs, value: 2 },
    ])

    const runs = await svc.api.get('/api/v1/jobs/retention/runs?limit=1')
    expect(runs.body.runs).toEqual([run])
  })
})
