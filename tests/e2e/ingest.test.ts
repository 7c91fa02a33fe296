// The core data path end to end: real broker on port 0, MQTT.js devices, SQLite file, HTTP API.
import { connect as tcpConnect } from 'node:net'
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
const T0 = Date.now() - 60_000

const device = (m: ProvisionedMachine, extra = {}) =>
  connectDevice(svc.mqttUrl, { clientId: m.clientId, username: m.username, password: m.password, ...extra })

async function readings(sensorId: number) {
  const res = await svc.api.get(`/api/v1/sensors/${sensorId}/readings`)
  expect(res.status).toBe(200)
  return res.body.readings as { tsMs: number; value: number }[]
}

beforeAll(async () => {
  svc = await startTestService()
  press = await provisionMachine(svc.api)
})
afterAll(async () => {
  await svc?.cleanup()
})

describe('telemetry ingest', () => {
  it('stores a single snapshot and serves it over HTTP as soon as the PUBACK arrives', async () => {
    const client = await device(press)
    await publish(client, press.telemetryTopic, JSON.stringify({ ts: T0, values: { temp: 21.5, rpm: 1200 } }))
    // No waiting: PUBACK is sent only after the commit, so the reading is already readable.
    expect(await readings(press.sensors['temp']!)).toEqual([{ tsMs: T0, value: 21.5 }])
    expect(await readings(press.sensors['rpm']!)).toEqual([{ tsMs: T0, value: 1200 }])
    await client.endAsync()
  })

  it('stores telemetry sent at QoS 0, 1 and 2 and retained, each acknowledged after its commit', async () => {
    // QoS 0 and 1 take the broker's own telemetry path; QoS 2 and retained messages go through Aedes.
    const lathe = await provisionMachine(svc.api, { machineKey: 'lathe-qos', sensors: [{ key: 'temp' }] })
    const client = await device(lathe)
    const snapshot = (i: number) => JSON.stringify({ ts: T0 + i, values: { temp: i } })
    client.publish(lathe.telemetryTopic, snapshot(0), { qos: 0 })
    await client.publishAsync(lathe.telemetryTopic, snapshot(1), { qos: 1 })
    await client.publishAsync(lathe.telemetryTopic, snapshot(2), { qos: 2 })
    await client.publishAsync(lathe.telemetryTopic, snapshot(3), { qos: 1, retain: true })
    await client.publishAsync(lathe.telemetryTopic, snapshot(4), { qos: 0 })
    await client.publishAsync(lathe.telemetryTopic, snapshot(5), { qos: 1 })
    // One connection's messages commit in order, so the last PUBACK covers the QoS 0 messages before it.
    expect(await readings(lathe.sensors['temp']!)).toEqual(
      [0, 1, 2, 3, 4, 5].map((i) => ({ tsMs: T0 + i, value: i })),
    )
    await client.endAsync()
  })

  it('stores a batch of snapshots with ISO and numeric timestamps', async () => {
    const client = await device(press)
    const iso = new Date(T0 + 2000).toISOString()
    await publish(
      client,
      press.telemetryTopic,
      JSON.stringify([
        { ts: T0 + 1000, values: { temp: 22 } },
        { ts: iso, values: { temp: 23, rpm: 1300 } },
      ]),
    )
    expect((await readings(press.sensors['temp']!)).slice(1)).toEqual([
      { tsMs: T0 + 1000, value: 22 },
      { tsMs: T0 + 2000, value: 23 },
    ])
    const latest = await svc.api.get(`/api/v1/machines/${press.machineId}/latest`)
    expect(latest.body).toEqual({
      machineId: press.machineId,
      readings: [
        { sensorId: press.sensors['temp'], key: 'temp', unit: '', tsMs: T0 + 2000, value: 23 },
        { sensorId: press.sensors['rpm'], key: 'rpm', unit: '', tsMs: T0 + 2000, value: 1300 },
      ],
    })
    await client.endAsync()
  })

  it('uses the receive time when a snapshot has no ts', async () => {
    const m = await provisionMachine(svc.api, { machineKey: 'no-ts' })
    const client = await device(m)
    const before = Date.now()
    await publish(client, m.telemetryTopic, JSON.stringify({ values: { temp: 5 } }))
    const [row] = await readings(m.sensors['temp']!)
    expect(row!.value).toBe(5)
    expect(row!.tsMs).toBeGreaterThanOrEqual(before)
    expect(row!.tsMs).toBeLessThanOrEqual(Date.now())
    await client.endAsync()
  })

  it('creates no duplicate when a device resends the same reading', async () => {
    const m = await provisionMachine(svc.api, { machineKey: 'resend' })
    const client = await device(m)
    const payload = JSON.stringify({ ts: T0, values: { temp: 30 } })
    await publish(client, m.telemetryTopic, payload)
    await publish(client, m.telemetryTopic, payload)
    await client.endAsync()
    const again = await device(m)
    await publish(again, m.telemetryTopic, payload)
    await again.endAsync()
    expect(await readings(m.sensors['temp']!)).toEqual([{ tsMs: T0, value: 30 }])
    const count = await svc.api.get(`/api/v1/readings/count?machineId=${m.machineId}`)
    expect(count.body).toEqual({ count: 1 })
  })

  it('registers unknown sensors on a machine set to auto-register', async () => {
    const m = await provisionMachine(svc.api, { machineKey: 'auto', autoRegisterSensors: true, sensors: [] })
    const client = await device(m)
    await publish(client, m.telemetryTopic, JSON.stringify({ ts: T0, values: { fresh: 7.25 } }))
    await client.endAsync()
    const sensors = await svc.api.get(`/api/v1/machines/${m.machineId}/sensors`)
    expect(sensors.body.sensors.map((s: { key: string }) => s.key)).toEqual(['fresh'])
    expect(await readings(sensors.body.sensors[0].id)).toEqual([{ tsMs: T0, value: 7.25 }])
  })
})

describe('reading queries', () => {
  it('pages through a range with a cursor, oldest first', async () => {
    const m = await provisionMachine(svc.api, { machineKey: 'pages' })
    const client = await device(m)
    const snapshots = Array.from({ length: 25 }, (_, i) => ({ ts: T0 + i * 1000, values: { temp: i } }))
    await publish(client, m.telemetryTopic, JSON.stringify(snapshots))
    await client.endAsync()
    const seen: number[] = []
    let url = `/api/v1/sensors/${m.sensors['temp']}/readings?limit=10&from=${T0}&to=${T0 + 25_000}`
    for (let page = 0; page < 5; page++) {
      const res = await svc.api.get(url)
      seen.push(...res.body.readings.map((r: { value: number }) => r.value))
      if (res.body.nextCursor === null) break
      url = `/api/v1/sensors/${m.sensors['temp']}/readings?limit=10&to=${T0 + 25_000}&cursor=${res.body.nextCursor}`
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => i))
  })
})

describe('rejects', () => {
  const cases: { name: string; payload: string; reason: string; sensorKey: string | null }[] = [
    {
      name: 'malformed JSON',
      payload: '{"ts": 1, "values": {',
      reason: 'PAYLOAD_JSON_MALFORMED',
      sensorKey: null,
    },
    {
      name: 'a non-numeric value',
      payload: '{"values": {"temp": true}}',
      reason: 'READING_VALUE_NOT_NUMBER',
      sensorKey: 'temp',
    },
    {
      name: 'a number sent as a string',
      payload: '{"values": {"temp": "12.5"}}',
      reason: 'READING_VALUE_IS_STRING',
      sensorKey: 'temp',
    },
    {
      name: 'NaN',
      payload: '{"values": {"temp": NaN}}',
      reason: 'READING_VALUE_NOT_FINITE',
      sensorKey: 'temp',
    },
    {
      name: 'Infinity',
      payload: '{"values": {"temp": -Infinity}}',
      reason: 'READING_VALUE_NOT_FINITE',
      sensorKey: 'temp',
    },
    {
      name: '1e400',
      payload: '{"values": {"temp": 1e400}}',
      reason: 'READING_VALUE_NOT_FINITE',
      sensorKey: 'temp',
    },
    {
      name: 'an unknown sensor key',
      payload: '{"values": {"nope": 1}}',
      reason: 'READING_SENSOR_UNKNOWN',
      sensorKey: 'nope',
    },
    {
      name: 'a value above the valid range',
      payload: '{"values": {"temp": 501}}',
      reason: 'READING_VALUE_OUT_OF_RANGE',
      sensorKey: 'temp',
    },
    {
      name: 'a timestamp far in the future',
      payload: JSON.stringify({ ts: Date.now() + 86_400_000, values: { temp: 1 } }),
      reason: 'READING_TS_IN_FUTURE',
      sensorKey: 'temp',
    },
    {
      name: 'a timestamp older than the backfill window',
      payload: JSON.stringify({ ts: Date.now() - 30 * 86_400_000, values: { temp: 1 } }),
      reason: 'READING_TS_TOO_OLD',
      sensorKey: 'temp',
    },
    {
      name: 'a batch over the size limit',
      payload: JSON.stringify(Array.from({ length: 1001 }, (_, i) => ({ ts: T0 + i, values: { temp: 1 } }))),
      reason: 'PAYLOAD_BATCH_TOO_LARGE',
      sensorKey: null,
    },
  ]

  it.each(cases.map((c, i) => ({ ...c, i })))(
    'stores $name as a reject with reason $reason',
    async ({ payload, reason, sensorKey, i }) => {
      const m = await provisionMachine(svc.api, { machineKey: `rejects-${i}` })
      const client = await device(m)
      await publish(client, m.telemetryTopic, payload)
      await client.endAsync()
      const res = await svc.api.get(`/api/v1/rejects?machineId=${m.machineId}`)
      expect(res.status).toBe(200)
      expect(res.body.rejects).toHaveLength(1)
      const [reject] = res.body.rejects
      expect({
        reason: reject.reason,
        sensorKey: reject.sensorKey,
        clientId: reject.clientId,
        topic: reject.topic,
      }).toEqual({
        reason,
        sensorKey,
        clientId: m.clientId,
        topic: m.telemetryTopic,
      })
      expect(reject.detail).not.toBe('')
      expect(reject.payloadEncoding).toBe('utf8')
      expect(payload.startsWith(reject.payload)).toBe(true)
      expect(await svc.api.get(`/api/v1/readings/count?machineId=${m.machineId}`)).toEqual({
        status: 200,
        body: { count: 0 },
      })
    },
  )

  it('keeps the good readings of a message that also has bad ones', async () => {
    const m = await provisionMachine(svc.api, { machineKey: 'mixed' })
    const client = await device(m)
    await publish(
      client,
      m.telemetryTopic,
      JSON.stringify({ ts: T0, values: { temp: 20, rpm: 'fast', ghost: 1 } }),
    )
    await client.endAsync()
    expect(await readings(m.sensors['temp']!)).toEqual([{ tsMs: T0, value: 20 }])
    const res = await svc.api.get(`/api/v1/rejects?machineId=${m.machineId}`)
    expect(
      res.body.rejects.map((r: { reason: string; sensorKey: string }) => [r.reason, r.sensorKey]).sort(),
    ).toEqual([
      ['READING_SENSOR_UNKNOWN', 'ghost'],
      ['READING_VALUE_IS_STRING', 'rpm'],
    ])
  })

  it('filters rejects by reason', async () => {
    const res = await svc.api.get('/api/v1/rejects?reason=READING_VALUE_NOT_FINITE')
    expect(res.body.rejects.map((r: { reason: string }) => r.reason)).toEqual([
      'READING_VALUE_NOT_FINITE',
      'READING_VALUE_NOT_FINITE',
      'READING_VALUE_NOT_FINITE',
    ])
  })
})

describe('device authentication and access control', () => {
  const refusal = (options: Parameters<typeof device>[1]) =>
    device(press, options).then(
      () => 'accepted',
      (error: { code?: number }) => error.code,
    )

  it('refuses a connection without credentials with CONNACK 4', async () => {
    expect(await refusal({ username: undefined, password: undefined })).toBe(4)
  })

  it('refuses a wrong password and an unknown user with CONNACK 4', async () => {
    expect(await refusal({ password: 'wrong' })).toBe(4)
    expect(await refusal({ username: 'plant-1.ghost', clientId: 'plant-1.ghost' })).toBe(4)
  })

  it('refuses a client id that is not the machine identity with CONNACK 2', async () => {
    expect(await refusal({ clientId: 'someone-else' })).toBe(2)
  })

  it('stops working for the old password as soon as the credential is rotated', async () => {
    const m = await provisionMachine(svc.api, { machineKey: 'rotate' })
    const rotated = await svc.api.post(`/api/v1/machines/${m.machineId}/credentials`)
    expect(rotated.status).toBe(201)
    await expect(device(m)).rejects.toMatchObject({ code: 4 })
    const client = await device({ ...m, password: rotated.body.password })
    await client.endAsync()
  })

  it("disconnects a device publishing to another machine's topic and stores nothing", async () => {
    const other = await provisionMachine(svc.api, { machineKey: 'other' })
    const client = await device(press)
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
    client.publish(other.telemetryTopic, JSON.stringify({ ts: T0, values: { temp: 1 } }), { qos: 1 })
    await closed
    client.end(true)
    expect(await svc.api.get(`/api/v1/readings/count?machineId=${other.machineId}`)).toEqual({
      status: 200,
      body: { count: 0 },
    })
    const metrics = await svc.api.get('/metrics')
    expect(metrics.body).toMatch(/factory_mqtt_refusals_total\{reason="ACL_TOPIC_NOT_OWNED"\} [1-9]/)
  })

  it("refuses subscriptions to '#' and to another machine, and allows the device's own topics", async () => {
    const client = await device(press)
    const topics = ['#', 'factories/plant-1/machines/other/telemetry', press.telemetryTopic]
    // MQTT.js reports a 0x80 grant as an error but still hands over the SUBACK packet.
    const granted = await new Promise<unknown>((resolve) =>
      client.subscribe(topics, { qos: 1 }, (_error, _requested, suback) => resolve(suback?.granted)),
    )
    expect(granted).toEqual([128, 128, 1])
    await client.endAsync()
  })
})

describe('machine status', () => {
  it('marks the machine online on connect and offline when the connection drops', async () => {
    const m = await provisionMachine(svc.api, { machineKey: 'status' })
    const client = await device(m, {
      will: { topic: m.statusTopic, payload: Buffer.from('offline'), qos: 1, retain: false },
    })
    // A QoS 1 publish is committed in the same transaction order as the status change queued before it.
    await publish(client, m.telemetryTopic, JSON.stringify({ ts: T0, values: { temp: 1 } }))
    const online = await svc.api.get(`/api/v1/machines/${m.machineId}`)
    expect(online.body.status).toBe('online')
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
    client.stream.destroy()
    await closed
    client.end(true)
    // The offline status is committed by the next batch; a publish from another device forces one.
    const other = await device(press)
    await publish(other, press.telemetryTopic, JSON.stringify({ ts: T0 + 99, values: { temp: 1 } }))
    await other.endAsync()
    const offline = await svc.api.get(`/api/v1/machines/${m.machineId}`)
    expect(offline.body.status).toBe('offline')
    expect(offline.body.statusSinceMs).toBeGreaterThanOrEqual(online.body.statusSinceMs)
  })
})

describe('frame guard', () => {
  it('drops a client that declares a packet larger than the limit, and keeps serving others', async () => {
    const socket = tcpConnect(svc.service.mqttPort, '127.0.0.1')
    const closed = new Promise((resolve) => socket.once('close', resolve))
    // PUBLISH with remaining length 268,435,455 (the MQTT maximum): 0x30, 0xff 0xff 0xff 0x7f.
    socket.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f, 0x00]))
    await closed
    const client = await device(press)
    await publish(client, press.telemetryTopic, JSON.stringify({ ts: T0 + 500, values: { temp: 2 } }))
    await client.endAsync()
    const metrics = await svc.api.get('/metrics')
    expect(metrics.body).toMatch(/factory_mqtt_refusals_total\{reason="MQTT_PACKET_TOO_LARGE"\} 1/)
  })
})

describe('first start', () => {
  it('keeps the admin token in a file only its owner can read, and needs a token for /metrics', async () => {
    const { statSync } = await import('node:fs')
    expect(statSync(`${svc.dataDir}/admin-token`).mode & 0o777).toBe(0o600)
    expect((await svc.api.get('/metrics', '')).status).toBe(401)
    expect((await svc.api.get('/health', '')).status).toBe(200)
  })
})

describe('durability', () => {
  it('keeps committed readings across a restart', async () => {
    const m = await provisionMachine(svc.api, { machineKey: 'restart' })
    const client = await device(m)
    await publish(client, m.telemetryTopic, JSON.stringify({ ts: T0, values: { temp: 42 } }))
    await client.endAsync()
    svc = await svc.restart()
    expect(await readings(m.sensors['temp']!)).toEqual([{ tsMs: T0, value: 42 }])
    // The device credential survives too.
    const again = await device(m)
    await again.endAsync()
  })
})
