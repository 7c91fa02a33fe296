// Drain timeout end to end: a subscriber that stops reading is dropped, and a device publishing to it keeps being acknowledged.
import { afterEach, describe, expect, it } from 'vitest'
import { CONNACK, connectFrame, rawConnect, SUBACK, subscribeFrame } from '../fuzz/mqtt-wire.ts'
import {
  connectDevice,
  provisionMachine,
  publish,
  startTestService,
  type TestService,
} from '../helpers/service.ts'

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

// Each message is close to the 64 KiB packet limit, so a few hundred fill the socket buffers on both ends.
const PADDING = ' '.repeat(60_000)
// Far more than the loopback buffers hold (tcp_rmem + tcp_wmem), so the test cannot pass without a drop.
const MAX_MESSAGES = 2000
const AFTER_DROP = 20

describe('drain timeout', () => {
  it('drops a subscriber that stops reading while the publishing device keeps being acknowledged', async () => {
    svc = await startTestService({
      // The frozen subscriber is an anonymous development client; the device is a real, stored one.
      FACTORY_MQTT_ALLOW_ANONYMOUS: 'true',
      FACTORY_MQTT_DRAIN_TIMEOUT_MS: '500',
    })
    const machine = await provisionMachine(svc.api, { machineKey: 'press', sensors: [{ key: 'temp' }] })
    const frozen = await rawConnect(svc.service.mqttPort)
    // No keep-alive, so only the drain timeout can end this connection.
    frozen.send(connectFrame({ clientId: 'frozen', keepaliveS: 0 }))
    expect((await frozen.next(CONNACK)).body[1]).toBe(0)
    frozen.send(subscribeFrame(1, [[machine.telemetryTopic, 0]]))
    expect([...(await frozen.next(SUBACK)).body]).toEqual([0, 1, 0])
    // From here on nothing is read: the kernel buffers fill, then the broker's writes stop draining.
    frozen.socket.pause()

    const device = await connectDevice(svc.mqttUrl, {
      clientId: machine.clientId,
      username: machine.username,
      password: machine.password,
    })
    const baseTs = Date.now() - 60_000
    const send = (i: number) =>
      publish(device, machine.telemetryTopic, `{"ts":${baseTs + i},"values":{"temp":${i}}}${PADDING}`)
    // A paused socket does not see the broker close it, so the broker's own count tells when it is gone.
    const frozenConnected = () => svc!.service.broker.connectedClients() > 1
    let sent = 0
    // Each publish waits for its PUBACK, i.e. for its commit; none may fail while the subscriber is stuck.
    while (frozenConnected() && sent < MAX_MESSAGES) await send(sent++)
    expect(frozenConnected()).toBe(false)
    const beforeDrop = sent
    // Ingestion goes on once the frozen subscriber is gone.
    for (let i = 0; i < AFTER_DROP; i++) await send(sent++)
    await device.endAsync()
    // Reading again, the subscriber finds its connection closed by the broker.
    frozen.socket.resume()
    await frozen.closed

    expect(beforeDrop).toBeLessThan(MAX_MESSAGES)
    // It got only part of them: the rest were acknowledged to the device while it sat unread.
    const delivered = frozen.packets.filter((p) => p.type === 3).length
    expect(delivered).toBeGreaterThan(0)
    expect(delivered).toBeLessThan(beforeDrop)
    expect(await counter(svc, 'factory_mqtt_refusals_total', 'MQTT_DRAIN_TIMEOUT')).toBe(1)
    expect(await svc.api.get(`/api/v1/readings/count?machineId=${machine.machineId}`)).toEqual({
      status: 200,
      body: { count: beforeDrop + AFTER_DROP },
    })
  }, 60_000)
})
