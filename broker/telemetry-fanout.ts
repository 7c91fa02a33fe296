// Lets device telemetry skip Aedes' fan-out (offline queueing, mqemitter, the 'publish' event) when no
// subscription can receive it: the gateway stores it either way, and with nobody subscribed that work was
// about a sixth of the broker thread per message for nothing.
import type { Aedes, Client, PublishPacket, Subscription } from 'aedes'

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
  /** Whether any live or persistent subscription matches the topic. */
  hasSubscriber(topic: string): boolean
}

// A symbol-keyed flag on the packet itself: a WeakSet entry per message cost ~7% of the broker thread and
// extra GC work at 80k msg/s (measured with --cpu-prof).
const TELEMETRY = Symbol('factory-monitor.telemetry')
type TelemetryMarked = PublishPacket & { [TELEMETRY]?: true }

type Publish = (packet: PublishPacket, client: Client | null, done: (error?: Error) => void) => void
type Subscribe = (topic: string, func: unknown, done: (error?: Error) => void) => void

/**
 * Wraps the instance's publish, subscribe and unsubscribe. Subscriptions are counted where Aedes registers
 * them with its emitter (before the SUBACK, and for restored sessions too); filters of persistent sessions
 * are kept for good, because their offline queues must still receive. Retained telemetry always fans out.
 */
export function installTelemetryFanout(aedes: Aedes): TelemetryFanout {
  const live = new Map<string, number>()
  const persistent = new Set<string>()
  const matches = new Map<string, boolean>()
  const changed = () => matches.clear()

  const hasSubscriber = (topic: string): boolean => {
    if (live.size === 0 && persistent.size === 0) return false
    let hit = matches.get(topic)
    if (hit === undefined) {
      const any = (filters: Iterable<string>) => {
        for (const filter of filters) if (filterMatches(filter, topic)) return true
        return false
      }
      hit = any(live.keys()) || any(persistent)
      // One entry per device topic between subscription changes; cleared on every change.
      matches.set(topic, hit)
    }
    return hit
  }

  const broker = aedes as unknown as { publish: Publish; subscribe: Subscribe; unsubscribe: Subscribe }
  const publish = broker.publish.bind(aedes)
  const subscribe = broker.subscribe.bind(aedes)
  const unsubscribe = broker.unsubscribe.bind(aedes)
  broker.publish = (packet, client, done) => {
    if (
      typeof client !== 'function' &&
      (packet as TelemetryMarked)[TELEMETRY] === true &&
      !packet.retain &&
      !hasSubscriber(packet.topic)
    )
      return done?.()
    publish(packet, client, done)
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
    hasSubscriber,
  }
}
