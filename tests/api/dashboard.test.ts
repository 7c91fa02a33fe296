// The dashboard's server side: static files, whoami, the overview and the live reading stream.
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { counterTotal, createRateMeter, freshness } from '../../api/routes/live.ts'
import { createTestApp, type TestApp } from '../helpers/app.ts'
import {
  connectDevice,
  type ProvisionedMachine,
  provisionMachine,
  publish,
  startTestService,
  type TestService,
} from '../helpers/service.ts'

describe('static dashboard files and whoami', () => {
  let app: TestApp
  beforeAll(async () => {
    app = await createTestApp()
  })
  afterAll(() => app.close())

  it('redirects / to /dashboard/', async () => {
    const res = await app.call('GET', '/', { token: null })
    expect({ status: res.status, location: res.headers.get('location') }).toEqual({
      status: 302,
      location: '/dashboard/',
    })
  })

  it('serves the page without a token, with a same-origin content security policy', async () => {
    const res = await app.call('GET', '/dashboard/', { token: null })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'")
    expect(res.body).toContain('<script type="module" src="main.js"></script>')
  })

  it('serves uPlot from node_modules', async () => {
    const res = await app.call('GET', '/dashboard/vendor/uPlot.esm.js', { token: null })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(res.body).toContain('export { uPlot as default }')
  })

  it.each(['/dashboard/../package.json', '/dashboard/%2e%2e/package.json', '/dashboard/nope.js'])(
    'answers 404 for %s',
    async (url) => {
      const res = await app.call('GET', url, { token: null })
      expect(res.status).toBe(404)
    },
  )

  it('tells a token its name and scope', async () => {
    const admin = await app.call('GET', '/api/v1/whoami')
    const read = await app.call('GET', '/api/v1/whoami', { token: app.readToken })
    expect([admin.body, read.body]).toEqual([
      { id: expect.any(Number), name: 'test admin', scope: 'admin' },
      { id: expect.any(Number), name: 'test reader', scope: 'read' },
    ])
    expect((await app.call('GET', '/api/v1/whoami', { token: null })).status).toBe(401)
  })
})

describe('overview and reading stream', () => {
  let svc: TestService
  let press: ProvisionedMachine
  let device: MqttClient
  let baseUrl: string
  const T0 = Date.now() - 5000

  beforeAll(async () => {
    svc = await startTestService()
    baseUrl = `http://127.0.0.1:${svc.service.httpPort}`
    press = await provisionMachine(svc.api, { machineKey: 'press-1' })
    await provisionMachine(svc.api, { machineKey: 'idle', sensors: [] })
    device = await connectDevice(svc.mqttUrl, {
      clientId: press.clientId,
      username: press.username,
      password: press.password,
    })
    await publish(device, press.telemetryTopic, JSON.stringify({ ts: T0, values: { temp: 21.5 } }))
  })
  afterAll(async () => {
    await device?.endAsync()
    await svc?.cleanup()
  })

  it('returns factories, machines and sensors with latest values in one call', async () => {
    const res = await svc.api.get('/api/v1/overview')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      serverMs: expect.any(Number),
      ingest: {
        readingsPerSecond: null,
        readingsCommitted: 1,
        rejects: 0,
        connectedDevices: 1,
        connectedClients: 1,
        queueDepth: 0,
        status: 'ok',
      },
      totals: { factories: 1, machines: 2, machinesOnline: 1, sensors: 2 },
      factories: [
        {
          id: press.factoryId,
          key: 'plant-1',
          name: 'plant-1',
          machines: [
            {
              id: press.machineId,
              key: 'press-1',
              name: 'Press',
              status: 'online',
              statusSinceMs: expect.any(Number),
              sensors: [
                {
                  id: press.sensors['temp'],
                  key: 'temp',
                  name: 'temp',
                  unit: '',
                  kind: 'gauge',
                  expectedIntervalMs: null,
                  latest: { tsMs: T0, value: 21.5 },
                  ageMs: res.body.serverMs - T0,
                  freshness: 'fresh',
                },
                {
                  id: press.sensors['rpm'],
                  key: 'rpm',
                  name: 'rpm',
                  unit: '',
                  kind: 'gauge',
                  expectedIntervalMs: null,
                  latest: null,
                  ageMs: null,
                  freshness: 'none',
                },
              ],
            },
            {
              id: expect.any(Number),
              key: 'idle',
              name: 'Press',
              status: 'unknown',
              statusSinceMs: null,
              sensors: [],
            },
          ],
        },
      ],
    })
  })

  it('answers 304 to a revalidation of an unchanged file', async () => {
    const first = await fetch(`${baseUrl}/dashboard/main.js`)
    const etag = first.headers.get('etag')!
    await first.text()
    const again = await fetch(`${baseUrl}/dashboard/main.js`, { headers: { 'if-none-match': etag } })
    expect({ etag: /^"[\w-]+"$/.test(etag), status: again.status, body: await again.text() }).toEqual({
      etag: true,
      status: 304,
      body: '',
    })
  })

  it('is readable with a read-only token', async () => {
    const token = await svc.api.post('/api/v1/tokens', { name: 'viewer', scope: 'read' })
    const res = await svc.api.get('/api/v1/overview', token.body.token)
    expect(res.status).toBe(200)
  })

  it('streams the current value at once and every newer reading after it', async () => {
    const stream = await openStream(
      `${baseUrl}/api/v1/events/readings?sensorIds=${press.sensors['temp']},${press.sensors['rpm']}`,
      svc.adminToken,
    )
    expect(stream.status).toBe(200)
    expect(stream.contentType).toBe('text/event-stream')
    expect(await stream.next()).toEqual({
      event: 'readings',
      data: { readings: [{ sensorId: press.sensors['temp'], tsMs: T0, value: 21.5 }] },
    })
    await publish(
      device,
      press.telemetryTopic,
      JSON.stringify({ ts: T0 + 1000, values: { temp: 22, rpm: 900 } }),
    )
    expect(await stream.next()).toEqual({
      event: 'readings',
      data: {
        readings: [
          { sensorId: press.sensors['temp'], tsMs: T0 + 1000, value: 22 },
          { sensorId: press.sensors['rpm'], tsMs: T0 + 1000, value: 900 },
        ],
      },
    })
    stream.close()
  })

  it.each([
    ['a malformed list', 'sensorIds=1,,2', 400, 'API_VALIDATION_FAILED'],
    ['a missing list', '', 400, 'API_VALIDATION_FAILED'],
    ['an unknown sensor', 'sensorIds=999999', 404, 'API_NOT_FOUND'],
  ])('refuses %s', async (_name, query, status, code) => {
    const res = await svc.api.get(`/api/v1/events/readings?${query}`)
    expect({ status: res.status, code: res.body.error.code }).toEqual({ status, code })
  })

  it('needs a token', async () => {
    const res = await svc.api.get(`/api/v1/events/readings?sensorIds=${press.sensors['temp']}`, '')
    expect(res.status).toBe(401)
  })
})

describe('live helpers', () => {
  it('sums a counter over all its label sets and ignores longer names', () => {
    const text = [
      '# HELP factory_rejects_total Rejected readings',
      'factory_rejects_total{reason="A"} 3',
      'factory_rejects_total{reason="B"} 4',
      'factory_rejects_total_other 100',
      'factory_readings_committed_total 12',
    ].join('\n')
    expect([
      counterTotal(text, 'factory_rejects_total'),
      counterTotal(text, 'factory_readings_committed_total'),
    ]).toEqual([7, 12])
  })

  it('measures a rate over the window and restarts when the counter goes back', () => {
    const meter = createRateMeter(10_000)
    expect([
      meter.sample(0, 0),
      meter.sample(500, 50),
      meter.sample(2000, 200),
      meter.sample(20_000, 1000),
      meter.sample(21_000, 5),
      meter.sample(22_000, 105),
    ]).toEqual([null, null, 100, 800 / 18, null, 100])
  })

  it('calls a reading stale after three expected intervals', () => {
    expect([
      freshness(null, 1000, 10_000),
      freshness(7000, 1000, 10_000),
      freshness(6999, 1000, 10_000),
      freshness(0, null, 180_000),
      freshness(0, null, 180_001),
    ]).toEqual(['none', 'fresh', 'stale', 'fresh', 'stale'])
  })
})

/** Reads a server-sent event stream with fetch; `next` resolves the next event with its JSON data. */
async function openStream(url: string, token: string) {
  const abort = new AbortController()
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal })
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    async next(): Promise<{ event: string; data: unknown }> {
      for (;;) {
        const end = buffer.indexOf('\n\n')
        if (end !== -1) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const lines = block.split('\n')
          const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6))
          if (data.length === 0) continue
          const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message'
          return { event, data: JSON.parse(data.join('\n')) }
        }
        const { done, value } = await reader.read()
        if (done) throw new Error('stream ended')
        buffer += value
      }
    },
    close: () => abort.abort(),
  }
}
