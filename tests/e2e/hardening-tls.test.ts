// TLS for MQTT and HTTP, and MQTT over WebSockets, with a certificate made by openssl for this run.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { get as httpsGet, request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONNACK, connectFrame, rawConnect } from '../fuzz/mqtt-wire.ts'
import {
  type ApiClient,
  connectDevice,
  type ProvisionedMachine,
  provisionMachine,
  publish,
  startTestService,
  type TestService,
} from '../helpers/service.ts'

const T0 = Date.now() - 60_000
const certDir = mkdtempSync(path.join(tmpdir(), 'fm-tls-'))
const certFile = path.join(certDir, 'cert.pem')
const keyFile = path.join(certDir, 'key.pem')
let ca: Buffer
let svc: TestService
let press: ProvisionedMachine

beforeAll(async () => {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  )
  ca = readFileSync(certFile)
  svc = await startTestService({
    FACTORY_MQTT_TLS_CERT: certFile,
    FACTORY_MQTT_TLS_KEY: keyFile,
    FACTORY_HTTP_TLS_CERT: certFile,
    FACTORY_HTTP_TLS_KEY: keyFile,
    FACTORY_MQTT_WS_PORT: '0',
  })
  // The helper's client speaks plain HTTP; provisioning goes through HTTPS with the test CA instead.
  const base = `https://127.0.0.1:${svc.service.httpPort}`
  const request = (method: string, url: string, body?: unknown, token = svc.adminToken) =>
    httpsJson(method, `${base}${url}`, body, token)
  svc.api = {
    request,
    get: (url, token) => request('GET', url, undefined, token),
    post: (url, body, token) => request('POST', url, body, token),
  } as ApiClient
  press = await provisionMachine(svc.api)
})
afterAll(async () => {
  await svc?.cleanup()
  rmSync(certDir, { recursive: true, force: true })
})

function httpsJson(method: string, url: string, body: unknown, token: string) {
  return new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method,
        ca,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
      },
      (res) => {
        let text = ''
        res.on('data', (chunk) => {
          text += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }))
      },
    )
    req.on('error', reject)
    req.end(body === undefined ? undefined : JSON.stringify(body))
  })
}

async function counter(name: string, label: string): Promise<number> {
  const res = await new Promise<string>((resolve, reject) =>
    httpsGet(
      `https://127.0.0.1:${svc.service.httpPort}/metrics`,
      { ca, headers: { authorization: `Bearer ${svc.adminToken}` } },
      (r) => {
        let text = ''
        r.on('data', (c) => {
          text += c
        })
        r.on('end', () => resolve(text))
      },
    ).on('error', reject),
  )
  const match = new RegExp(`^${name}\\{[a-z]+="${label}"\\} (\\d+)`, 'm').exec(res)
  return match ? Number(match[1]) : 0
}

describe('MQTT over TLS', () => {
  it('accepts a device over TLS and stores its readings', async () => {
    const client = await connectDevice(`mqtts://127.0.0.1:${svc.service.mqttPort}`, {
      clientId: press.clientId,
      username: press.username,
      password: press.password,
      ca,
    })
    await publish(client, press.telemetryTopic, JSON.stringify({ ts: T0, values: { temp: 20 } }))
    await client.endAsync()
    const res = await svc.api.get(`/api/v1/sensors/${press.sensors['temp']}/readings`)
    expect(res.body.readings).toEqual([{ tsMs: T0, value: 20 }])
  })

  it('refuses plain MQTT on the TLS port', async () => {
    const raw = await rawConnect(svc.service.mqttPort)
    raw.send(connectFrame({ clientId: press.clientId, username: press.username, password: press.password }))
    await expect(raw.next(CONNACK)).rejects.toThrow('closed before')
    expect(await counter('factory_mqtt_refusals_total', 'MQTT_TLS_HANDSHAKE_FAILED')).toBeGreaterThanOrEqual(
      1,
    )
  })

  it('refuses TLS 1.1', async () => {
    const outcome = await new Promise<string>((resolve) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port: svc.service.mqttPort,
        ca,
        minVersion: 'TLSv1',
        maxVersion: 'TLSv1.1',
      })
      socket.once('secureConnect', () => {
        socket.destroy()
        resolve('connected')
      })
      socket.once('error', () => resolve('refused'))
    })
    expect(outcome).toBe('refused')
  })
})

describe('MQTT over secure WebSockets', () => {
  it('accepts a device over wss:// and stores its readings', async () => {
    expect(svc.service.mqttWsPort).not.toBe(null)
    const client = await connectDevice(`wss://127.0.0.1:${svc.service.mqttWsPort}/mqtt`, {
      clientId: press.clientId,
      username: press.username,
      password: press.password,
      ca,
    })
    await publish(client, press.telemetryTopic, JSON.stringify({ ts: T0 + 1, values: { temp: 21 } }))
    await client.endAsync()
    const res = await svc.api.get(`/api/v1/sensors/${press.sensors['temp']}/readings`)
    expect(res.body.readings).toEqual([
      { tsMs: T0, value: 20 },
      { tsMs: T0 + 1, value: 21 },
    ])
  })

  it('serves plain ws:// when no certificate is configured', async () => {
    const plain = await startTestService({ FACTORY_MQTT_WS_PORT: '0' })
    try {
      const m = await provisionMachine(plain.api)
      const client = await connectDevice(`ws://127.0.0.1:${plain.service.mqttWsPort}/mqtt`, {
        clientId: m.clientId,
        username: m.username,
        password: m.password,
      })
      await publish(client, m.telemetryTopic, JSON.stringify({ ts: T0, values: { temp: 5 } }))
      await client.endAsync()
      const res = await plain.api.get(`/api/v1/readings/count?machineId=${m.machineId}`)
      expect(res.body).toEqual({ count: 1 })
      // Refusals apply on the WebSocket listener too.
      await expect(
        connectDevice(`ws://127.0.0.1:${plain.service.mqttWsPort}/mqtt`, { clientId: 'anon' }),
      ).rejects.toMatchObject({ code: 4 })
    } finally {
      await plain.cleanup()
    }
  })
})

describe('HTTPS', () => {
  it('serves the API over TLS only', async () => {
    expect((await svc.api.get('/health')).status).toBe(200)
    const plain = await fetch(`http://127.0.0.1:${svc.service.httpPort}/health`).then(
      (r) => r.status,
      () => 'refused',
    )
    expect(plain).toBe('refused')
  })
})
