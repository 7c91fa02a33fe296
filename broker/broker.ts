// The embedded MQTT broker: Aedes behind a frame guard and rate limits, device authentication, topic ACLs,
// and the hook that holds each telemetry message until the gateway reports it committed.
import type { Duplex } from 'node:stream'
import { Aedes, type AuthenticateError, type Client, type PublishPacket, type Subscription } from 'aedes'
import type { Logger } from 'pino'
import { type AckFilter, guardFrames } from './frame-guard.ts'
import { checkTopicLimits, createConcurrencyCap, createRateLimiter, type RateDecision } from './limits.ts'
import { startListeners, type TlsMaterial } from './listeners.ts'
import { createReadAhead, type ReadAhead } from './read-ahead.ts'
import { countedError, type RefusalDetail, type RefusalReason, refusalForClientError } from './refusals.ts'
import { installTelemetryFanout } from './telemetry-fanout.ts'
import { takeOverTelemetry } from './telemetry-path.ts'
import { canSubscribe, classifyPublish, type MachineAddress, telemetryTopic } from './topics.ts'
import { coalesceWrites } from './write-coalescing.ts'

export { REFUSAL_REASONS, type RefusalDetail, type RefusalReason } from './refusals.ts'

export interface DeviceIdentity extends MachineAddress {
  machineId: number
  username: string
}

export interface TelemetryMessage {
  /** The publishing device's machine. */
  machineId: number
  clientId: string
  topic: string
  payload: Buffer
  receivedMs: number
  /** Called once the message is stored (null: its PUBACK follows) or could not be (no PUBACK). */
  done(error: Error | null): void
}

/** What a telemetry message gives back to the broker when it completes. */
interface TelemetryHolds {
  readAhead: ReadAhead
  uncommitted: { give(machineId: number): void }
}

/**
 * A telemetry publish waiting for its commit, as one object: the message, what it holds, and the
 * publish callback it completes (a message object, a closure, its context and a queue entry before).
 */
class WaitingTelemetry implements TelemetryMessage {
  readonly machineId: number
  readonly clientId: string
  readonly topic: string
  readonly payload: Buffer
  readonly receivedMs: number
  readonly #client: Client
  /** It handed back its read slot (read-ahead). */
  readonly #early: boolean
  /** It holds a slot of the uncommitted cap taken with tryTake. */
  readonly #slot: boolean
  readonly #holds: TelemetryHolds
  readonly #callback: (error?: Error | null) => void

  constructor(
    client: Client,
    machineId: number,
    packet: PublishPacket,
    early: boolean,
    slot: boolean,
    holds: TelemetryHolds,
    callback: (error?: Error | null) => void,
  ) {
    this.machineId = machineId
    this.clientId = client.id
    this.topic = packet.topic
    this.payload = packet.payload as Buffer
    this.receivedMs = Date.now()
    this.#client = client
    this.#early = early
    this.#slot = slot
    this.#holds = holds
    this.#callback = callback
  }

  done(error: Error | null): void {
    if (this.#early) this.#holds.readAhead.settle(this.#client)
    if (this.#slot) this.#holds.uncommitted.give(this.machineId)
    this.#callback(error)
  }
}

/** Limits every client is held to; see docs/security.md. */
export interface BrokerLimits {
  maxConnections: number
  /** New connections per minute from one address; 0 turns the limit off. */
  connectRatePerIpPerMin: number
  /** Publishes per second per device (anonymous clients: per client id); 0 turns the limit off. */
  publishRatePerS: number
  publishBurst: number
  /** How long a connection or publish over its rate may be delayed before it is refused instead. */
  throttleMaxMs: number
  maxTopicLevels: number
  maxTopicBytes: number
  /** A client that does not read what it is sent for this long is disconnected; 0 waits forever. */
  drainTimeoutMs: number
  /** A live subscriber with more telemetry than this waiting for its socket is disconnected at once. */
  subscriberQueueMaxBytes: number
  /** QoS 2 messages one client may leave waiting for PUBREL. */
  maxInflightInbound: number
}

export interface BrokerOptions {
  host: string
  port: number
  /** MQTT over WebSockets on this port; null or absent: off. */
  wsPort?: number | null
  /** When set, both the MQTT and the WebSocket listener speak TLS 1.2 or later only. */
  tls?: TlsMaterial | null
  maxPacketBytes: number
  /** Development only: accept clients without credentials (their telemetry is not stored). */
  allowAnonymous: boolean
  limits: BrokerLimits
  logger: Logger
  /** `signal` fires when the client goes away; a check still waiting for its turn may then be skipped. */
  authenticateDevice(username: string, password: string, signal: AbortSignal): Promise<DeviceIdentity | null>
  /** Must call message.done(null) only once the message is durably committed; done(error) withholds the PUBACK. */
  onTelemetry(message: TelemetryMessage): void
  onDeviceStatus(machineId: number, status: 'online' | 'offline', atMs: number): void
  onRefusal(reason: RefusalReason, detail: RefusalDetail): void
  /** A connection or publish was delayed by a rate limit. */
  onThrottle?(kind: 'connect' | 'publish'): void
}

export interface Broker {
  port: number
  wsPort: number | null
  connectedClients(): number
  connectedDevices(): number
  /** Publishes a server message (e.g. alert notifications) to subscribers. */
  publish(topic: string, payload: string | Buffer, qos?: 0 | 1): Promise<void>
  /** Stops accepting connections; existing clients are disconnected. */
  close(): Promise<void>
}

// Aedes accepts a callback error that carries the CONNACK return code.
/** CONNACK return codes of MQTT 3.1.1: 2 identifier rejected, 3 server unavailable, 4 bad user name or password. */
function connackError(message: string, returnCode: 2 | 3 | 4): AuthenticateError {
  return countedError(Object.assign(new Error(message), { returnCode })) as AuthenticateError
}

// Refusals are logged one by one only up to this many per reason and window; the rest are summed.
const LOG_WINDOW_MS = 10_000
const LOG_PER_REASON_PER_WINDOW = 20
const MAX_LOGGED_TOPIC_CHARS = 200
// Aedes hands over every publish of one socket read at once; from a pipelining device that is hundreds,
// which landed in one group commit and made every other device's PUBACK wait for it. With the publish
// limit on, a device has at most this many messages waiting for a commit; the rest wait their turn here.
const MAX_UNCOMMITTED_PER_DEVICE = 32
// Messages one connection may have waiting for a commit beyond its current socket read (see read-ahead.ts).
const MAX_READ_AHEAD = 64
/** Deliveries to subscribers that Aedes runs at once (see createBroker). */
const MQ_CONCURRENCY = 2000

/** The Aedes client a connection carries once handled (lib/client.js sets `conn.client`). */
interface HandledStream {
  client?: { clean: boolean; connected: boolean; _keepaliveTimer: NodeJS.Timeout | null }
}

/** A connected clean session's PUBACKs are dropped unparsed; each read that had some counts as traffic. */
function cleanSessionAcks(stream: Duplex): AckFilter {
  const handled = stream as Duplex & HandledStream
  return {
    active: () => handled.client?.clean === true && handled.client.connected,
    dropped: () => handled.client?._keepaliveTimer?.refresh(),
  }
}

export async function createBroker(options: BrokerOptions): Promise<Broker> {
  const log = options.logger
  const limits = options.limits
  const devices = new WeakMap<Client, DeviceIdentity>()
  const addresses = new WeakMap<object, string>()
  const emptyPersistentIds = new WeakSet<Client>()
  const sessionsPerMachine = new Map<number, Set<Client>>()
  let openConnections = 0

  const connectLimiter = createRateLimiter<string>({
    ratePerS: limits.connectRatePerIpPerMin / 60,
    burst: Math.max(1, limits.connectRatePerIpPerMin),
    throttleMaxMs: limits.throttleMaxMs,
  })
  const publishLimiter = createRateLimiter<number | string>({
    ratePerS: limits.publishRatePerS,
    burst: limits.publishBurst,
    throttleMaxMs: limits.throttleMaxMs,
  })
  const uncommitted = createConcurrencyCap<number>(publishLimiter.enabled ? MAX_UNCOMMITTED_PER_DEVICE : 0)

  let logWindowStartMs = Date.now()
  const loggedPerReason = new Map<RefusalReason, number>()
  const logRefusal = (reason: RefusalReason, detail: RefusalDetail) => {
    const nowMs = Date.now()
    if (nowMs - logWindowStartMs > LOG_WINDOW_MS) {
      const suppressed = Object.fromEntries(
        [...loggedPerReason].filter(([, n]) => n > LOG_PER_REASON_PER_WINDOW).map(([r, n]) => [r, n]),
      )
      if (Object.keys(suppressed).length > 0)
        log.warn({ refusals: suppressed }, 'mqtt refusals in the last window')
      loggedPerReason.clear()
      logWindowStartMs = nowMs
    }
    const n = (loggedPerReason.get(reason) ?? 0) + 1
    loggedPerReason.set(reason, n)
    if (n <= LOG_PER_REASON_PER_WINDOW) log.warn({ reason, ...detail }, 'mqtt request refused')
    else log.debug({ reason, ...detail }, 'mqtt request refused')
  }

  const refuse = (
    reason: RefusalReason,
    client: Client | null,
    extra: { username?: string; topic?: string; remoteAddress?: string } = {},
  ) => {
    const detail: RefusalDetail = {
      clientId: client?.id ?? '',
      username: extra.username ?? (client ? devices.get(client)?.username : undefined),
      remoteAddress: extra.remoteAddress ?? (client ? addresses.get(client.conn) : undefined),
      topic: extra.topic?.slice(0, MAX_LOGGED_TOPIC_CHARS),
    }
    options.onRefusal(reason, detail)
    logRefusal(reason, detail)
  }

  /** Runs `go` now, later (throttled) or never (refused), as the rate decision says. */
  const applyRate = (
    decision: RateDecision,
    kind: 'connect' | 'publish',
    client: Client,
    go: () => void,
    refused: () => void,
    gone: () => void = refused,
  ) => {
    if (decision.kind === 'go') return go()
    if (decision.kind === 'refuse') return refused()
    options.onThrottle?.(kind)
    // A client that went away while it waited is not refused; its callback just gets an error.
    setTimeout(() => (client.closed ? gone() : go()), decision.waitMs)
  }

  // Each device's telemetry topic, built and checked once instead of on every publish.
  const telemetryTopics = new WeakMap<DeviceIdentity, string | null>()
  const ownTelemetryTopic = (device: DeviceIdentity) => {
    let topic = telemetryTopics.get(device)
    if (topic === undefined) {
      topic = telemetryTopic(device)
      if (classifyPublish(topic, device) !== 'telemetry') topic = null
      telemetryTopics.set(device, topic)
    }
    return topic
  }

  const readAhead = createReadAhead(MAX_READ_AHEAD)
  const holds: TelemetryHolds = { readAhead, uncommitted }

  type PublishCallback = (error?: Error | null) => void
  const denyPublish = (reason: RefusalReason, client: Client, topic: string, callback: PublishCallback) => {
    refuse(reason, client, { topic })
    callback(countedError(new Error(reason)))
  }

  /** An allowed publish: telemetry goes to the gateway (its callback, the PUBACK, follows the commit). */
  const admitPublish = (
    client: Client,
    device: DeviceIdentity | undefined,
    kind: string,
    packet: PublishPacket,
    callback: PublishCallback,
  ) => {
    // Anonymous development clients may publish anywhere but $ topics; nothing they send is stored.
    if (!device || kind !== 'telemetry') return callback(null)
    if (uncommitted.tryTake(device.machineId)) return commitTelemetry(client, device, packet, true, callback)
    uncommitted.run(device.machineId, (release) =>
      commitTelemetry(client, device, packet, false, (error) => {
        release()
        callback(error)
      }),
    )
  }

  /** `slot`: the publish holds a slot of `uncommitted` taken with tryTake, given back before the callback. */
  const commitTelemetry = (
    client: Client,
    device: DeviceIdentity,
    packet: PublishPacket,
    slot: boolean,
    callback: PublishCallback,
  ) => {
    if (client.closed) {
      if (slot) uncommitted.give(device.machineId)
      return callback(countedError(new Error('client closed while waiting for a commit')))
    }
    fanout.markTelemetry(packet)
    const early = readAhead.hold(client)
    options.onTelemetry(new WaitingTelemetry(client, device.machineId, packet, early, slot, holds, callback))
  }

  const aedes = await Aedes.createBroker({
    // Device client ids are "<factory>.<machine>", longer than the 23 characters MQTT 3.1.1 guarantees.
    maxClientsIdLength: 160,
    // Deliveries to subscribers in progress at once (Aedes' default 100). Each takes two or more event-loop
    // turns, so 100 capped fan-out at 100 per turn and queued the rest (one subscriber on factories/#:
    // 27.5k -> 39.8k msg/s at 2,000). Publishers stay bounded by their own in-flight windows.
    concurrency: MQ_CONCURRENCY,
    maxTopicLevels: limits.maxTopicLevels,
    drainTimeout: limits.drainTimeoutMs,
    maxInflightInbound: limits.maxInflightInbound,
    preConnect(client, packet, callback) {
      // Remembered here because Aedes replaces an empty client id before authenticate runs. [MQTT-3.1.3-8]
      if (packet.clientId === '' && packet.clean === false) emptyPersistentIds.add(client)
      const remoteAddress = addresses.get(client.conn) ?? ''
      applyRate(
        connectLimiter.take(remoteAddress),
        'connect',
        client,
        () => callback(null, true),
        () => {
          refuse('MQTT_CONNECT_RATE_EXCEEDED', client)
          callback(countedError(new Error('connection rate exceeded')), false)
        },
        () => callback(countedError(new Error('client closed while throttled')), false),
      )
    },
    authenticate(client, username, password, callback) {
      if (emptyPersistentIds.has(client)) {
        refuse('AUTH_CLIENT_ID_EMPTY', client)
        return callback(connackError('a persistent session needs a client id', 2), false)
      }
      if (!username || !password) {
        if (options.allowAnonymous) return callback(null, true)
        refuse('AUTH_CREDENTIALS_MISSING', client)
        return callback(connackError('credentials required', 4), false)
      }
      const gone = new AbortController()
      const abandon = () => gone.abort()
      client.conn.once('close', abandon)
      options.authenticateDevice(username, password.toString('utf8'), gone.signal).then(
        (device) => {
          if (!device) {
            refuse('AUTH_CREDENTIALS_INVALID', client, { username })
            return callback(connackError('bad user name or password', 4), false)
          }
          if (client.id !== device.username) {
            refuse('AUTH_CLIENT_ID_MISMATCH', client, { username })
            return callback(connackError('client id must equal the user name', 2), false)
          }
          client.conn.off('close', abandon)
          devices.set(client, device)
          callback(null, true)
        },
        (error: unknown) => {
          client.conn.off('close', abandon)
          if (gone.signal.aborted)
            return callback(connackError('client closed during authentication', 3), false)
          log.error({ err: error }, 'device authentication failed')
          callback(connackError('server unavailable', 3), false)
        },
      )
    },
    authorizePublish(client, packet, callback) {
      if (!client) return callback(null)
      const topic = packet.topic
      const tooBig = checkTopicLimits(topic, limits)
      if (tooBig) return denyPublish(tooBig, client, topic, callback)
      const device = devices.get(client)
      const kind = device
        ? topic === ownTelemetryTopic(device)
          ? 'telemetry'
          : classifyPublish(topic, device)
        : topic.startsWith('$')
          ? 'ACL_TOPIC_RESERVED'
          : 'other-own'
      if (kind !== 'telemetry' && kind !== 'status' && kind !== 'other-own')
        return denyPublish(kind, client, topic, callback)
      const decision = publishLimiter.take(device ? device.machineId : `anonymous:${client.id}`)
      // The common case creates no closure here: nothing of this call stays alive while the commit runs.
      if (decision.kind === 'go') return admitPublish(client, device, kind, packet, callback)
      applyRate(
        decision,
        'publish',
        client,
        () => admitPublish(client, device, kind, packet, callback),
        () => denyPublish('MQTT_PUBLISH_RATE_EXCEEDED', client, topic, callback),
        () => callback(countedError(new Error('client closed while throttled'))),
      )
    },
    authorizeSubscribe(client, subscription, callback) {
      const device = client ? devices.get(client) : undefined
      const tooBig = checkTopicLimits(subscription.topic, limits)
      if (tooBig) refuse(tooBig, client, { topic: subscription.topic })
      else if (!device && options.allowAnonymous) return callback(null, subscription)
      else if (device && canSubscribe(subscription.topic, device)) return callback(null, subscription)
      else refuse('ACL_SUBSCRIBE_DENIED', client, { topic: subscription.topic })
      // A null subscription answers 0x80 (failure) in the SUBACK and keeps the connection. [MQTT-3.9.3-2]
      callback(null, null as unknown as Subscription)
    },
  })
  const fanout = installTelemetryFanout(aedes, limits.subscriberQueueMaxBytes)

  // Live sessions are tracked here rather than read from aedes.connectedClients: under client-id take-over
  // races Aedes can register a client whose connection already ended and never unregister it, so each
  // session is also released when its connection closes.
  const live = new Set<Client>()
  const release = (client: Client) => {
    if (!live.delete(client)) return
    const device = devices.get(client)
    const sessions = device && sessionsPerMachine.get(device.machineId)
    if (!device || !sessions?.delete(client)) return
    if (sessions.size === 0) {
      sessionsPerMachine.delete(device.machineId)
      options.onDeviceStatus(device.machineId, 'offline', Date.now())
    }
  }
  aedes.on('client', (client) => {
    if (client.closed || client.conn.destroyed) return
    live.add(client)
    client.conn.once('close', () => release(client))
    const device = devices.get(client)
    if (!device) return
    const sessions = sessionsPerMachine.get(device.machineId) ?? new Set<Client>()
    sessionsPerMachine.set(device.machineId, sessions.add(client))
    if (sessions.size === 1) options.onDeviceStatus(device.machineId, 'online', Date.now())
    const topic = ownTelemetryTopic(device)
    if (topic !== null) takeOverTelemetry(client, topic)
  })
  aedes.on('clientDisconnect', release)
  // A connection that sends garbage makes Aedes report an error per queued packet; one refusal is counted.
  const erroredClients = new WeakSet<Client>()
  const onClientError = (client: Client, error: Error) => {
    const reason = refusalForClientError(error)
    if (reason && !erroredClients.has(client)) {
      erroredClients.add(client)
      refuse(reason, client)
    } else if (reason) log.debug({ reason, err: error.message }, 'further error on a refused connection')
    else log.debug({ clientId: client.id, err: error.message }, 'client error')
  }
  aedes.on('clientError', onClientError)
  aedes.on('connectionError', onClientError)

  const listeners = await startListeners({
    host: options.host,
    port: options.port,
    tls: options.tls ?? null,
    wsPort: options.wsPort ?? null,
    maxPacketBytes: options.maxPacketBytes,
    onConnection(stream: Duplex, remoteAddress, req) {
      if (openConnections >= limits.maxConnections) {
        refuse('MQTT_CONNECTIONS_EXCEEDED', null, { remoteAddress })
        stream.destroy()
        return
      }
      openConnections++
      stream.once('close', () => openConnections--)
      addresses.set(stream, remoteAddress)
      guardFrames(
        stream,
        options.maxPacketBytes,
        () => refuse('MQTT_PACKET_TOO_LARGE', null, { remoteAddress }),
        cleanSessionAcks(stream),
      )
      coalesceWrites(stream)
      aedes.handle(stream, req)
    },
    onTlsError: (error) => {
      refuse('MQTT_TLS_HANDSHAKE_FAILED', null)
      log.debug({ err: error.message }, 'tls handshake failed')
    },
  })
  log.info(
    {
      host: options.host,
      port: listeners.port,
      wsPort: listeners.wsPort,
      tls: Boolean(options.tls),
      allowAnonymous: options.allowAnonymous,
    },
    'mqtt broker listening',
  )
  if (options.allowAnonymous) {
    log.warn(
      'FACTORY_MQTT_ALLOW_ANONYMOUS is on: clients may connect without credentials (development only); ' +
        'their telemetry is forwarded but not stored',
    )
  }

  return {
    port: listeners.port,
    wsPort: listeners.wsPort,
    connectedClients: () => live.size,
    connectedDevices: () => sessionsPerMachine.size,
    publish(topic, payload, qos = 0) {
      const packet = { cmd: 'publish', topic, payload, qos, retain: false, dup: false } as PublishPacket
      return new Promise((resolve, reject) =>
        aedes.publish(packet, (error) => (error ? reject(error) : resolve())),
      )
    },
    async close() {
      // The listeners resolve only once every socket is gone, so the clients are closed after they start.
      const stopped = listeners.close()
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
      await stopped
    },
  }
}
