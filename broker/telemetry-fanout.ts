// How committed device telemetry reaches subscribers. The gateway stores every message whether or not anyone
// subscribes, so:
// - with no subscription matching, Aedes' fan-out (offline queueing, mqemitter, the 'publish' event) is
//   skipped: about a sixth of the broker thread per message, for nothing;
// - live clean-session subscribers get the frames of an event-loop turn encoded into one buffer, written
//   to their connection at the turn's end. Aedes' generic path (two packet copies, a promise for the
//   offline queues, mqemitter's queue, two setImmediates and mqtt-packet's field-by-field writes per
//   delivery) cost ~8 µs of the broker thread per message with one subscriber on factories/#, and held
//   each publisher's PUBACK for its event-loop turns. A live subscriber never slows ingestion: one that
//   falls behind is disconnected, at once past `maxQueuedBytes` waiting for its socket, or by the drain
//   timeout when its socket does not drain in time (Aedes' path instead holds the publisher's next read);
// - everything else (retained messages, QoS 2, persistent sessions with their offline queues and redelivery,
//   shared subscriptions) goes through Aedes as before.
import type { Duplex } from 'node:stream'
import type { Aedes, Client, PublishPacket, Subscription } from 'aedes'
import { publishFrameBytes, writePublish } from './publish-frame.ts'
import { SUBSCRIBER_QUEUE_FULL } from './refusals.ts'
import { BUFFERED_LIMIT_BYTES } from './write-coalescing.ts'

/** MQTT topic filter matching ([MQTT-4.7]); `$share/<group>/` is stripped, `$` topics need a `$` filter. */
export function filterMatches(filter: string, topic: string): boolean {
  if (filter.startsWith('$share/')) filter = filter.split('/').slice(2).join('/')
  const f = filter.split('/')
  const t = topic.split('/')
  if (t[0]!.startsWith('$') && (f[0] === '#' || f[0] === '+')) return false
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true
    if (i >= t.length) return false
    if (f[i] !== '+' && f[i] !== t[i]) return false
  }
  return f.length === t.length
}

export interface TelemetryFanout {
  /** Marks a publish as device telemetry, which the gateway stores whether or not anyone subscribes. */
  markTelemetry(packet: PublishPacket): void
}

// A symbol-keyed flag on the packet itself: a WeakSet entry per message cost ~7% of the broker thread and
// extra GC work at 80k msg/s (measured with --cpu-prof).
const TELEMETRY = Symbol('factory-monitor.telemetry')
type TelemetryMarked = PublishPacket & { [TELEMETRY]?: true }

const noop = () => {}

type Publish = (packet: PublishPacket, client: Client | null, done: (error?: Error) => void) => void
type Subscribe = (topic: string, func: unknown, done: (error?: Error) => void) => void

/** The parts of an Aedes client (lib/client.js) a direct delivery reads and advances. */
interface SubscriberClient {
  clean: boolean
  connected: boolean
  closed: boolean
  errored: boolean
  conn: Duplex
  /** The next packet identifier Aedes would give an outgoing QoS 1 message (1–65535, wrapping). */
  _nextId: number
  subscriptions: Record<string, { qos: number; nl?: boolean }>
  /** Calls back once the connection drains, or with an error after the drain timeout has dropped it. */
  waitForDrain(callback: (error: Error | null) => void): void
}

interface Target {
  client: SubscriberClient
  box: Outbox
  /** The highest QoS among the client's matching subscriptions (one delivery per client, as Aedes). */
  qos: 0 | 1
  /** MQTT 5 no-local on one of them: never sent to the publisher itself. */
  noLocal: boolean
}

/** How telemetry on one topic reaches subscribers: nobody, direct frames, or Aedes. */
type Route = null | 'aedes' | { topic: Buffer; targets: Target[] }

/** One subscriber's frames: filled during a turn, written to its connection at the turn's end. */
class Outbox {
  /** The buffer being filled this turn; null when nothing is waiting. */
  frames: Buffer | null = null
  used = 0
  /** A buffer written out earlier, filled again next: a busy subscriber's outbox is reused, not reallocated. */
  spare: Buffer | null = null
  /** Aedes' drain timer runs for this client; `drained` ends the wait. */
  draining = false
  readonly drained = () => {
    this.draining = false
  }

  constructor(readonly client: SubscriberClient) {}
}
// Small enough to come from Node's buffer pool: a device subscribed to its own machine's topics gets its
// own telemetry back, one outbox per device per turn; a busy subscriber's outbox doubles as it fills.
const OUTBOX_START_BYTES = 2 * 1024
// Outboxes larger than a pool slice are kept for the next turn once written. A fresh ~100 KB buffer per turn
// (plus the copies while it doubled) was external memory V8 answered with mark-compacts: with one subscriber
// on factories/#, major GC took ~3% of the machine more than without it (perf, P9). Beyond the limit (a
// burst) the buffer is left to the collector.
const OUTBOX_REUSE_MIN_BYTES = 4 * 1024
const OUTBOX_REUSE_MAX_BYTES = 1024 * 1024

/**
 * Wraps the instance's publish, subscribe and unsubscribe. Subscriptions are counted where Aedes registers
 * them with its emitter (before the SUBACK, and for restored sessions too); filters of persistent sessions
 * are kept for good, because their offline queues must still receive. `maxQueuedBytes`: the most telemetry
 * a live subscriber may have waiting for its socket before it is disconnected (MQTT_SUBSCRIBER_TOO_SLOW).
 */
export function installTelemetryFanout(aedes: Aedes, maxQueuedBytes: number): TelemetryFanout {
  const live = new Map<string, number>()
  const persistent = new Set<string>()
  // One entry per device topic between subscription changes; cleared on every change.
  const routes = new Map<string, Route>()
  const changed = () => routes.clear()
  const clients = (aedes as unknown as { clients: Record<string, SubscriberClient> }).clients
  // Kept with the client (not per route, which is rebuilt on every subscription change).
  const outboxes = new WeakMap<SubscriberClient, Outbox>()
  const outboxOf = (client: SubscriberClient): Outbox => {
    let box = outboxes.get(client)
    if (!box) {
      box = new Outbox(client)
      outboxes.set(client, box)
    }
    return box
  }

  const findRoute = (topic: string): Route => {
    if (live.size === 0 && persistent.size === 0) return null
    for (const filter of persistent) if (filterMatches(filter, topic)) return 'aedes'
    let registered = 0
    for (const [filter, n] of live) if (filterMatches(filter, topic)) registered += n
    if (registered === 0) return null
    const targets = new Map<SubscriberClient, Target>()
    let found = 0
    for (const id in clients) {
      const client = clients[id]!
      for (const filter in client.subscriptions) {
        if (!filterMatches(filter, topic)) continue
        found++
        if (!client.clean || filter.startsWith('$share/')) return 'aedes'
        const sub = client.subscriptions[filter]!
        const target = targets.get(client) ?? { client, box: outboxOf(client), qos: 0, noLocal: false }
        if (sub.qos > 0) target.qos = 1
        if (sub.nl) target.noLocal = true
        targets.set(client, target)
      }
    }
    // A registration no connected client accounts for (e.g. one still being set up): Aedes knows it.
    if (found !== registered) return 'aedes'
    return { topic: Buffer.from(topic), targets: [...targets.values()] }
  }

  const routeOf = (topic: string): Route => {
    let route = routes.get(topic)
    if (route === undefined) {
      route = findRoute(topic)
      routes.set(topic, route)
    }
    return route
  }

  const filled: Outbox[] = []
  const sendOutboxes = () => {
    for (const box of filled) {
      const { client, frames, used } = box
      box.frames = null
      box.used = 0
      if (client.closed || client.conn.destroyed) continue
      const reuse = frames!.length >= OUTBOX_REUSE_MIN_BYTES && frames!.length <= OUTBOX_REUSE_MAX_BYTES
      // Once the socket has taken the bytes (its write callback), the buffer is free to fill again.
      client.conn.write(frames!.subarray(0, used), reuse ? () => (box.spare = frames) : undefined)
    }
    filled.length = 0
  }
  const append = (box: Outbox, topic: Buffer, payload: Buffer, qos: 0 | 1, id: number) => {
    const bytes = publishFrameBytes(topic, payload, qos)
    let frames = box.frames
    if (frames === null) {
      if (filled.length === 0) setImmediate(sendOutboxes)
      filled.push(box)
      frames =
        box.spare !== null && box.spare.length >= bytes
          ? box.spare
          : Buffer.allocUnsafe(Math.max(OUTBOX_START_BYTES, bytes))
      box.spare = null
      box.frames = frames
    } else if (box.used + bytes > frames.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * frames.length, box.used + bytes))
      frames.copy(grown, 0, 0, box.used)
      frames = box.frames = grown
    }
    box.used = writePublish(frames, box.used, topic, payload, qos, id)
    return box.client.conn.writableLength + box.used
  }

  /**
   * A subscriber holding more than the buffered limit: past the queue limit it is disconnected at once;
   * below it, Aedes' drain timer runs (one per client), and disconnects it unless its socket drains in time.
   */
  const behind = (box: Outbox, queued: number) => {
    const { client } = box
    if (queued > maxQueuedBytes) {
      client.conn.destroy(new Error(SUBSCRIBER_QUEUE_FULL))
      return
    }
    if (box.draining) return
    box.draining = true
    client.waitForDrain(box.drained)
  }

  /** Queues the message for each target. The publisher never waits for a subscriber: `done` follows at once. */
  const deliver = (
    route: { topic: Buffer; targets: Target[] },
    packet: PublishPacket,
    publisher: Client | null,
    done: () => void,
  ) => {
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
    for (const { client, box, qos: subscribed, noLocal } of route.targets) {
      if (client.closed || client.errored || !client.connected || client.conn.destroyed) continue
      if (noLocal && (client as unknown) === publisher) continue
      const qos = packet.qos > 0 ? subscribed : 0
      let messageId = 0
      if (qos > 0) {
        messageId = client._nextId
        client._nextId = messageId >= 65_535 ? 1 : messageId + 1
      }
      const queued = append(box, route.topic, payload, qos, messageId)
      if (queued > BUFFERED_LIMIT_BYTES) behind(box, queued)
    }
    done()
  }

  const broker = aedes as unknown as { publish: Publish; subscribe: Subscribe; unsubscribe: Subscribe }
  const publish = broker.publish.bind(aedes)
  const subscribe = broker.subscribe.bind(aedes)
  const unsubscribe = broker.unsubscribe.bind(aedes)
  broker.publish = (packet, client, done) => {
    if (
      typeof client === 'function' ||
      (packet as TelemetryMarked)[TELEMETRY] !== true ||
      packet.retain ||
      packet.qos > 1
    )
      return publish(packet, client, done)
    const route = routeOf(packet.topic)
    if (route === null) return done?.()
    if (route === 'aedes') return publish(packet, client, done)
    deliver(route, packet, client, done ?? noop)
  }
  broker.subscribe = (topic, func, done) => {
    live.set(topic, (live.get(topic) ?? 0) + 1)
    changed()
    subscribe(topic, func, done)
  }
  broker.unsubscribe = (topic, func, done) => {
    const n = (live.get(topic) ?? 1) - 1
    if (n > 0) live.set(topic, n)
    else live.delete(topic)
    changed()
    unsubscribe(topic, func, done)
  }
  aedes.on('subscribe', (subscriptions: Subscription[], client: Client) => {
    if (client.clean !== false) return
    for (const s of subscriptions) persistent.add(s.topic)
    changed()
  })

  return {
    markTelemetry: (packet) => {
      ;(packet as TelemetryMarked)[TELEMETRY] = true
    },
  }
}
