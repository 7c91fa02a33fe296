// Webhook delivery against real local HTTP receivers: signature, retry with backoff, give-up, a dead
// endpoint that does not hold up others, and the bounded queue.
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import type { AlertTransition } from '../../../db/index.ts'
import {
  createWebhookDispatcher,
  verifySignature,
  type WebhookDispatcher,
} from '../../../gateway/notify/index.ts'
import { createEngineFixture, type EngineFixture } from '../alerts/engine-fixture.ts'

interface Received {
  headers: IncomingMessage['headers']
  body: string
}

interface Receiver {
  url: string
  received: Received[]
  /** Resolves once `count` requests have arrived. */
  waitFor(count: number): Promise<Received[]>
  close(): Promise<void>
}

/** Answers each request with the next status (the last one repeats); null never answers. */
async function startReceiver(statuses: (number | null)[]): Promise<Receiver> {
  const received: Received[] = []
  const waiters: { count: number; resolve: (r: Received[]) => void }[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      const status = statuses[Math.min(received.length - 1, statuses.length - 1)]!
      if (status !== null) res.writeHead(status).end('ok')
      for (const w of waiters.filter((w) => received.length >= w.count)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(received.slice())
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    waitFor: (count) =>
      received.length >= count
        ? Promise.resolve(received.slice())
        : new Promise((resolve) => waiters.push({ count, resolve })),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

const T0 = 1_700_000_000_000
let fx: EngineFixture
let dispatcher: WebhookDispatcher
const receivers: Receiver[] = []

afterEach(async () => {
  dispatcher?.stop()
  for (const r of receivers.splice(0)) await r.close()
  fx?.close()
})

function openedAlert(): AlertTransition {
  fx = createEngineFixture()
  fx.rule({ condition: { type: 'above', threshold: 80 } })
  return fx.feed('temp', [[T0, 90]])[0]!
}

const receiver = async (statuses: (number | null)[]) => {
  const r = await startReceiver(statuses)
  receivers.push(r)
  return r
}

describe('webhook dispatcher', () => {
  it('signs the body, retries with backoff until delivered, and logs the delivery', async () => {
    const transition = openedAlert()
    const hook = await receiver([500, 503, 200])
    const { id, secret } = fx.storage.webhooks.create(
      { name: 'ops', url: hook.url },
      'test-secret-0123456789',
    )
    dispatcher = createWebhookDispatcher({
      store: fx.storage.webhooks,
      logger: pino({ level: 'silent' }),
      backoffBaseMs: 5,
    })
    dispatcher.dispatch([transition])
    const requests = await hook.waitFor(3)
    await dispatcher.idle()
    for (const r of requests) {
      expect(JSON.parse(r.body)).toEqual(transition)
      expect(verifySignature(secret, r.body, r.headers['x-factory-signature'] as string)).toBe(true)
      expect(verifySignature('wrong-secret', r.body, r.headers['x-factory-signature'] as string)).toBe(false)
      expect(r.headers['x-factory-event']).toBe('opened')
    }
    const [delivery] = fx.storage.webhooks.deliveries(id)
    expect(delivery).toEqual({
      id: delivery!.id,
      webhookId: id,
      alertId: transition.alert.id,
      event: 'opened',
      status: 'delivered',
      attempts: 3,
      responseStatus: 200,
      error: null,
      createdMs: delivery!.createdMs,
      updatedMs: delivery!.updatedMs,
    })
  })

  it('gives up after the last attempt and records the last error', async () => {
    const transition = openedAlert()
    const hook = await receiver([500])
    const { id } = fx.storage.webhooks.create({ name: 'broken', url: hook.url }, 'test-secret-0123456789')
    dispatcher = createWebhookDispatcher({
      store: fx.storage.webhooks,
      logger: pino({ level: 'silent' }),
      backoffBaseMs: 1,
      maxAttempts: 3,
    })
    dispatcher.dispatch([transition])
    await hook.waitFor(3)
    await dispatcher.idle()
    expect(fx.storage.webhooks.deliveries(id)[0]).toMatchObject({
      status: 'failed',
      attempts: 3,
      responseStatus: 500,
      error: 'HTTP 500',
    })
  })

  it('delivers to a live endpoint while a dead one times out', async () => {
    const transition = openedAlert()
    const dead = await receiver([null])
    const live = await receiver([200])
    const deadHook = fx.storage.webhooks.create({ name: 'dead', url: dead.url }, 'test-secret-0123456789')
    const liveHook = fx.storage.webhooks.create({ name: 'live', url: live.url }, 'test-secret-0123456789')
    let delivered = 0
    let allDelivered: () => void = () => {}
    const threeDelivered = new Promise<void>((resolve) => {
      allDelivered = resolve
    })
    dispatcher = createWebhookDispatcher({
      store: fx.storage.webhooks,
      logger: pino({ level: 'silent' }),
      timeoutMs: 60_000,
      concurrency: 2,
      onOutcome: (outcome) => {
        if (outcome === 'delivered' && ++delivered === 3) allDelivered()
      },
    })
    dispatcher.dispatch([transition, transition, transition])
    await threeDelivered
    await dead.waitFor(1)
    expect(fx.storage.webhooks.deliveries(liveHook.id).map((d) => d.status)).toEqual([
      'delivered',
      'delivered',
      'delivered',
    ])
    // One attempt at a time per endpoint: the dead one holds only its own slot.
    expect(dead.received).toHaveLength(1)
    expect(fx.storage.webhooks.deliveries(deadHook.id).map((d) => d.status)).toEqual([
      'pending',
      'pending',
      'pending',
    ])
  })

  it('only sends a rule-scoped webhook the alerts of its rule', async () => {
    const transition = openedAlert()
    const hook = await receiver([200])
    const other = fx.rule({ name: 'other', condition: { type: 'below', threshold: 0 } })
    fx.storage.webhooks.create(
      { name: 'other rule', url: hook.url, ruleId: other.id },
      'test-secret-0123456789',
    )
    expect(fx.storage.webhooks.targets(transition.alert.ruleId)).toEqual([])
    expect(fx.storage.webhooks.targets(other.id).map((w) => w.name)).toEqual(['other rule'])
  })

  it('drops deliveries beyond the queue bound and logs them as dropped', async () => {
    const transition = openedAlert()
    const dead = await receiver([null])
    const { id } = fx.storage.webhooks.create({ name: 'dead', url: dead.url }, 'test-secret-0123456789')
    dispatcher = createWebhookDispatcher({
      store: fx.storage.webhooks,
      logger: pino({ level: 'silent' }),
      maxQueued: 1,
    })
    dispatcher.dispatch([transition, transition, transition])
    await dead.waitFor(1)
    expect(fx.storage.webhooks.deliveries(id).map((d) => d.status)).toEqual(['dropped', 'dropped', 'pending'])
  })
})
