// Device telemetry skips Aedes' fan-out while no subscription matches and reaches live clean-session
// subscribers as frames written straight to them: subscribers, live or persistent, still receive every
// message, once, in order, at the QoS they asked for, before and after others come and go.
import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { filterMatches } from '../../broker/telemetry-fanout.ts'
import { CONNACK, connectFrame, frame, rawConnect, SUBACK, subscribeFrame } from '../fuzz/mqtt-wire.ts'
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
let seq = 0

beforeAll(async () => {
  svc = await startTestService({ FACTORY_MQTT_ALLOW_ANONYMOUS: 'true' })
  press = await provisionMachine(svc.api, { machineKey: 'fanout' })
})
afterAll(async () => {
  await svc?.cleanup()
})

const device = () =>
  connectDevice(svc.mqttUrl, { clientId: press.clientId, username: press.username, password: press.password })
const subscriber = (extra = {}) => connectDevice(svc.mqttUrl, { clientId: `historian-${seq++}`, ...extra })
const snapshot = () => JSON.stringify({ ts: T0 + seq++, values: { temp: 20 } })

/** Resolves with the next message the client receives. */
const nextMessage = (client: MqttClient) =>
  new Promise<{ topic: string; payload: string }>((resolve) =>
    client.once('message', (topic, payload) => resolve({ topic, payload: payload.toString() })),
  )

describe('filterMatches', () => {
  it('follows the MQTT wildcard rules', () => {
    const topic = 'factories/plant-1/machines/press-1/telemetry'
    const cases: [string, string, boolean][] = [
      ['#', topic, true],
      ['factories/#', topic, true],
      ['factories/+/machines/+/telemetry', topic, true],
      ['factories/plant-1/machines/press-1/telemetry/#', topic, true],
      [topic, topic, true],
      ['$share/g/factories/#', topic, true],
      ['factories/+/machines/+/status', topic, false],
      ['factories/plant-2/#', topic, false],
      ['factories/+', topic, false],
      ['factories/plant-1/machines/press-1/telemetry/x', topic, false],
      ['#', '$SYS/broker/uptime', false],
      ['+/broker/uptime', '$SYS/broker/uptime', false],
      ['$SYS/#', '$SYS/broker/uptime', true],
    ]
    expect(cases.map(([filter, t]) => filterMatches(filter, t))).toEqual(cases.map(([, , hit]) => hit))
  })
})

describe('telemetry fan-out', () => {
  it('delivers telemetry to a subscriber that arrives after telemetry flowed with nobody subscribed', async () => {
    const client = await device()
    await publish(client, press.telemetryTopic, snapshot())
    const historian = await subscriber()
    await historian.subscribeAsync('factories/#', { qos: 1 })
    const received = nextMessage(historian)
    const payload = snapshot()
    await publish(client, press.telemetryTopic, payload)
    expect(await received).toEqual({ topic: press.telemetryTopic, payload })
    await historian.endAsync()

    // Gone again: telemetry is still stored and acknowledged.
    const count = async () => (await svc.api.get(`/api/v1/readings/count?machineId=${press.machineId}`)).body
    await publish(client, press.telemetryTopic, snapshot())
    expect(await count()).toEqual({ count: 3 })
    await client.endAsync()
  })

  it('delivers a device its own telemetry when it subscribes to its topic', async () => {
    const client = await device()
    await client.subscribeAsync(press.telemetryTopic, { qos: 1 })
    const received = nextMessage(client)
    const payload = snapshot()
    await publish(client, press.telemetryTopic, payload)
    expect(await received).toEqual({ topic: press.telemetryTopic, payload })
    await client.unsubscribeAsync(press.telemetryTopic)
    await client.endAsync()
  })

  it('delivers each subscriber its QoS, once per message even through overlapping filters', async () => {
    const client = await device()
    const atMostOnce = await subscriber()
    await atMostOnce.subscribeAsync('factories/#', { qos: 0 })
    const atLeastOnce = await subscriber()
    await atLeastOnce.subscribeAsync(['factories/#', press.telemetryTopic], { qos: 1 })
    const seen = (c: MqttClient) => {
      const packets: { payload: string; qos: number; hasId: boolean }[] = []
      c.on('message', (_t, payload, packet) =>
        packets.push({ payload: payload.toString(), qos: packet.qos, hasId: packet.messageId !== undefined }),
      )
      return packets
    }
    const [zero, one] = [seen(atMostOnce), seen(atLeastOnce)]
    const payloads = [snapshot(), snapshot()]
    for (const p of payloads) await publish(client, press.telemetryTopic, p)
    await expect.poll(() => zero.length + one.length).toBe(4)
    expect({ zero, one }).toEqual({
      zero: payloads.map((payload) => ({ payload, qos: 0, hasId: false })),
      one: payloads.map((payload) => ({ payload, qos: 1, hasId: true })),
    })
    await Promise.all([client, atMostOnce, atLeastOnce].map((c) => c.endAsync()))
  })

  it('delivers the stream of a pipelining device whole and in publish order', async () => {
    const client = await device()
    const historian = await subscriber()
    await historian.subscribeAsync('factories/+/machines/+/telemetry', { qos: 1 })
    const received: string[] = []
    historian.on('message', (_t, payload) => received.push(payload.toString()))
    const payloads = Array.from({ length: 300 }, snapshot)
    // All in flight at once: the broker reads ahead while earlier ones wait for their commit.
    await Promise.all(payloads.map((p) => client.publishAsync(press.telemetryTopic, p, { qos: 1 })))
    await expect.poll(() => received.length).toBe(payloads.length)
    expect(received).toEqual(payloads)
    await Promise.all([client.endAsync(), historian.endAsync()])
  })

  it('delivers every byte to a subscriber that stops reading while several megabytes are sent', async () => {
    // With the subscriber's socket full, the broker's writes wait in its stream while the next turns fill
    // outboxes: a buffer reused before its write completed would corrupt frames still waiting.
    const raw = await rawConnect(svc.service.mqttPort)
    raw.send(connectFrame({ clientId: `historian-${seq++}` }))
    await raw.next(CONNACK)
    raw.send(subscribeFrame(1, [[press.telemetryTopic, 0]]))
    await raw.next(SUBACK)
    raw.socket.pause()
    const client = await device()
    // Whitespace after the JSON makes each message ~3 KB: 2,000 of them are more than the socket buffers hold.
    const PADDING = 3_000
    const payloads = Array.from({ length: 2_000 }, () => snapshot() + ' '.repeat(PADDING))
    const published = Promise.all(
      payloads.map((p) => client.publishAsync(press.telemetryTopic, p, { qos: 1 })),
    )
    await new Promise((resolve) => setTimeout(resolve, 500))
    raw.socket.resume()
    await published
    const received = () => raw.packets.filter((p) => p.type === 3)
    await expect.poll(() => received().length, { timeout: 10_000 }).toBe(payloads.length)
    // Each payload as its JSON and its length (a readable diff; any stray byte changes one or the other).
    const topicBytes = Buffer.byteLength(press.telemetryTopic)
    const shown = (payload: string) => ({ json: payload.trimEnd(), bytes: payload.length })
    expect(received().map((p) => shown(p.body.subarray(2 + topicBytes).toString()))).toEqual(
      payloads.map(shown),
    )
    raw.socket.destroy()
    await client.endAsync()
  })

  it('keeps a subscriber whose only traffic is PUBACKs past its keep-alive', async () => {
    // The broker drops a clean session's PUBACKs unparsed; they must still count as hearing from it.
    const raw = await rawConnect(svc.service.mqttPort)
    raw.send(connectFrame({ clientId: `historian-${seq++}`, keepaliveS: 1 }))
    expect((await raw.next(CONNACK)).body[1]).toBe(0)
    raw.send(subscribeFrame(1, [[press.telemetryTopic, 1]]))
    await raw.next(SUBACK)
    let acked = 0
    const ack = setInterval(() => {
      for (const p of raw.packets.slice(acked).filter((p) => p.type === 3)) {
        const id = p.body.readUInt16BE(2 + p.body.readUInt16BE(0))
        raw.send(frame(4, 0, Buffer.from([id >> 8, id & 0xff])))
      }
      acked = raw.packets.length
    }, 20)
    const client = await device()
    // 3 s of telemetry, twice the 1.5 s after which a silent client is dropped.
    for (let i = 0; i < 15; i++) {
      await publish(client, press.telemetryTopic, snapshot())
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    clearInterval(ack)
    const publishes = raw.packets.filter((p) => p.type === 3).length
    expect({ publishes, open: !raw.socket.destroyed }).toEqual({ publishes: 15, open: true })
    raw.socket.destroy()
    await client.endAsync()
  })

  it('queues telemetry for an offline persistent session and delivers it on reconnect', async () => {
    const clientId = `historian-persistent-${seq++}`
    const first = await subscriber({ clientId, clean: false })
    await first.subscribeAsync('factories/+/machines/+/telemetry', { qos: 1 })
    await first.endAsync()

    const client = await device()
    const payload = snapshot()
    await publish(client, press.telemetryTopic, payload)
    await client.endAsync()

    // The listener is attached before the CONNACK arrives, since the queued message follows right after it.
    const again = mqtt.connect(svc.mqttUrl, { clientId, clean: false, reconnectPeriod: 0 })
    const received = nextMessage(again)
    expect(await received).toEqual({ topic: press.telemetryTopic, payload })
    await again.endAsync()
  })
})
