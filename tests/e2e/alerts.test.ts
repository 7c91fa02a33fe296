// Alerting end to end: rules over HTTP, alerts opened in the batch transaction of real MQTT telemetry,
// notifications on the machine's MQTT alerts topic, on SSE and on a signed webhook, and the job API.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifySignature } from '../../gateway/notify/index.ts'
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
let device: MqttClient
const mqttAlerts: any[] = []
const T0 = Date.now() - 60_000

/** Resolves with the first message already received or arriving that matches. */
function nextMqttAlert(match: (m: any) => boolean): Promise<any> {
  const found = mqttAlerts.find(match)
  if (found) return Promise.resolve(found)
  return new Promise((resolve) => {
    const onMessage = (_topic: string, payload: Buffer) => {
      const message = JSON.parse(payload.toString())
      if (!match(message)) return
      device.off('message', onMessage)
      resolve(message)
    }
    device.on('message', onMessage)
  })
}

/** An SSE client over fetch that collects `alert` events. */
async function openAlertStream(token: string) {
  const controller = new AbortController()
  const res = await fetch(`http://127.0.0.1:${svc.service.httpPort}/api/v1/events/alerts`, {
    headers: { authorization: `Bearer ${token}` },
    signal: controller.signal,
  })
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  const frames: string[] = []
  const readFrame = async (): Promise<string> => {
    for (;;) {
      const end = buffer.indexOf('\n\n')
      if (end >= 0) {
        const frame = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        frames.push(frame)
        return frame
      }
      const { value, done } = await reader.read()
      if (done) throw new Error('stream ended')
      buffer += decoder.decode(value, { stream: true })
    }
  }
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    readFrame,
    async nextAlert(): Promise<any> {
      for (;;) {
        const frame = await readFrame()
        const data = frame.split('\n').find((line) => line.startsWith('data: '))
        if (frame.includes('event: alert') && data) return JSON.parse(data.slice(6))
      }
    },
    close: () => controller.abort(),
  }
}

beforeAll(async () => {
  svc = await startTestService()
  press = await provisionMachine(svc.api, { machineKey: 'press-a' })
  device = await connectDevice(svc.mqttUrl, {
    clientId: press.clientId,
    username: press.username,
    password: press.password,
  })
  // A device may subscribe to its own machine's topics, alerts included.
  const [grant] = await device.subscribeAsync(`factories/plant-1/machines/press-a/alerts`, { qos: 1 })
  expect(grant!.qos).toBe(1)
  device.on('message', (_topic, payload) => mqttAlerts.push(JSON.parse(payload.toString())))
})
afterAll(async () => {
  await device?.endAsync()
  await svc?.cleanup()
})

describe('alert rules API', () => {
  it('validates rules and names the offending field', async () => {
    const bad = await svc.api.post('/api/v1/alert-rules', {
      name: 'bad band',
      scope: 'sensor',
      sensorId: press.sensors['temp'],
      condition: { type: 'above', threshold: 80, clearThreshold: 90 },
      severity: 'major',
    })
    expect(bad.status).toBe(400)
    expect(bad.body.error.code).toBe('API_VALIDATION_FAILED')
    expect(bad.body.error.field).toBe('condition.clearThreshold')
    const noTarget = await svc.api.post('/api/v1/alert-rules', {
      name: 'no machine',
      scope: 'machine',
      condition: { type: 'above', threshold: 1 },
      severity: 'info',
    })
    expect(noTarget.body.error).toMatchObject({ code: 'API_VALIDATION_FAILED', field: 'scope' })
    const missing = await svc.api.post('/api/v1/alert-rules', {
      name: 'ghost',
      scope: 'sensor',
      sensorId: 999_999,
      condition: { type: 'above', threshold: 1 },
      severity: 'info',
    })
    expect(missing.status).toBe(404)
    expect(missing.body.error.code).toBe('API_NOT_FOUND')
  })

  it('creates, reads, disables and deletes a rule, and documents the routes', async () => {
    const created = await svc.api.post('/api/v1/alert-rules', {
      name: 'rpm high',
      scope: 'machine',
      machineId: press.machineId,
      condition: { type: 'above', threshold: 5000 },
      severity: 'warning',
    })
    expect(created.status).toBe(201)
    expect(created.body).toEqual({
      id: created.body.id,
      name: 'rpm high',
      scope: 'machine',
      sensorId: null,
      machineId: press.machineId,
      factoryId: null,
      sensorKind: null,
      condition: { type: 'above', threshold: 5000 },
      forDurationMs: 0,
      forReadings: 0,
      severity: 'warning',
      messageTemplate: '{sensor} on {machine} is {value} {unit}',
      enabled: true,
      createdMs: created.body.createdMs,
      updatedMs: created.body.updatedMs,
    })
    const patched = await svc.api.request('PATCH', `/api/v1/alert-rules/${created.body.id}`, {
      enabled: false,
    })
    expect(patched.body.enabled).toBe(false)
    const list = await svc.api.get(`/api/v1/alert-rules?machineId=${press.machineId}`)
    expect(list.body.rules.map((r: { id: number }) => r.id)).toEqual([created.body.id])
    expect((await svc.api.request('DELETE', `/api/v1/alert-rules/${created.body.id}`)).status).toBe(204)
    expect((await svc.api.get(`/api/v1/alert-rules/${created.body.id}`)).status).toBe(404)
    const doc = await svc.api.get('/openapi.json')
    for (const route of [
      '/api/v1/alert-rules',
      '/api/v1/alerts',
      '/api/v1/alerts/{alertId}/acknowledge',
      '/api/v1/events/alerts',
      '/api/v1/webhooks',
      '/api/v1/webhooks/{webhookId}/deliveries',
      '/api/v1/jobs',
      '/api/v1/jobs/{name}/runs',
    ]) {
      expect(Object.keys(doc.body.paths)).toContain(route)
    }
  })
})

describe('alert lifecycle over MQTT, SSE and webhooks', () => {
  let receiver: Server
  let hookUrl: string
  const hookRequests: { headers: IncomingHttpHeaders; body: string }[] = []
  let onHook: (() => void) | null = null

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = ''
      req.on('data', (chunk) => {
        body += chunk
      })
      req.on('end', () => {
        hookRequests.push({ headers: req.headers, body })
        res.writeHead(204).end()
        onHook?.()
      })
    })
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
    hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts`
  })
  afterAll(async () => {
    receiver.closeAllConnections()
    await new Promise((resolve) => receiver.close(resolve))
  })

  const hooksReceived = (count: number) =>
    new Promise<void>((resolve) => {
      if (hookRequests.length >= count) return resolve()
      onHook = () => {
        if (hookRequests.length >= count) resolve()
      }
    })

  it('opens on commit, notifies every channel, is acknowledged and then clears automatically', async () => {
    const webhook = await svc.api.post('/api/v1/webhooks', { name: 'ops', url: hookUrl })
    expect(webhook.status).toBe(201)
    expect(webhook.body.secret).toEqual(expect.any(String))
    expect((await svc.api.get(`/api/v1/webhooks/${webhook.body.id}`)).body.secret).toBeUndefined()

    const rule = await svc.api.post('/api/v1/alert-rules', {
      name: 'spindle hot',
      scope: 'sensor',
      sensorId: press.sensors['temp'],
      condition: { type: 'above', threshold: 80, clearThreshold: 70 },
      severity: 'critical',
      messageTemplate: '{sensor} on {machineKey} is {value} °C',
    })
    expect(rule.status).toBe(201)
    const stream = await openAlertStream(svc.adminToken)
    expect(stream.status).toBe(200)
    expect(stream.contentType).toContain('text/event-stream')
    expect(await stream.readFrame()).toBe(': connected')

    await publish(device, press.telemetryTopic, JSON.stringify({ ts: T0, values: { temp: 85 } }))
    // The alert was written in the same transaction as the reading, so it is there at PUBACK.
    const active = await svc.api.get(`/api/v1/alerts?state=active&sensorId=${press.sensors['temp']}`)
    expect(active.body.alerts).toHaveLength(1)
    const alert = active.body.alerts[0]
    expect(alert).toMatchObject({
      ruleId: rule.body.id,
      machineKey: 'press-a',
      factoryKey: 'plant-1',
      state: 'active',
      severity: 'critical',
      message: 'temp on press-a is 85 °C',
      lastValue: 85,
      triggerCount: 1,
    })

    const viaMqtt = await nextMqttAlert((m) => m.alert.id === alert.id && m.event === 'opened')
    expect(viaMqtt).toEqual({ event: 'opened', atMs: T0, actor: null, comment: null, alert })
    expect(await stream.nextAlert()).toEqual(viaMqtt)
    await hooksReceived(1)
    const [hook] = hookRequests
    expect(JSON.parse(hook!.body)).toEqual(viaMqtt)
    expect(
      verifySignature(webhook.body.secret, hook!.body, hook!.headers['x-factory-signature'] as string),
    ).toBe(true)

    // Re-triggering updates the open alert, never a second one.
    await publish(device, press.telemetryTopic, JSON.stringify({ ts: T0 + 1000, values: { temp: 90 } }))
    expect((await svc.api.get(`/api/v1/alerts/${alert.id}`)).body).toMatchObject({
      triggerCount: 2,
      lastValue: 90,
    })
    expect((await svc.api.get('/api/v1/alerts/counts?machineId=' + press.machineId)).body).toEqual({
      active: 1,
      acknowledged: 0,
      cleared: 0,
    })

    const read = await svc.api.post('/api/v1/tokens', { name: 'wall screen', scope: 'read' })
    const forbidden = await svc.api.post(`/api/v1/alerts/${alert.id}/acknowledge`, {}, read.body.token)
    expect(forbidden.body.error.code).toBe('API_SCOPE_FORBIDDEN')
    const acked = await svc.api.post(`/api/v1/alerts/${alert.id}/acknowledge`, {
      comment: 'checking coolant',
    })
    expect(acked.status).toBe(200)
    expect(acked.body).toMatchObject({
      state: 'acknowledged',
      acknowledgedBy: 'admin (created at first start)',
      ackComment: 'checking coolant',
    })
    const twice = await svc.api.post(`/api/v1/alerts/${alert.id}/acknowledge`, {})
    expect(twice.status).toBe(409)
    expect(twice.body.error.code).toBe('API_ALERT_STATE_CONFLICT')
    expect((await stream.nextAlert()).event).toBe('acknowledged')

    await publish(device, press.telemetryTopic, JSON.stringify({ ts: T0 + 2000, values: { temp: 75 } }))
    expect((await svc.api.get(`/api/v1/alerts/${alert.id}`)).body.state).toBe('acknowledged')
    await publish(device, press.telemetryTopic, JSON.stringify({ ts: T0 + 3000, values: { temp: 60 } }))
    const cleared = await nextMqttAlert((m) => m.alert.id === alert.id && m.event === 'cleared')
    expect(cleared.alert).toMatchObject({ state: 'cleared', clearedBy: 'auto', clearedMs: T0 + 3000 })
    expect((await stream.nextAlert()).event).toBe('cleared')
    stream.close()

    const history = await svc.api.get(`/api/v1/alerts/${alert.id}`)
    expect(history.body.events.map((e: any) => [e.event, e.actor])).toEqual([
      ['opened', null],
      ['acknowledged', 'admin (created at first start)'],
      ['cleared', null],
    ])
    await hooksReceived(3)
    const deliveries = await svc.api.get(`/api/v1/webhooks/${webhook.body.id}/deliveries`)
    expect(
      deliveries.body.deliveries.map((d: any) => [d.event, d.status, d.attempts, d.responseStatus]),
    ).toEqual([
      ['cleared', 'delivered', 1, 204],
      ['acknowledged', 'delivered', 1, 204],
      ['opened', 'delivered', 1, 204],
    ])
    const filtered = await svc.api.get(
      `/api/v1/alerts?state=cleared&severity=critical&factoryId=${press.factoryId}`,
    )
    expect(filtered.body.alerts.map((a: any) => a.id)).toEqual([alert.id])
    expect((await svc.api.get('/api/v1/alerts?severity=info')).body.alerts).toEqual([])
  })

  it('opens a stale-sensor alert from the scheduler and clears it on the next reading', async () => {
    const m = await provisionMachine(svc.api, { machineKey: 'press-b' })
    const rule = await svc.api.post('/api/v1/alert-rules', {
      name: 'silent sensor',
      scope: 'sensor',
      sensorId: m.sensors['rpm'],
      condition: { type: 'stale', afterMs: 1 },
      severity: 'minor',
    })
    expect(rule.status).toBe(201)
    // The rule goes stale 1 ms after it exists; a timer run in that same millisecond sees nothing yet, and
    // the 1 s schedule may open it first. Run the job until the alert is there (bounded).
    let stale: any
    for (let run = 0; run < 100 && !stale; run++) {
      expect(await svc.service.alerting.scheduler.runNow('alert-timers')).toMatchObject({
        job: 'alert-timers',
        result: 'ok',
      })
      ;[stale] = (await svc.api.get(`/api/v1/alerts?ruleId=${rule.body.id}`)).body.alerts
    }
    expect(stale).toMatchObject({ state: 'active', lastValue: null, message: 'rpm on Press is no data' })
    const client = await connectDevice(svc.mqttUrl, {
      clientId: m.clientId,
      username: m.username,
      password: m.password,
    })
    await publish(client, m.telemetryTopic, JSON.stringify({ values: { rpm: 1200 } }))
    await client.endAsync()
    expect((await svc.api.get(`/api/v1/alerts/${stale.id}`)).body).toMatchObject({
      state: 'cleared',
      clearedBy: 'auto',
    })
  })
})

describe('jobs', () => {
  it('lists the scheduled jobs and their run history, and counts runs in /metrics', async () => {
    const run = await svc.service.alerting.scheduler.runNow('wal-checkpoint')
    const jobs = await svc.api.get('/api/v1/jobs')
    expect(jobs.body.jobs.map((j: any) => [j.name, j.schedule])).toEqual([
      ['alert-timers', { everyMs: 1000 }],
      ['retention', { cron: '*/15 * * * *' }],
      ['wal-checkpoint', { everyMs: 30_000 }],
      ['token-cleanup', { cron: '17 3 * * *' }],
    ])
    const runs = await svc.api.get('/api/v1/jobs/wal-checkpoint/runs?limit=1')
    expect(runs.body.runs).toEqual([run])
    expect((await svc.api.get('/api/v1/jobs/nope/runs')).status).toBe(404)
    const metrics = await svc.api.get('/metrics')
    expect(metrics.body).toContain('factory_job_runs_total{job="wal-checkpoint",result="ok"}')
    expect(metrics.body).toContain('factory_alert_transitions_total{event="opened",severity="critical"} 1')
  })
})
