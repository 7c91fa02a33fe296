// Starts the real service in-process on free ports with a fresh data directory, and gives tests an API client.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import pino from 'pino'
import { parseConfig } from '../../gateway/config.ts'
import { ADMIN_TOKEN_FILE, type Service, startService } from '../../gateway/service.ts'

export interface TestService {
  service: Service
  dataDir: string
  adminToken: string
  logs: string[]
  api: ApiClient
  mqttUrl: string
  /** Stops the service; the data directory stays until `cleanup`. */
  stop(): Promise<void>
  /** Starts a new service on the same data directory (a restart). */
  restart(): Promise<TestService>
  cleanup(): Promise<void>
}

export interface ApiResponse<T = any> {
  status: number
  body: T
}

export interface ApiClient {
  request<T = any>(method: string, url: string, body?: unknown, token?: string): Promise<ApiResponse<T>>
  get<T = any>(url: string, token?: string): Promise<ApiResponse<T>>
  post<T = any>(url: string, body?: unknown, token?: string): Promise<ApiResponse<T>>
}

export function createApiClient(baseUrl: string, defaultToken: string): ApiClient {
  const request = async (method: string, url: string, body?: unknown, token = defaultToken) => {
    const headers: Record<string, string> = {}
    if (token) headers['authorization'] = `Bearer ${token}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    const res = await fetch(`${baseUrl}${url}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    let parsed: unknown = text
    try {
      parsed = text ? JSON.parse(text) : null
    } catch {
      // not JSON (e.g. /metrics); keep the text
    }
    return { status: res.status, body: parsed as any }
  }
  return {
    request,
    get: (url, token) => request('GET', url, undefined, token),
    post: (url, body, token) => request('POST', url, body, token),
  }
}

export async function startTestService(
  env: Record<string, string> = {},
  dataDir = mkdtempSync(path.join(tmpdir(), 'fm-test-')),
): Promise<TestService> {
  const logs: string[] = []
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(chunk.toString())
      done()
    },
  })
  const config = parseConfig({
    FACTORY_DATA_DIR: dataDir,
    FACTORY_HTTP_PORT: '0',
    FACTORY_MQTT_PORT: '0',
    FACTORY_HTTP_HOST: '127.0.0.1',
    FACTORY_MQTT_HOST: '127.0.0.1',
    FACTORY_LOG_LEVEL: 'debug',
    ...env,
  })
  const service = await startService(config, pino({ level: config.logLevel }, sink))
  const adminToken = readFileSync(path.join(dataDir, ADMIN_TOKEN_FILE), 'utf8').trim()
  const stop = () => service.stop()
  return {
    service,
    dataDir,
    adminToken,
    logs,
    api: createApiClient(`http://127.0.0.1:${service.httpPort}`, adminToken),
    mqttUrl: `mqtt://127.0.0.1:${service.mqttPort}`,
    stop,
    async restart() {
      await stop()
      return startTestService(env, dataDir)
    },
    async cleanup() {
      await stop()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

export interface ProvisionedMachine {
  factoryId: number
  machineId: number
  sensors: Record<string, number>
  clientId: string
  username: string
  password: string
  telemetryTopic: string
  statusTopic: string
}

/** Creates a factory, a machine with sensors and a device credential through the HTTP API. */
export async function provisionMachine(
  api: ApiClient,
  options: {
    factoryKey?: string
    machineKey?: string
    autoRegisterSensors?: boolean
    sensors?: { key: string; minValue?: number; maxValue?: number }[]
  } = {},
): Promise<ProvisionedMachine> {
  const factoryKey = options.factoryKey ?? 'plant-1'
  let factory = await api.post('/api/v1/factories', { key: factoryKey, name: factoryKey })
  if (factory.status === 409) {
    const list = await api.get('/api/v1/factories')
    factory = { status: 200, body: list.body.factories.find((f: { key: string }) => f.key === factoryKey) }
  }
  const machine = await api.post(`/api/v1/factories/${factory.body.id}/machines`, {
    key: options.machineKey ?? 'press-1',
    name: 'Press',
    autoRegisterSensors: options.autoRegisterSensors ?? false,
  })
  if (machine.status !== 201) throw new Error(`machine: ${JSON.stringify(machine.body)}`)
  const sensors: Record<string, number> = {}
  for (const s of options.sensors ?? [{ key: 'temp', minValue: -50, maxValue: 500 }, { key: 'rpm' }]) {
    const res = await api.post(`/api/v1/machines/${machine.body.id}/sensors`, { name: s.key, ...s })
    if (res.status !== 201) throw new Error(`sensor: ${JSON.stringify(res.body)}`)
    sensors[s.key] = res.body.id
  }
  const cred = await api.post(`/api/v1/machines/${machine.body.id}/credentials`)
  return { factoryId: factory.body.id, machineId: machine.body.id, sensors, ...cred.body }
}

/** Connects an MQTT.js client and resolves on CONNACK (rejects on a refusal). */
export function connectDevice(url: string, options: IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options })
    client.once('connect', () => resolve(client))
    client.once('error', (error) => {
      client.end(true)
      reject(error)
    })
  })
}

export function publish(client: MqttClient, topic: string, payload: string | Buffer, qos: 0 | 1 = 1) {
  return client.publishAsync(topic, payload, { qos })
}
