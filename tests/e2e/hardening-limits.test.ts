// Broker limits end to end: publish flood isolation, per-address connect rate, connection cap, topic and inflight limits.
import { connect as tcpConnect } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import {
  CONNACK,
  connectFrame,
  PUBACK,
  publishFrame,
  rawConnect,
  SUBACK,
  subscribeFrame,
} from '../fuzz/mqtt-wire.ts'
import {
  connectDevice,
  provisionMachine,
  publish,
  startTestService,
  type TestService,
} from '../helpers/service.ts'

const T0 = Date.now() - 60_000
let svc: TestService | null = null
afterEach(async () => {
  await svc?.cleanup()
  svc = null
})

async function counter(s: TestService, name: string, label: string): Promise<number> {
  const res = await s.api.get('/metrics')
  const match = new RegExp(`^${name}\\{[a-z]+="${label}"\\} (\\d+)`, 'm').exec(res.body)
  return match ? Number(match[1]) : 0
}

describe('publish rate limit', () => {
  it('throttles, then disconnects a flooding device while another device keeps working', async () => {
    svc = await startTestService({
      FACTORY_MQTT_PUBLISH_RATE_PER_S: '50',
      FACTORY_MQTT_PUBLISH_BURST: '20',
      FACTORY_MQTT_THROTTLE_MAX_MS: '400',
    })
    const flooder = await provisionMachine(svc.api, { machineKey: 'flooder', sensors: [{ key: 'temp' }] })
    const victim = await provisionMachine(svc.api, { machineKey: 'victim', sensors: [{ key: 'temp' }] })
    // 2000 QoS 1 publishes in one burst, far over 50/s.
    const raw = await rawConnect(svc.service.mqttPort)
    raw.send(
      connectFrame({ clientId: flooder.clientId, username: flooder.username, password: flooder.password }),
    )
    expect((await raw.next(CONNACK)).body[1]).toBe(0)
    const flood = Array.from({ length: 2000 }, (_, i) =>
      publishFrame(flooder.telemetryTopic, JSON.stringify({ ts: T0 + i, values: { temp: i } }), 1, i + 1),
    )
    raw.send(Buffer.concat(flood))
    const good = await connectDevice(svc.mqttUrl, {
      clientId: victim.clientId,
      username: victim.username,
      password: victim.password,
    })
    for (let i = 0; i < 20; i++) {
      await publish(good, victim.telemetryTopic, JSON.stringify({ ts: T0 + i, values: { temp: i } }))
    }
    await raw.closed
    await good.endAsync()
    expect(await svc.api.get(`/api/v1/readings/count?machineId=${victim.machineId}`)).toEqual({
      status: 200,
      body: { count: 20 },
    })
    const stored = (await svc.api.get(`/api/v1/readings/count?machineId=${flooder.machineId}`)).body.count
    expect(stored).toBeLessThan(2000)
    expect(await counter(svc, 'factory_mqtt_refusals_total', 'MQTT_PUBLISH_RATE_EXCEEDED')).toBeGreaterThan(0)
    expect(await counter(svc, 'factory_mqtt_throttled_total', 'publish')).toBeGreaterThan(0)
  })
})

describe('commit sharing', () => {
  it('lets a device that pipelines hundreds of publishes into no commit with more than 32 of them', async () => {
    svc = await startTestService()
    const machine = await provisionMachine(svc.api, { machineKey: 'pipeliner', sensors: [{ key: 'temp' }] })
    const raw = await rawConnect(svc.service.mqttPort)
    raw.send(
      connectFrame({ clientId: machine.clientId, username: machine.username, password: machine.password }),
    )
    expect((await raw.next(CONNACK)).body[1]).toBe(0)
    const messages = 500
    // Within the default burst, so nothing is throttled: all arrive in a few socket reads.
    raw.send(
      Buffer.concat(
        Array.from({ length: messages }, (_, i) =>
          publishFrame(machine.telemetryTopic, JSON.stringify({ ts: T0 + i, values: { temp: i } }), 1, i + 1),
        ),
      ),
    )
    const acked = () => raw.packets.filter((p) => p.type === PUBACK).length
    await new Promise<void>((resolve) => {
      const check = () => {
        if (acked() < messages) return
        raw.socket.off('data', check)
        resolve()
      }
      raw.socket.on('data', check)
      check()
    })
    raw.socket.destroy()
    const batches = svc.logs
      .filter((line) => line.includes('"msg":"batch committed"'))
      .map((line) => JSON.parse(line).messages as number)
    expect(batches.reduce((a, b) => a + b, 0)).toBe(messages)
    expect(Math.max(...batches)).toBeLessThanOrEqual(32)
    expect(await svc.api.get(`/api/v1/readings/count?machineId=${machine.machineId}`)).toEqual({
      status: 200,
      body: { count: messages },
    })
  })
})

describe('connection limits', () => {
  it('delays connections over the per-address rate, then refuses them', async () => {
    // 60/min: a burst of 60, then one per second; at most 1500 ms of delay is allowed. Of 62 simultaneous
    // CONNECTs, 60 pass, one waits about a second, and one would wait two seconds, so it is refused.
    svc = await startTestService({
      FACTORY_MQTT_ALLOW_ANONYMOUS: 'true',
      FACTORY_MQTT_CONNECT_RATE_PER_IP_PER_MIN: '60',
      FACTORY_MQTT_THROTTLE_MAX_MS: '1500',
    })
    const raws = await Promise.all(Array.from({ length: 62 }, () => rawConnect(svc!.service.mqttPort)))
    for (const [i, raw] of raws.entries()) raw.send(connectFrame({ clientId: `burst-${i}` }))
    const outcomes = await Promise.all(
      raws.map((raw) =>
        raw.next(CONNACK).then(
          () => 'connack',
          () => 'closed',
        ),
      ),
    )
    expect(outcomes.filter((o) => o === 'closed')).toHaveLength(1)
    expect(await counter(svc, 'factory_mqtt_throttled_total', 'connect')).toBe(1)
    expect(await counter(svc, 'factory_mqtt_refusals_total', 'MQTT_CONNECT_RATE_EXCEEDED')).toBe(1)
    for (const raw of raws) raw.socket.destroy()
  })

  it('closes sockets beyond the connection cap at once', async () => {
    svc = await startTestService({ FACTORY_MQTT_ALLOW_ANONYMOUS: 'true', FACTORY_MQTT_MAX_CONNECTIONS: '3' })
    const clients = await Promise.all(
      Array.from({ length: 3 }, (_, i) => connectDevice(svc!.mqttUrl, { clientId: `c-${i}` })),
    )
    const extra = tcpConnect(svc.service.mqttPort, '127.0.0.1')
    await new Promise((resolve) => extra.once('close', resolve))
    expect(await counter(svc, 'factory_mqtt_refusals_total', 'MQTT_CONNECTIONS_EXCEEDED')).toBe(1)
    await clients[0]!.endAsync()
    // A freed slot is usable again (the broker notices the close asynchronously).
    let again = await connectDevice(svc.mqttUrl, { clientId: 'c-new' }).catch(() => null)
    while (!again) again = await connectDevice(svc.mqttUrl, { clientId: 'c-new' }).catch(() => null)
    await Promise.all([again, ...clients.slice(1)].map((c) => c.endAsync()))
  })
})

describe('topic and inflight limits', () => {
  it('refuses topics that are too deep or too long, on publish and on subscribe', async () => {
    svc = await startTestService({ FACTORY_MQTT_ALLOW_ANONYMOUS: 'true' })
    const deep = Array.from({ length: 17 }, () => 'a').join('/')
    const long = 'b'.repeat(257)
    const sub = await rawConnect(svc.service.mqttPort)
    sub.send(connectFrame({ clientId: 'subscriber' }))
    await sub.next(CONNACK)
    sub.send(
      subscribeFrame(1, [
        [long, 0],
        ['ok/+', 1],
      ]),
    )
    expect([...(await sub.next(SUBACK)).body]).toEqual([0, 1, 0x80, 1])
    // Aedes itself closes a connection subscribing deeper than the limit; it is counted all the same.
    sub.send(subscribeFrame(2, [[deep, 0]]))
    await sub.closed
    for (const topic of [deep, long]) {
      const pub = await rawConnect(svc.service.mqttPort)
      pub.send(connectFrame({ clientId: `pub-${topic.length}` }))
      await pub.next(CONNACK)
      pub.send(publishFrame(topic, 'x', 1, 1))
      await pub.closed
    }
    expect(await counter(svc, 'factory_mqtt_refusals_total', 'MQTT_TOPIC_TOO_DEEP')).toBe(2)
    expect(await counter(svc, 'factory_mqtt_refusals_total', 'MQTT_TOPIC_TOO_LONG')).toBe(2)
  })

  it('disconnects a client that leaves more QoS 2 messages unreleased than allowed', async () => {
    svc = await startTestService({
      FACTORY_MQTT_ALLOW_ANONYMOUS: 'true',
      FACTORY_MQTT_MAX_INFLIGHT_INBOUND: '5',
    })
    const raw = await rawConnect(svc.service.mqttPort)
    raw.send(connectFrame({ clientId: 'qos2' }))
    await raw.next(CONNACK)
    // PUBREC answers each, but no PUBREL ever follows.
    raw.send(Buffer.concat(Array.from({ length: 6 }, (_, i) => publishFrame('q/two', 'x', 2, i + 1))))
    await raw.closed
    // The six arrive in one read and are handled concurrently, so fewer than five PUBRECs may get out.
    expect(raw.packets.filter((p) => p.type === 5).length).toBeLessThanOrEqual(5)
    expect(await counter(svc, 'factory_mqtt_refusals_total', 'MQTT_INFLIGHT_EXCEEDED')).toBe(1)
  })
})
