// Device telemetry skips Aedes' fan-out only while no subscription matches: subscribers, live or
// persistent, still receive every message, before and after others come and go.
import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { filterMatches } from '../../broker/telemetry-fanout.ts'
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
