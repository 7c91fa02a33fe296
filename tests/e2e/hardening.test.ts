// Secure defaults and access control end to end: credentials, secrets in logs, ACLs, tokens, CORS, audit.
import { readFileSync, statSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { connect as tcpConnect } from 'node:net'
import path from 'node:path'
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../gateway/config.ts'
import { CONNACK, connectFrame, publishFrame, rawConnect } from '../fuzz/mqtt-wire.ts'
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
let lathe: ProvisionedMachine
const T0 = Date.now() - 60_000

const device = (m: ProvisionedMachine, extra = {}) =>
  connectDevice(svc.mqttUrl, { clientId: m.clientId, username: m.username, password: m.password, ...extra })

/** The value of one labelled counter in /metrics, 0 when absent. */
async function counter(name: string, label: string): Promise<number> {
  const res = await svc.api.get('/metrics')
  const match = new RegExp(`^${name}\\{[a-z]+="${label}"\\} (\\d+)`, 'm').exec(res.body)
  return match ? Number(match[1]) : 0
}

/** Sends raw frames after a valid device CONNECT and resolves once the broker closes the connection. */
async function rawDeviceSession(m: ProvisionedMachine, frames: Buffer[]) {
  const raw = await rawConnect(svc.service.mqttPort)
  raw.send(connectFrame({ clientId: m.clientId, username: m.username, password: m.password }))
  const connack = await raw.next(CONNACK)
  expect(connack.body[1]).toBe(0)
  for (const f of frames) raw.send(f)
  await raw.closed
}

beforeAll(async () => {
  svc = await startTestService()
  press = await provisionMachine(svc.api, { machineKey: 'press-1' })
  lathe = await provisionMachine(svc.api, { machineKey: 'lathe-1' })
})
afterAll(async () => {
  await svc?.cleanup()
})

describe('secure defaults', () => {
  it('has anonymous MQTT and CORS off, and a rate limit on, when nothing is configured', () => {
    const config = parseConfig({})
    expect({
      allowAnonymous: config.mqtt.allowAnonymous,
      corsOrigins: config.http.corsOrigins,
      mqttTls: config.mqtt.tls,
      httpTls: config.http.tls,
      wsPort: config.mqtt.wsPort,
      rateLimitPerMin: config.http.rateLimitPerMin,
    }).toEqual({
      allowAnonymous: false,
      corsOrigins: [],
      mqttTls: null,
      httpTls: null,
      wsPort: null,
      rateLimitPerMin: 1200,
    })
  })

  it('starts with no device credentials and one random admin token readable only by its owner', async () => {
    const fresh = await startTestService()
    try {
      const tokens = await fresh.api.get('/api/v1/tokens')
      expect(tokens.body.tokens.map((t: { scope: string }) => t.scope)).toEqual(['admin'])
      expect(fresh.adminToken).toMatch(/^fm_1_[A-Za-z0-9_-]{43}$/)
      expect(statSync(path.join(fresh.dataDir, 'admin-token')).mode & 0o777).toBe(0o600)
      // Typical factory defaults get nowhere.
      for (const [username, password] of [
        ['admin', 'admin'],
        ['admin', ''],
        ['guest', 'guest'],
      ] as const) {
        const refused = await connectDevice(fresh.mqttUrl, { clientId: username, username, password }).then(
          (c) => c.endAsync().then(() => 0),
          (error: { code?: number }) => error.code,
        )
        expect(refused).toBe(4)
      }
    } finally {
      await fresh.cleanup()
    }
  })

  it('logs a loud warning when anonymous MQTT is switched on', async () => {
    const dev = await startTestService({ FACTORY_MQTT_ALLOW_ANONYMOUS: 'true' })
    try {
      const warnings = dev.logs.map((l) => JSON.parse(l)).filter((l) => l.level === 40)
      expect(warnings.map((l) => l.msg)).toContainEqual(
        expect.stringContaining('FACTORY_MQTT_ALLOW_ANONYMOUS is on'),
      )
    } finally {
      await dev.cleanup()
    }
  })

  it('listens only on the configured address', async () => {
    // The service is bound to 127.0.0.1; 127.0.0.2 reaches the same machine but no listener.
    for (const port of [svc.service.httpPort, svc.service.mqttPort]) {
      const error = await new Promise<string>((resolve) => {
        const socket = tcpConnect(port, '127.0.0.2')
        socket.once('connect', () => {
          socket.destroy()
          resolve('connected')
        })
        socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'))
      })
      expect(error).toBe('ECONNREFUSED')
    }
  })
})

describe('secrets', () => {
  it('never writes a device secret or API token to the logs, responses or the database file', async () => {
    const m = await provisionMachine(svc.api, { machineKey: 'secret-scenario' })
    const secrets = [svc.adminToken, m.password]
    const ok = await device(m)
    await publish(ok, m.telemetryTopic, JSON.stringify({ ts: T0, values: { temp: 1 } }))
    await ok.endAsync()
    const wrong = `${m.password.slice(0, -4)}AAAA`
    secrets.push(wrong)
    await expect(device({ ...m, password: wrong })).rejects.toMatchObject({ code: 4 })
    const rotated = await svc.api.post(`/api/v1/machines/${m.machineId}/credentials`)
    secrets.push(rotated.body.password)
    await expect(device(m)).rejects.toMatchObject({ code: 4 })

    const created = await svc.api.post('/api/v1/tokens', { name: 'reader', scope: 'read' })
    expect(created.status).toBe(201)
    const readToken: string = created.body.token
    secrets.push(readToken)
    expect((await svc.api.get('/api/v1/factories', readToken)).status).toBe(200)
    expect((await svc.api.request('DELETE', `/api/v1/tokens/${created.body.id}`)).status).toBe(204)
    expect((await svc.api.get('/api/v1/factories', readToken)).status).toBe(401)
    const forged = `fm_1_${'x'.repeat(43)}`
    secrets.push(forged)
    expect((await svc.api.get('/api/v1/factories', forged)).status).toBe(401)
    expect((await svc.api.get('/api/v1/factories', '')).status).toBe(401)

    const bodies = await Promise.all(
      ['/api/v1/tokens', `/api/v1/machines/${m.machineId}`, '/api/v1/audit?limit=1000', '/health'].map(
        (url) => svc.api.get(url).then((r) => JSON.stringify(r.body)),
      ),
    )
    svc.service.storage.audit.flush()
    const database = ['', '-wal']
      .map((suffix) => {
        try {
          return readFileSync(`${svc.service.storage.file}${suffix}`).toString('latin1')
        } catch {
          return ''
        }
      })
      .join('')
    const logs = svc.logs.join('')
    // The secret part of a token (after fm_<id>_) is what must never appear.
    const leaks = secrets
      .map((s) => s.replace(/^fm_\d+_/, ''))
      .filter((s) => logs.includes(s) || bodies.some((b) => b.includes(s)) || database.includes(s))
    expect(leaks).toEqual([])
    expect(logs).toContain('AUTH_CREDENTIALS_INVALID')
  }, 30_000)
})

describe('MQTT identity and ACLs', () => {
  it('refuses an empty client id with a persistent session with CONNACK 2', async () => {
    const raw = await rawConnect(svc.service.mqttPort)
    raw.send(connectFrame({ clientId: '', clean: false, username: press.username, password: press.password }))
    const connack = await raw.next(CONNACK)
    expect([...connack.body]).toEqual([0, 2])
    await raw.closed
    expect(await counter('factory_mqtt_refusals_total', 'AUTH_CLIENT_ID_EMPTY')).toBe(1)
  })

  it.each([
    { name: '$SYS', topic: '$SYS/broker/uptime', reason: 'ACL_TOPIC_RESERVED' },
    { name: 'a + wildcard', topic: 'factories/plant-1/machines/+/telemetry', reason: 'ACL_TOPIC_INVALID' },
    { name: 'a # wildcard', topic: 'factories/plant-1/#', reason: 'ACL_TOPIC_INVALID' },
    {
      name: 'a control character',
      topic: 'factories/plant-1/machines/press-1/telemetry\u0007',
      reason: 'ACL_TOPIC_INVALID',
    },
    { name: 'a NUL', topic: 'factories/plant-1/machines/press-1/\u0000', reason: 'ACL_TOPIC_INVALID' },
  ])('disconnects a device publishing to $name topic and counts $reason', async ({ topic, reason }) => {
    const before = await counter('factory_mqtt_refusals_total', reason)
    await rawDeviceSession(press, [publishFrame(topic, '{"values":{"temp":1}}', 1, 7)])
    expect(await counter('factory_mqtt_refusals_total', reason)).toBe(before + 1)
  })

  it("refuses a '+/#' subscription", async () => {
    const client = await device(press)
    const granted = await new Promise<unknown>((resolve) =>
      client.subscribe(
        ['+/#', `${press.telemetryTopic.replace('/telemetry', '')}/#`],
        { qos: 1 },
        (_e, _r, suback) => resolve(suback?.granted),
      ),
    )
    expect(granted).toEqual([128, 1])
    await client.endAsync()
  })

  it("delivers no device's message to another device", async () => {
    const watcher = await device(press)
    const received: string[] = []
    watcher.on('message', (topic) => received.push(topic))
    const granted = await new Promise<unknown>((resolve) =>
      watcher.subscribe(
        ['#', '+/#', 'factories/#', lathe.telemetryTopic, press.statusTopic],
        { qos: 1 },
        (_e, _r, suback) => resolve(suback?.granted),
      ),
    )
    expect(granted).toEqual([128, 128, 128, 128, 1])
    const other: MqttClient = await device(lathe)
    await publish(other, lathe.telemetryTopic, JSON.stringify({ ts: T0, values: { temp: 3 } }))
    await publish(other, lathe.statusTopic, 'online')
    await other.endAsync()
    // The watcher's own status message arrives through the same broker after the other device's.
    const own = new Promise<void>((resolve) => watcher.once('message', () => resolve()))
    await publish(watcher, press.statusTopic, 'online')
    await own
    expect(received).toEqual([press.statusTopic])
    await watcher.endAsync()
  })
})

describe('API tokens', () => {
  it('answers 401 without a token and 403 for a read token that writes or reads the audit log', async () => {
    const none = await svc.api.get('/api/v1/factories', '')
    expect(none).toEqual({
      status: 401,
      body: { error: { code: 'API_AUTH_REQUIRED', message: 'send Authorization: Bearer <token>' } },
    })
    const read = (await svc.api.post('/api/v1/tokens', { name: 'viewer', scope: 'read' })).body.token
    const write = await svc.api.post('/api/v1/factories', { key: 'nope', name: 'nope' }, read)
    expect([write.status, write.body.error.code]).toEqual([403, 'API_SCOPE_FORBIDDEN'])
    const audit = await svc.api.get('/api/v1/audit', read)
    expect([audit.status, audit.body.error.code]).toEqual([403, 'API_SCOPE_FORBIDDEN'])
  })

  it('stops accepting a token the moment it is revoked', async () => {
    const created = (await svc.api.post('/api/v1/tokens', { name: 'short-lived', scope: 'admin' })).body
    expect((await svc.api.get('/api/v1/tokens', created.token)).status).toBe(200)
    expect((await svc.api.request('DELETE', `/api/v1/tokens/${created.id}`)).status).toBe(204)
    const after = await svc.api.get('/api/v1/tokens', created.token)
    expect([after.status, after.body.error.code]).toEqual([401, 'API_AUTH_INVALID'])
  })

  it('answers 413 for a body over the limit', async () => {
    // Its own connection: the server answers before reading the body and then closes the socket.
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: svc.service.httpPort,
          path: '/api/v1/factories',
          method: 'POST',
          agent: false,
          headers: { authorization: `Bearer ${svc.adminToken}`, 'content-type': 'application/json' },
        },
        (response) => {
          let body = ''
          response.on('data', (chunk) => {
            body += chunk
          })
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
        },
      )
      req.on('error', reject)
      req.end(JSON.stringify({ key: 'big', name: 'x'.repeat(1_100_000) }))
    })
    expect([res.status, JSON.parse(res.body).error.code]).toEqual([413, 'API_BODY_TOO_LARGE'])
  })

  it('sends no CORS headers unless origins are configured', async () => {
    const res = await fetch(`http://127.0.0.1:${svc.service.httpPort}/health`, {
      headers: { origin: 'https://evil.example' },
    })
    expect(res.headers.get('access-control-allow-origin')).toBe(null)
    const preflight = await fetch(`http://127.0.0.1:${svc.service.httpPort}/api/v1/factories`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    })
    expect(preflight.headers.get('access-control-allow-origin')).toBe(null)
  })

  it('answers CORS preflights for configured origins only', async () => {
    const cors = await startTestService({ FACTORY_HTTP_CORS_ORIGINS: 'https://hmi.example:8443' })
    try {
      const ask = (origin: string) =>
        fetch(`http://127.0.0.1:${cors.service.httpPort}/api/v1/factories`, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'GET',
            'access-control-request-headers': 'authorization',
          },
        })
      const allowed = await ask('https://hmi.example:8443')
      expect([allowed.status, allowed.headers.get('access-control-allow-origin')]).toEqual([
        204,
        'https://hmi.example:8443',
      ])
      expect((await ask('https://evil.example')).headers.get('access-control-allow-origin')).toBe(null)
    } finally {
      await cors.cleanup()
    }
  })

  it('answers 429 with Retry-After once a token exceeds its rate', async () => {
    const limited = await startTestService({ FACTORY_HTTP_RATE_LIMIT_PER_MIN: '5' })
    try {
      const url = `http://127.0.0.1:${limited.service.httpPort}/api/v1/factories`
      const headers = { authorization: `Bearer ${limited.adminToken}` }
      const statuses: number[] = []
      let last: Response | null = null
      for (let i = 0; i < 6; i++) {
        last = await fetch(url, { headers })
        statuses.push(last.status)
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429])
      expect(last!.headers.get('retry-after')).toBe('12')
      const body = (await last!.json()) as { error: { code: string } }
      expect(body.error.code).toBe('API_RATE_LIMITED')
      // The limit is per token: /health needs none and is not limited.
      expect((await fetch(`http://127.0.0.1:${limited.service.httpPort}/health`)).status).toBe(200)
    } finally {
      await limited.cleanup()
    }
  })
})

describe('audit log', () => {
  it('lists MQTT and HTTP refusals with who, what and how often', async () => {
    await expect(device({ ...press, password: 'not-the-password-at-all' })).rejects.toMatchObject({ code: 4 })
    await expect(device({ ...press, password: 'not-the-password-at-all' })).rejects.toMatchObject({ code: 4 })
    await svc.api.get('/api/v1/factories', 'fm_9_notavalidtokensecretxx')
    const mqtt = await svc.api.get('/api/v1/audit?source=mqtt&reason=AUTH_CREDENTIALS_INVALID')
    expect(mqtt.status).toBe(200)
    // The two attempts may straddle a flush window and land in one row or two.
    const rows = mqtt.body.events.filter((e: { username: string }) => e.username === press.username)
    const count = rows.reduce((n: number, e: { count: number }) => n + e.count, 0)
    expect({ ...rows[0], id: 0, firstMs: 0, lastMs: 0, count: count >= 2 }).toEqual({
      id: 0,
      firstMs: 0,
      lastMs: 0,
      source: 'mqtt',
      reason: 'AUTH_CREDENTIALS_INVALID',
      clientId: press.clientId,
      username: press.username,
      remoteAddress: '127.0.0.1',
      detail: null,
      count: true,
    })
    const http = await svc.api.get('/api/v1/audit?source=http&reason=API_AUTH_INVALID')
    expect(http.body.events[0]).toMatchObject({ source: 'http', detail: 'GET /api/v1/factories', count: 1 })
  })

  it('adds a bounded number of rows for a flood of distinct refusals', async () => {
    const audit = svc.service.storage.audit
    audit.flush()
    const reason = 'MQTT_FLOOD_TEST'
    for (let i = 0; i < 50_000; i++) {
      audit.record({ source: 'mqtt', reason, clientId: `flood-${i}`, remoteAddress: '10.0.0.1' })
    }
    const events = audit.list({ reason, limit: 100_000 })
    // 1000 distinct clients get a row each; the other 49,000 events are summed into one overflow row.
    expect(events.length).toBe(1001)
    expect(events.reduce((n, e) => n + e.count, 0)).toBe(50_000)
  })
})
