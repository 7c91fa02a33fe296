// Durability end to end: kill -9 at random moments, failing commits, SIGTERM under load, and a bounded WAL.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, describe, expect, it } from 'vitest'
import {
  type ApiClient,
  type ApiResponse,
  connectDevice,
  createApiClient,
  type ProvisionedMachine,
  provisionMachine,
  startTestService,
} from '../helpers/service.ts'

const ROOT = path.resolve(import.meta.dirname, '../..')
const T0 = Date.now() - 3_600_000
const CRASH_ROUNDS = 20
const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

interface Child {
  proc: ChildProcess
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Runs `gateway/main.ts` as a real process and resolves once it logs that it started. */
async function startChild(dataDir: string, ports: { http: number; mqtt: number }): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      FACTORY_DATA_DIR: dataDir,
      FACTORY_HTTP_HOST: '127.0.0.1',
      FACTORY_MQTT_HOST: '127.0.0.1',
      FACTORY_HTTP_PORT: String(ports.http),
      FACTORY_MQTT_PORT: String(ports.mqtt),
      FACTORY_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  )
  let stderr = ''
  proc.stderr!.on('data', (chunk) => {
    stderr += chunk
  })
  await new Promise<void>((resolve, reject) => {
    let out = ''
    const onData = (chunk: Buffer) => {
      out += chunk
      if (out.includes('"factory-monitor started"')) {
        proc.stdout!.off('data', onData)
        proc.stdout!.resume()
        resolve()
      }
    }
    proc.stdout!.on('data', onData)
    exited.then(({ code }) => reject(new Error(`exited ${code} before starting: ${stderr}`)))
  })
  return { proc, exited }
}

/** Every stored timestamp of a sensor, following the cursor. */
async function storedTimestamps(api: ApiClient, sensorId: number): Promise<number[]> {
  const out: number[] = []
  let cursor: string | null = ''
  while (cursor !== null) {
    const page: ApiResponse = await api.get(
      `/api/v1/sensors/${sensorId}/readings?limit=10000${cursor ? `&cursor=${cursor}` : ''}`,
    )
    expect(page.status).toBe(200)
    for (const r of page.body.readings as { tsMs: number }[]) out.push(r.tsMs)
    cursor = page.body.nextCursor
  }
  return out
}

function integrityCheck(file: string): string {
  const db = new Database(file)
  try {
    return db.pragma('integrity_check', { simple: true }) as string
  } finally {
    db.close()
  }
}

/**
 * A device that keeps a window of QoS 1 readings in flight, each with its own timestamp, and remembers
 * which were acknowledged; whatever was not is sent again after the next connect.
 */
function createPublisher(m: ProvisionedMachine, window: number) {
  const acked = new Set<number>()
  let unacked = new Set<number>()
  let nextSeq = 0
  let client: MqttClient | null = null
  let stopped = false
  let firstAck: (() => void) | null = null

  const send = (seq: number) => {
    const c = client
    if (!c || stopped) return
    unacked.add(seq)
    c.publish(
      m.telemetryTopic,
      JSON.stringify({ ts: T0 + seq, values: { temp: seq } }),
      { qos: 1 },
      (error) => {
        if (error || c !== client) return
        acked.add(seq)
        unacked.delete(seq)
        firstAck?.()
        if (!stopped) send(nextSeq++)
      },
    )
  }

  return {
    acked,
    async run(mqttUrl: string) {
      stopped = false
      // A freshly restarted server on a busy machine may take a while to answer; retry a bounded number
      // of times rather than count a slow start as a lost reading.
      for (let attempt = 1; ; attempt++) {
        try {
          client = await connectDevice(mqttUrl, {
            clientId: m.clientId,
            username: m.username,
            password: m.password,
            connectTimeout: 15_000,
            // Unacknowledged messages are resent by this publisher, not by MQTT.js' store.
            queueQoSZero: false,
          })
          break
        } catch (error) {
          if (attempt >= 5) throw error
        }
      }
      client.on('error', () => {})
      const resend = [...unacked]
      unacked = new Set()
      for (const seq of resend) send(seq)
      for (let i = 0; i < window; i++) send(nextSeq++)
      await new Promise<void>((resolve) => {
        firstAck = resolve
        if (acked.size > 0 && resend.length === 0) resolve()
      })
    },
    stop() {
      stopped = true
      const c = client
      client = null
      // Anything still in flight counts as unacknowledged from here on.
      c?.end(true)
    },
  }
}

describe('kill -9 while devices publish', () => {
  it(`loses no acknowledged reading and keeps the database intact over ${CRASH_ROUNDS} crashes`, async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'fm-crash-'))
    dirs.push(dataDir)
    const ports = { http: await freePort(), mqtt: await freePort() }
    let child = await startChild(dataDir, ports)
    const api = createApiClient(
      `http://127.0.0.1:${ports.http}`,
      readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim(),
    )
    const machines = await Promise.all(
      ['m1', 'm2', 'm3'].map((key) => provisionMachine(api, { machineKey: key, sensors: [{ key: 'temp' }] })),
    )
    const publishers = machines.map((m) => createPublisher(m, 16))
    const mqttUrl = `mqtt://127.0.0.1:${ports.mqtt}`
    const file = path.join(dataDir, 'factory-monitor.db')

    for (let round = 0; round < CRASH_ROUNDS; round++) {
      if (round > 0) child = await startChild(dataDir, ports)
      // After every restart: every acknowledged reading is there, each exactly once.
      for (const [i, m] of machines.entries()) {
        const stored = await storedTimestamps(api, m.sensors['temp']!)
        expect(new Set(stored).size).toBe(stored.length)
        const have = new Set(stored)
        const missing = [...publishers[i]!.acked].filter((seq) => !have.has(T0 + seq))
        expect({ round, machine: m.machineId, missing }).toEqual({ round, machine: m.machineId, missing: [] })
      }
      await Promise.all(publishers.map((p) => p.run(mqttUrl)))
      // A random moment: up to ~600 ms into the load, after the first acknowledgements.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 600))
      child.proc.kill('SIGKILL')
      expect((await child.exited).signal).toBe('SIGKILL')
      for (const p of publishers) p.stop()
      expect(integrityCheck(file)).toBe('ok')
    }

    child = await startChild(dataDir, ports)
    for (const [i, m] of machines.entries()) {
      const stored = new Set(await storedTimestamps(api, m.sensors['temp']!))
      expect([...publishers[i]!.acked].filter((seq) => !stored.has(T0 + seq))).toEqual([])
      expect(publishers[i]!.acked.size).toBeGreaterThan(CRASH_ROUNDS)
    }
    child.proc.kill('SIGTERM')
    expect((await child.exited).code).toBe(0)
  }, 240_000)
})

describe('SIGTERM under load', () => {
  it('stops accepting, commits what is in flight, checkpoints the WAL and exits 0', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'fm-term-'))
    dirs.push(dataDir)
    const ports = { http: await freePort(), mqtt: await freePort() }
    let child = await startChild(dataDir, ports)
    const api = createApiClient(
      `http://127.0.0.1:${ports.http}`,
      readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim(),
    )
    const machines = await Promise.all(
      ['t1', 't2'].map((key) => provisionMachine(api, { machineKey: key, sensors: [{ key: 'temp' }] })),
    )
    const publishers = machines.map((m) => createPublisher(m, 32))
    await Promise.all(publishers.map((p) => p.run(`mqtt://127.0.0.1:${ports.mqtt}`)))
    child.proc.kill('SIGTERM')
    const exit = await child.exited
    for (const p of publishers) p.stop()
    expect(exit).toEqual({ code: 0, signal: null })
    const file = path.join(dataDir, 'factory-monitor.db')
    // TRUNCATE checkpoint at shutdown: the WAL is empty (or gone).
    const walBytes = (() => {
      try {
        return statSync(`${file}-wal`).size
      } catch {
        return 0
      }
    })()
    expect(walBytes).toBe(0)
    expect(integrityCheck(file)).toBe('ok')

    child = await startChild(dataDir, ports)
    for (const [i, m] of machines.entries()) {
      const stored = new Set(await storedTimestamps(api, m.sensors['temp']!))
      expect([...publishers[i]!.acked].filter((seq) => !stored.has(T0 + seq))).toEqual([])
    }
    child.proc.kill('SIGTERM')
    expect((await child.exited).code).toBe(0)
  }, 60_000)
})

describe('a commit that fails', () => {
  it('sends no PUBACK, answers HTTP writes with 503, and stores the retries after recovery', async () => {
    const svc = await startTestService({ FACTORY_DB_BUSY_TIMEOUT_MS: '50' })
    try {
      const m = await provisionMachine(svc.api, { machineKey: 'locked', sensors: [{ key: 'temp' }] })
      // Another process holds the write lock: every commit fails with SQLITE_BUSY until it lets go.
      const side = new Database(svc.service.storage.file)
      side.exec('BEGIN IMMEDIATE')
      const client = mqtt.connect(svc.mqttUrl, {
        clientId: m.clientId,
        username: m.username,
        password: m.password,
        reconnectPeriod: 50,
      })
      client.on('error', () => {})
      const acked = new Promise<void>((resolve, reject) =>
        client.publish(m.telemetryTopic, JSON.stringify({ ts: T0, values: { temp: 7 } }), { qos: 1 }, (e) =>
          e ? reject(e) : resolve(),
        ),
      )
      let ackedYet = false
      void acked.then(() => {
        ackedYet = true
      })
      // The failed commit closes the connection instead of acknowledging.
      await new Promise<void>((resolve) => client.once('close', () => resolve()))
      expect(ackedYet).toBe(false)
      const write = await svc.api.post('/api/v1/factories', { key: 'during-outage', name: 'x' })
      expect([write.status, write.body.error.code]).toEqual([503, 'API_STORAGE_UNAVAILABLE'])
      const metrics = await svc.api.get('/metrics')
      expect(metrics.body).toMatch(/factory_messages_failed_total [1-9]/)

      side.exec('ROLLBACK')
      side.close()
      // MQTT.js resends the unacknowledged message on reconnect; its PUBACK means it is stored.
      await acked
      client.end(true)
      const res = await svc.api.get(`/api/v1/sensors/${m.sensors['temp']}/readings`)
      expect(res.body.readings).toEqual([{ tsMs: T0, value: 7 }])
      expect((await svc.api.post('/api/v1/factories', { key: 'after-outage', name: 'x' })).status).toBe(201)
    } finally {
      await svc.cleanup()
    }
  }, 30_000)
})

describe('WAL size', () => {
  it('stays bounded under ingestion while a long read transaction holds old pages', async () => {
    const limitBytes = 262_144
    const svc = await startTestService({ FACTORY_DB_WAL_SIZE_LIMIT_BYTES: String(limitBytes) })
    try {
      const m = await provisionMachine(svc.api, { machineKey: 'wal', sensors: [{ key: 'temp' }] })
      const client = await connectDevice(svc.mqttUrl, {
        clientId: m.clientId,
        username: m.username,
        password: m.password,
      })
      const wal = `${svc.service.storage.file}-wal`
      let seq = 0
      const ingest = async (messages: number) => {
        for (let i = 0; i < messages; i++) {
          const batch = Array.from({ length: 500 }, () => ({ ts: T0 + seq++, values: { temp: seq } }))
          await client.publishAsync(m.telemetryTopic, JSON.stringify(batch), { qos: 1 })
        }
      }
      const reader = new Database(svc.service.storage.file, { readonly: true })
      reader.exec('BEGIN')
      reader.prepare('SELECT count(*) FROM sqlite_master').get()
      await ingest(60)
      const heldBytes = statSync(wal).size
      // While the reader holds its snapshot the WAL cannot be recycled, so it grows past the limit.
      expect(heldBytes).toBeGreaterThan(limitBytes)
      reader.exec('COMMIT')
      reader.close()
      // Once the reader is gone, the checkpoint thread (twice a second) copies every frame, the WAL starts over
      // and the next commit truncates it to the limit.
      const deadline = Date.now() + 10_000
      while (statSync(wal).size > limitBytes && Date.now() < deadline) {
        await ingest(1)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      expect(statSync(wal).size).toBeLessThanOrEqual(limitBytes)
      // And it stays there under continued ingestion.
      const sizes: number[] = []
      for (let i = 0; i < 10; i++) {
        await ingest(5)
        sizes.push(statSync(wal).size)
      }
      expect(Math.max(...sizes)).toBeLessThanOrEqual(heldBytes)
      await client.endAsync()
    } finally {
      await svc.cleanup()
    }
  }, 60_000)
})
