// HTTP client of the factory-monitor API and the demo provisioning: factories, machines, sensors and
// device credentials, returned as a credentials file.
import { CREDENTIALS_FILE_VERSION, type CredentialDevice, type CredentialsFile } from './credentials-file.ts'
import type { ProfileKind } from './profiles.ts'

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'ApiRequestError'
  }
}

export interface ApiClient {
  get<T>(path: string): Promise<T>
  post<T>(path: string, body: unknown): Promise<T>
}

export function createApiClient(options: { baseUrl: string; token?: string }): ApiClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '')
  const request = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const headers: Record<string, string> = {}
    if (options.token) headers['authorization'] = `Bearer ${options.token}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    let res: Response
    try {
      res = await fetch(`${baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      })
    } catch (error) {
      throw new ApiRequestError(
        0,
        'SIM_API_UNREACHABLE',
        `${method} ${baseUrl}${path}: ${(error as Error).message}`,
      )
    }
    const text = await res.text()
    const parsed = text ? (JSON.parse(text) as unknown) : null
    if (!res.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } } | null)?.error
      throw new ApiRequestError(
        res.status,
        error?.code ?? 'HTTP_ERROR',
        `${method} ${path} answered ${res.status}: ${error?.message ?? text}`,
      )
    }
    return parsed as T
  }
  return { get: (path) => request('GET', path), post: (path, body) => request('POST', path, body) }
}

interface DemoSensor {
  key: string
  name: string
  unit: string
  kind: 'gauge' | 'counter'
  profile: ProfileKind
  resolution: number
  expectedIntervalMs: number
  minValue: number
  maxValue?: number
}

/** The sensors of a demo machine, in order; machines with more sensors repeat them with a suffix. */
export const DEMO_SENSORS: readonly DemoSensor[] = [
  {
    key: 'temperature',
    name: 'Spindle temperature',
    unit: '°C',
    kind: 'gauge',
    profile: 'temperature',
    resolution: 0.1,
    expectedIntervalMs: 1000,
    minValue: -40,
    maxValue: 200,
  },
  {
    key: 'vibration',
    name: 'Vibration RMS',
    unit: 'mm/s',
    kind: 'gauge',
    profile: 'vibration',
    resolution: 0.01,
    expectedIntervalMs: 1000,
    minValue: 0,
    maxValue: 100,
  },
  {
    key: 'pressure',
    name: 'Hydraulic pressure',
    unit: 'bar',
    kind: 'gauge',
    profile: 'pressure',
    resolution: 0.01,
    expectedIntervalMs: 2000,
    minValue: 0,
    maxValue: 16,
  },
  {
    key: 'motor_current',
    name: 'Motor current',
    unit: 'A',
    kind: 'gauge',
    profile: 'current',
    resolution: 0.1,
    expectedIntervalMs: 1000,
    minValue: 0,
    maxValue: 50,
  },
  {
    key: 'parts',
    name: 'Parts produced',
    unit: 'parts',
    kind: 'counter',
    profile: 'counter',
    resolution: 1,
    expectedIntervalMs: 5000,
    minValue: 0,
  },
]

export function demoSensor(index: number, intervalOverrideMs?: number): DemoSensor {
  const base = DEMO_SENSORS[index % DEMO_SENSORS.length]!
  const round = Math.floor(index / DEMO_SENSORS.length)
  const sensor =
    round === 0
      ? { ...base }
      : { ...base, key: `${base.key}_${round + 1}`, name: `${base.name} ${round + 1}` }
  if (intervalOverrideMs !== undefined) sensor.expectedIntervalMs = intervalOverrideMs
  return sensor
}

export interface ProvisionDemoOptions {
  api: ApiClient
  apiUrl: string
  mqttUrl: string
  factories: number
  machinesPerFactory: number
  sensorsPerMachine: number
  factoryPrefix: string
  intervalOverrideMs?: number
}

interface Identified {
  id: number
  key: string
}

async function findOrCreate(
  api: ApiClient,
  listPath: string,
  field: string,
  body: { key: string },
): Promise<Identified> {
  const list = await api.get<Record<string, Identified[]>>(listPath)
  const found = list[field]?.find((item) => item.key === body.key)
  return found ?? api.post<Identified>(listPath, body)
}

/** Creates what is missing (reusing factories, machines and sensors with the same keys) and issues
 * fresh credentials for every machine. */
export async function provisionDemo(options: ProvisionDemoOptions): Promise<CredentialsFile> {
  const { api } = options
  const devices: CredentialDevice[] = []
  for (let f = 1; f <= options.factories; f++) {
    const factoryKey = `${options.factoryPrefix}-${f}`
    const factory = await findOrCreate(api, '/api/v1/factories', 'factories', {
      key: factoryKey,
      name: `Demo factory ${f}`,
    } as { key: string })
    for (let m = 1; m <= options.machinesPerFactory; m++) {
      const machineKey = `machine-${String(m).padStart(2, '0')}`
      const machine = await findOrCreate(api, `/api/v1/factories/${factory.id}/machines`, 'machines', {
        key: machineKey,
        name: `Machine ${m}`,
        autoRegisterSensors: false,
      } as { key: string })
      const sensors = []
      for (let s = 0; s < options.sensorsPerMachine; s++) {
        const spec = demoSensor(s, options.intervalOverrideMs)
        const { profile, ...body } = spec
        const created = await findOrCreate(api, `/api/v1/machines/${machine.id}/sensors`, 'sensors', body)
        const { key, unit, kind, resolution, minValue, expectedIntervalMs } = spec
        sensors.push({
          id: created.id,
          key,
          unit,
          kind,
          resolution,
          minValue,
          maxValue: spec.maxValue ?? null,
          expectedIntervalMs,
          profile,
        })
      }
      const credentials = await api.post<{
        clientId?: string
        username: string
        password: string
        topic?: string
      }>(`/api/v1/machines/${machine.id}/credentials`, {})
      devices.push({
        factoryId: factory.id,
        factoryKey,
        machineId: machine.id,
        machineKey,
        clientId: credentials.clientId ?? credentials.username,
        username: credentials.username,
        password: credentials.password,
        topic: credentials.topic ?? `factories/${factoryKey}/machines/${machineKey}/telemetry`,
        sensors,
      })
    }
  }
  return { version: CREDENTIALS_FILE_VERSION, apiUrl: options.apiUrl, mqttUrl: options.mqttUrl, devices }
}
