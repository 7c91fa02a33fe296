// A simulated device against a real Aedes broker: it publishes with its own credentials, says
// `online`, and going offline drops the socket so the broker publishes its last will.
import { once } from 'node:events'
import { type AddressInfo, createServer, type Server } from 'node:net'
import { Aedes } from 'aedes'
import mqtt, { type MqttClient } from 'mqtt'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CredentialDevice } from '../../simulators/credentials-file.ts'
import { createDevice } from '../../simulators/device.ts'

const device: CredentialDevice = {
  factoryKey: 'demo-1',
  machineKey: 'machine-01',
  clientId: 'demo-1.machine-01',
  username: 'demo-1.machine-01',
  password: 'secret',
  topic: 'factories/demo-1/machines/machine-01/telemetry',
  sensors: [{ key: 'temperature' }],
}

let broker: Aedes
let server: Server
let url: string
let observer: MqttClient
const logins: { clientId: string; username: string; password: string }[] = []

beforeEach(async () => {
  logins.length = 0
  broker = await Aedes.createBroker({
    authenticate(client, username, password, done) {
      logins.push({ clientId: client.id, username: username ?? '', password: password?.toString() ?? '' })
      done(null, true)
    },
  })
  server = createServer(broker.handle)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`
  observer = await mqtt.connectAsync(url, { clientId: 'observer' })
  await observer.subscribeAsync('factories/#', { qos: 1 })
  logins.length = 0
})

afterEach(async () => {
  await observer.endAsync()
  await new Promise<void>((resolve) => broker.close(() => resolve()))
  server.close()
})

const STATUS_TOPIC = 'factories/demo-1/machines/machine-01/status'

/** The next message on `topic` seen by the observer. */
const nextMessage = (topic: string) =>
  new Promise<{ topic: string; payload: string }>((resolve) => {
    const onMessage = (received: string, payload: Buffer) => {
      if (received !== topic) return
      observer.removeListener('message', onMessage)
      resolve({ topic: received, payload: payload.toString() })
    }
    observer.on('message', onMessage)
  })

describe('createDevice', () => {
  it('logs in with its own credentials and announces itself online', async () => {
    const online = nextMessage(STATUS_TOPIC)
    const sim = createDevice({ mqttUrl: url, device, qos: 1 })
    await sim.connect()
    expect(await online).toEqual({ topic: STATUS_TOPIC, payload: 'online' })
    expect(logins).toEqual([
      { clientId: 'demo-1.machine-01', username: 'demo-1.machine-01', password: 'secret' },
    ])
    await sim.close()
  })

  it('publishes telemetry and resolves on the PUBACK', async () => {
    const sim = createDevice({ mqttUrl: url, device, qos: 1 })
    await sim.connect()
    const received = nextMessage(device.topic)
    await sim.publish('{"ts":1,"values":{"temperature":20.5}}')
    expect(await received).toEqual({ topic: device.topic, payload: '{"ts":1,"values":{"temperature":20.5}}' })
    await sim.close()
  })

  it('going offline makes the broker publish the last will, and it can come back', async () => {
    const sim = createDevice({ mqttUrl: url, device, qos: 1 })
    const firstOnline = nextMessage(STATUS_TOPIC)
    await sim.connect()
    await firstOnline
    const will = nextMessage(STATUS_TOPIC)
    sim.goOffline()
    expect(sim.isConnected()).toBe(false)
    expect(await will).toEqual({ topic: STATUS_TOPIC, payload: 'offline' })
    const online = nextMessage(STATUS_TOPIC)
    await sim.connect()
    expect((await online).payload).toBe('online')
    await expect(sim.publish('{}')).resolves.toBeUndefined()
    await sim.close()
  })

  it('refuses to publish while offline', async () => {
    const sim = createDevice({ mqttUrl: url, device, qos: 0 })
    await expect(sim.publish('{}')).rejects.toThrow('device machine-01 is not connected')
  })
})
