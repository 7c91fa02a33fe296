// Slow subscribers end to end: one that stops reading is dropped (by the drain timeout, or at once past its
// queue limit), and a device publishing to it keeps being acknowledged and stored.
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

/**
 * A subscriber that stops reading while a device publishes to it, one message at a time, until the broker
 * drops it; then 20 more. Returns what the device got through and what the subscriber received.
 */
async function freezeSubscriber(env: Record<string, string>) {
  // The frozen subscriber is an anonymous development client; the device is a real, stored one.
  const s = await startTestService({ FACTORY_MQTT_ALLOW_ANONYMOUS: 'true', ...env })
  svc = s
  const machine = await provisionMachine(s.api, { machineKey: 'press', sensors: [{ key: 'temp' }] })
  const frozen = await rawConnect(s.service.mqttPort)
  // No keep-alive, so only the broker's slow-reader limits can end this connection.
  frozen.send(connectFrame({ clientId: 'frozen', keepaliveS: 0 }))
  expect((await frozen.next(CONNACK)).body[1]).toBe(0)
  frozen.send(subscribeFrame(1, [[machine.telemetryTopic, 0]]))
  expect([...(await frozen.next(SUBACK)).body]).toEqual([0, 1, 0])
  // From here on nothing is read: the kernel buffers fill, then the broker's writes stop draining.
  frozen.socket.pause()

  const device = await connectDevice(s.mqttUrl, {
    clientId: machine.clientId,
    username: machine.username,
    password: machine.password,
  })
  const baseTs = Date.now() - 60_000
  const send = (i: number) =>
    publish(device, machine.telemetryTopic, `{"ts":${baseTs + i},"values":{"temp":${i}}}${PADDING}`)
  // A paused socket does not see the broker close it, so the broker's own count tells when it is gone.
  const frozenConnected = () => s.service.broker.connectedClients() > 1
  let sent = 0
  // Each publish waits for its PUBACK, i.e. for its commit; none may fail while the subscriber is stuck.
  while (frozenConnected() && sent < MAX_MESSAGES) await send(sent++)
  const droppedWithin = sent
  // Ingestion goes on once the frozen subscriber is gone.
  for (let i = 0; i < AFTER_DROP; i++) await send(sent++)
  await device.endAsync()
  // Reading again, the subscriber finds its connection closed by the broker.
  frozen.socket.resume()
  await frozen.closed
  const stored = await s.api.get(`/api/v1/readings/count?machineId=${machine.machineId}`)
  return {
    dropped: droppedWithin < MAX_MESSAGES,
    delivered: frozen.packets.filter((p) => p.type === 3).length,
    acknowledged: sent,
    stored: stored.body.count as number,
    refusals: {
      drainTimeout: await counter(s, 'factory_mqtt_refusals_total', 'MQTT_DRAIN_TIMEOUT'),
      tooSlow: await counter(s, 'factory_mqtt_refusals_total', 'MQTT_SUBSCRIBER_TOO_SLOW'),
    },
  }
}

/** The subscriber got some of the messages and was dropped for `reason`; the device's all were stored. */
function expectDropped(
  run: Awaited<ReturnType<typeof freezeSubscriber>>,
  reason: 'drainTimeout' | 'tooSlow',
) {
  // It got only part of them: the rest were acknowledged to the device while it sat unread.
  expect(run.delivered).toBeGreaterThan(0)
  expect(run.delivered).toBeLessThan(run.acknowledged - AFTER_DROP)
  expect({ ...run, delivered: 'some' }).toEqual({
    dropped: true,
    delivered: 'some',
    acknowledged: run.acknowledged,
    stored: run.acknowledged,
    refusals: { drainTimeout: reason === 'drainTimeout' ? 1 : 0, tooSlow: reason === 'tooSlow' ? 1 : 0 },
  })
}

describe('slow subscribers', () => {
  it('drops a subscriber whose socket does not drain within the drain timeout', async () => {
    const run = await freezeSubscriber({
      FACTORY_MQTT_DRAIN_TIMEOUT_MS: '500',
      // Out of the way: only the drain timeout may end this subscriber.
      FACTORY_MQTT_SUBSCRIBER_QUEUE_MAX_BYTES: String(1024 * 1024 * 1024),
    })
    expectDropped(run, 'drainTimeout')
  }, 60_000)

  it('drops a subscriber at once when more than its queue limit waits for it, without waiting for the drain timeout', async () => {
    const run = await freezeSubscriber({
      // Longer than this test may run: only the queue limit can end the subscriber in time.
      FACTORY_MQTT_DRAIN_TIMEOUT_MS: '120000',
      FACTORY_MQTT_SUBSCRIBER_QUEUE_MAX_BYTES: String(1024 * 1024),
    })
    expectDropped(run, 'tooSlow')
  }, 30_000)
})
