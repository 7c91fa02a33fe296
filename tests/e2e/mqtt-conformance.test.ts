// MQTT 3.1.1 conformance of the embedded broker, after the Eclipse Paho interoperability tests
// (basic, retained, offline queueing, will, overlapping subscriptions, keepalive, redelivery, zero-length
// client id, subscribe failure, $ topics), plus QoS 0/1/2 flows and client take-over. Anonymous mode is
// on, as in development: anonymous telemetry is forwarded but not stored.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONNACK, connectFrame, rawConnect } from '../fuzz/mqtt-wire.ts'
import { startTestService, type TestService } from '../helpers/service.ts'

let svc: TestService
const open: MqttClient[] = []

const TOPICS = ['TopicA', 'TopicA/B', 'Topic/C', 'TopicA/C', '/TopicA'] as const
const WILD = ['TopicA/+', '+/C', '#', '/#', '/+', '+/+', 'TopicA/#'] as const

interface Received {
  topic: string
  payload: string
  qos: number
  retain: boolean
}

function client(
  clientId: string,
  options: IClientOptions = {},
): Promise<MqttClient & { received: Received[] }> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(svc.mqttUrl, {
      clientId,
      reconnectPeriod: 0,
      protocolVersion: 4,
      ...options,
    }) as MqttClient & { received: Received[] }
    c.received = []
    c.on('message', (topic, payload, packet) =>
      c.received.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain }),
    )
    c.once('connect', () => {
      open.push(c)
      resolve(c)
    })
    c.once('error', reject)
  })
}

/** Resolves once the client has received `n` messages in total. */
function receivedCount(c: MqttClient & { received: Received[] }, n: number): Promise<Received[]> {
  return new Promise((resolve) => {
    const check = () => {
      if (c.received.length >= n) {
        c.off('message', check)
        resolve(c.received)
      }
    }
    c.on('message', check)
    check()
  })
}

/** Resolves once every payload in `payloads` has been received. */
function receivedPayloads(c: MqttClient & { received: Received[] }, payloads: string[]): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (payloads.every((p) => c.received.some((m) => m.payload === p))) {
        c.off('message', check)
        resolve()
      }
    }
    c.on('message', check)
    check()
  })
}

/** A marker message on a private topic: when it arrives, everything published before it has been routed. */
async function barrier(c: MqttClient & { received: Received[] }): Promise<void> {
  // Three levels, so that none of the two-level wildcard subscriptions above match it.
  const topic = `barrier/${c.options.clientId}/marker`
  await c.subscribeAsync(topic, { qos: 1 })
  const before = c.received.length
  await c.publishAsync(topic, 'barrier', { qos: 1 })
  await receivedCount(c, before + 1)
  c.received.splice(
    c.received.findIndex((m) => m.topic === topic),
    1,
  )
  await c.unsubscribeAsync(topic)
}

beforeAll(async () => {
  svc = await startTestService({ FACTORY_MQTT_ALLOW_ANONYMOUS: 'true' })
})
afterAll(async () => {
  for (const c of open) c.end(true)
  await svc?.cleanup()
})

describe('MQTT 3.1.1 conformance (Paho interoperability cases)', () => {
  it('basic: publishes at QoS 0, 1 and 2 are delivered at the granted QoS', async () => {
    const c = await client('basic')
    await c.subscribeAsync(TOPICS[0], { qos: 2 })
    await c.publishAsync(TOPICS[0], 'qos 0', { qos: 0 })
    await c.publishAsync(TOPICS[0], 'qos 1', { qos: 1 })
    await c.publishAsync(TOPICS[0], 'qos 2', { qos: 2 })
    const got = await receivedCount(c, 3)
    expect(got.map((m) => [m.payload, m.qos]).sort()).toEqual([
      ['qos 0', 0],
      ['qos 1', 1],
      ['qos 2', 2],
    ])
  })

  it('retained messages: a new subscriber gets the last retained message per topic; an empty one clears it', async () => {
    const pub = await client('retain-pub')
    await pub.publishAsync(TOPICS[1], 'qos 0', { qos: 0, retain: true })
    await pub.publishAsync(TOPICS[2], 'qos 1', { qos: 1, retain: true })
    await pub.publishAsync(TOPICS[3], 'qos 2', { qos: 2, retain: true })
    const sub = await client('retain-sub')
    await sub.subscribeAsync(WILD[5], { qos: 2 })
    const got = await receivedCount(sub, 3)
    expect(got.map((m) => [m.topic, m.payload, m.retain]).sort()).toEqual(
      [
        [TOPICS[2], 'qos 1', true],
        [TOPICS[1], 'qos 0', true],
        [TOPICS[3], 'qos 2', true],
      ].sort(),
    )
    for (const t of [TOPICS[1], TOPICS[2], TOPICS[3]]) await pub.publishAsync(t, '', { qos: 1, retain: true })
    const late = await client('retain-late')
    await late.subscribeAsync(WILD[5], { qos: 2 })
    await barrier(late)
    expect(late.received).toEqual([])
  })

  it('offline message queueing: QoS 1 and 2 messages wait for a persistent session', async () => {
    const first = await client('offline', { clean: false })
    await first.subscribeAsync(WILD[5], { qos: 2 })
    await first.endAsync()
    const pub = await client('offline-pub')
    await pub.publishAsync(TOPICS[1], 'qos 0', { qos: 0 })
    await pub.publishAsync(TOPICS[2], 'qos 1', { qos: 1 })
    await pub.publishAsync(TOPICS[3], 'qos 2', { qos: 2 })
    const back = await client('offline', { clean: false })
    await receivedPayloads(back, ['qos 1', 'qos 2'])
    // QoS 0 may or may not be queued [MQTT-3.1.2-5]; QoS 1 and 2 must be, once each.
    expect(
      back.received
        .map((m) => m.payload)
        .filter((p) => p !== 'qos 0')
        .sort(),
    ).toEqual(['qos 1', 'qos 2'])
  })

  it('will message: published when the connection drops without DISCONNECT', async () => {
    const watcher = await client('will-watcher')
    await watcher.subscribeAsync(TOPICS[2], { qos: 2 })
    const dying = await client('will-dying', {
      will: { topic: TOPICS[2], payload: Buffer.from('client not disconnected'), qos: 0, retain: false },
    })
    dying.stream.destroy()
    const [will] = await receivedCount(watcher, 1)
    expect(will).toEqual({ topic: TOPICS[2], payload: 'client not disconnected', qos: 0, retain: false })
  })

  it('overlapping subscriptions: one message for all matching filters, at the highest QoS', async () => {
    const c = await client('overlap')
    await c.subscribeAsync({ [WILD[6]]: { qos: 2 }, [WILD[0]]: { qos: 1 } })
    await c.publishAsync(TOPICS[3], 'overlapping topic filters', { qos: 2 })
    await barrier(c)
    // Aedes sends one copy per message for overlapping filters, at the highest granted QoS.
    expect(c.received).toEqual([
      { topic: TOPICS[3], payload: 'overlapping topic filters', qos: 2, retain: false },
    ])
  })

  it('keepalive: a silent client is disconnected after 1.5 × keepalive and its will is published', async () => {
    const watcher = await client('keepalive-watcher')
    await watcher.subscribeAsync(TOPICS[4], { qos: 2 })
    const silent = await client('keepalive-silent', {
      keepalive: 1,
      will: { topic: TOPICS[4], payload: Buffer.from('keepalive expiry'), qos: 1, retain: false },
    })
    // Stop MQTT.js from sending PINGREQ: the broker must notice the silence.
    ;(silent as unknown as { _shiftPingInterval(): void })._shiftPingInterval = () => {}
    silent.options.keepalive = 0
    ;(silent as unknown as { pingTimer?: { clear(): void } }).pingTimer?.clear()
    const [will] = await receivedCount(watcher, 1)
    expect(will).toEqual({ topic: TOPICS[4], payload: 'keepalive expiry', qos: 1, retain: false })
  }, 10_000)

  it('redelivery on reconnect: unacknowledged QoS 1 and 2 messages are sent again to a persistent session', async () => {
    const sub = await client('redeliver', { clean: false })
    await sub.subscribeAsync(WILD[6], { qos: 2 })
    // Drop the socket before acknowledging anything that arrives.
    sub.handleMessage = () => {
      sub.stream.destroy()
    }
    const pub = await client('redeliver-pub')
    await pub.publishAsync(TOPICS[1], 'qos 1', { qos: 1 })
    await pub.publishAsync(TOPICS[3], 'qos 2', { qos: 2 })
    await new Promise<void>((resolve) => (sub.connected ? sub.once('close', () => resolve()) : resolve()))
    sub.end(true)
    const back = await client('redeliver', { clean: false })
    await receivedPayloads(back, ['qos 1', 'qos 2'])
    expect(back.received.map((m) => m.payload).sort()).toEqual(['qos 1', 'qos 2'])
  })

  it('zero-length client id: accepted with a clean session, refused (CONNACK 2) with a persistent one', async () => {
    const anon = await client('', { clean: true })
    expect(anon.connected).toBe(true)
    // MQTT.js will not even send this CONNECT, so it goes out as raw bytes. [MQTT-3.1.3-8]
    const raw = await rawConnect(svc.service.mqttPort)
    raw.send(connectFrame({ clientId: '', clean: false }))
    expect([...(await raw.next(CONNACK)).body]).toEqual([0, 2])
    await raw.closed
  })

  it('subscribe failure: a refused filter is answered 0x80 and the connection stays up', async () => {
    const c = await client('subfail')
    const granted = await new Promise<unknown>((resolve) =>
      c.subscribe(['x'.repeat(300), TOPICS[0]], { qos: 2 }, (_e, _r, suback) => resolve(suback?.granted)),
    )
    expect(granted).toEqual([0x80, 2])
    expect(c.connected).toBe(true)
  })

  it('$ topics: # does not match $SYS, and clients cannot publish to $ topics', async () => {
    const c = await client('dollar')
    await c.subscribeAsync('#', { qos: 1 })
    await barrier(c)
    expect(c.received.filter((m) => m.topic.startsWith('$'))).toEqual([])
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()))
    c.publish('$SYS/fake', 'x', { qos: 1 })
    await closed
  })

  it('client take-over: a second connection with the same client id closes the first', async () => {
    const first = await client('takeover')
    const firstClosed = new Promise<void>((resolve) => first.once('close', () => resolve()))
    const second = await client('takeover')
    await firstClosed
    expect(second.connected).toBe(true)
  })

  it('unsubscribe: no more messages after UNSUBACK', async () => {
    const c = await client('unsub')
    await c.subscribeAsync(TOPICS[0], { qos: 1 })
    await c.unsubscribeAsync(TOPICS[0])
    await c.publishAsync(TOPICS[0], 'after unsubscribe', { qos: 1 })
    await barrier(c)
    expect(c.received).toEqual([])
  })
})
