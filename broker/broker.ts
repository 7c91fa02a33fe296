// The embedded MQTT broker: Aedes behind a frame guard, device authentication, topic ACLs, and the hook
// that holds each telemetry message until the gateway reports it committed.
import { createServer, type Server, type Socket } from 'node:net'
import { Aedes, type AuthenticateError, type Client, type PublishPacket, type Subscription } from 'aedes'
import type { Logger } from 'pino'
import { guardFrames } from './frame-guard.ts'
import { canSubscribe, classifyPublish, type MachineAddress } from './topics.ts'

export interface DeviceIdentity extends MachineAddress {
  machineId: number
  username: string
}

/** Why the broker refused a connection, publish or subscription (metrics label, log field, docs/errors.md). */
export const REFUSAL_REASONS = [
  'AUTH_CREDENTIALS_MISSING',
  'AUTH_CREDENTIALS_INVALID',
  'AUTH_CLIENT_ID_MISMATCH',
  'ACL_TOPIC_NOT_OWNED',
  'ACL_TOPIC_RESERVED',
  'ACL_TOPIC_INVALID',
  'ACL_SUBSCRIBE_DENIED',
  'MQTT_PACKET_TOO_LARGE',
] as const
export type RefusalReason = (typeof REFUSAL_REASONS)[number]

export interface TelemetryMessage {
  device: DeviceIdentity
  clientId: string
  topic: string
  payload: Buffer
  receivedMs: number
}

export interface BrokerOptions {
  host: string
  port: number
  maxPacketBytes: number
  /** Development only: accept clients without credentials (their telemetry is not stored). */
  allowAnonymous: boolean
  logger: Logger
  authenticateDevice(username: string, password: string): Promise<DeviceIdentity | null>
  /** Must call done(null) only once the message is durably committed; done(error) withholds the PUBACK. */
  onTelemetry(message: TelemetryMessage, done: (error: Error | null) => void): void
  onDeviceStatus(machineId: number, status: 'online' | 'offline', atMs: number): void
  onRefusal(reason: RefusalReason, clientId: string): void
}

export interface Broker {
  port: number
  connectedClients(): number
  connectedDevices(): number
  /** Publishes a server message (e.g. alert notifications) to subscribers. */
  publish(topic: string, payload: string | Buffer, qos?: 0 | 1): Promise<void>
  /** Stops accepting connections; existing clients are disconnected. */
  close(): Promise<void>
}

// Aedes accepts a callback error that carries the CONNACK return code.
function connackError(message: string, returnCode: 2 | 4 | 5): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError
}

export async function createBroker(options: BrokerOptions): Promise<Broker> {
  const log = options.logger
  const devices = new WeakMap<Client, DeviceIdentity>()
  const sessionsPerMachine = new Map<number, number>()

  const refuse = (reason: RefusalReason, client: Client | null, detail: Record<string, unknown> = {}) => {
    options.onRefusal(reason, client?.id ?? '')
    log.warn({ reason, clientId: client?.id, ...detail }, 'mqtt request refused')
  }

  const aedes = await Aedes.createBroker({
    // Device client ids are "<factory>.<machine>", longer than the 23 characters MQTT 3.1.1 guarantees.
    maxClientsIdLength: 160,
    authenticate(client, username, password, callback) {
      if (!username || !password) {
        if (options.allowAnonymous) return callback(null, true)
        refuse('AUTH_CREDENTIALS_MISSING', client)
        return callback(connackError('credentials required', 4), false)
      }
      options.authenticateDevice(username, password.toString('utf8')).then(
        (device) => {
          if (!device) {
            refuse('AUTH_CREDENTIALS_INVALID', client, { username })
            return callback(connackError('bad user name or password', 4), false)
          }
          if (client.id !== device.username) {
            refuse('AUTH_CLIENT_ID_MISMATCH', client, { username })
            return callback(connackError('client id must equal the user name', 2), false)
          }
          devices.set(client, device)
          callback(null, true)
        },
        (error: unknown) => {
          log.error({ err: error }, 'device authentication failed')
          callback(connackError('server unavailable', 5), false)
        },
      )
    },
    authorizePublish(client, packet, callback) {
      if (!client) return callback(null)
      const device = devices.get(client)
      if (!device) {
        // Anonymous development clients may publish anywhere but $SYS; nothing they send is stored.
        if (packet.topic.startsWith('$')) return callback(new Error('reserved topic'))
        return callback(null)
      }
      const kind = classifyPublish(packet.topic, device)
      if (kind === 'status' || kind === 'other-own') return callback(null)
      if (kind !== 'telemetry') {
        refuse(kind, client, { topic: packet.topic })
        return callback(new Error(kind))
      }
      options.onTelemetry(
        {
          device,
          clientId: client.id,
          topic: packet.topic,
          payload: packet.payload as Buffer,
          receivedMs: Date.now(),
        },
        (error) => callback(error),
      )
    },
    authorizeSubscribe(client, subscription, callback) {
      const device = client ? devices.get(client) : undefined
      if (!device && options.allowAnonymous) return callback(null, subscription)
      if (device && canSubscribe(subscription.topic, device)) return callback(null, subscription)
      refuse('ACL_SUBSCRIBE_DENIED', client, { topic: subscription.topic })
      // A null subscription answers 0x80 (failure) in the SUBACK and keeps the connection. [MQTT-3.9.3-2]
      callback(null, null as unknown as Subscription)
    },
  })

  aedes.on('clientReady', (client) => {
    const device = devices.get(client)
    if (!device) return
    const sessions = (sessionsPerMachine.get(device.machineId) ?? 0) + 1
    sessionsPerMachine.set(device.machineId, sessions)
    if (sessions === 1) options.onDeviceStatus(device.machineId, 'online', Date.now())
  })
  aedes.on('clientDisconnect', (client) => {
    const device = devices.get(client)
    if (!device) return
    const sessions = (sessionsPerMachine.get(device.machineId) ?? 1) - 1
    if (sessions > 0) sessionsPerMachine.set(device.machineId, sessions)
    else {
      sessionsPerMachine.delete(device.machineId)
      options.onDeviceStatus(device.machineId, 'offline', Date.now())
    }
  })
  aedes.on('clientError', (client, error) =>
    log.debug({ clientId: client.id, err: error.message }, 'client error'),
  )
  aedes.on('connectionError', (_client, error) => log.debug({ err: error.message }, 'connection error'))

  const server: Server = createServer((socket: Socket) => {
    socket.setNoDelay(true)
    guardFrames(socket, options.maxPacketBytes, () => refuse('MQTT_PACKET_TOO_LARGE', null))
    aedes.handle(socket)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : options.port
  log.info({ host: options.host, port, allowAnonymous: options.allowAnonymous }, 'mqtt broker listening')
  if (options.allowAnonymous) {
    log.warn('FACTORY_MQTT_ALLOW_ANONYMOUS is on: clients may connect without credentials (development only)')
  }

  return {
    port,
    connectedClients: () => aedes.connectedClients,
    connectedDevices: () => sessionsPerMachine.size,
    publish(topic, payload, qos = 0) {
      const packet = { cmd: 'publish', topic, payload, qos, retain: false, dup: false } as PublishPacket
      return new Promise((resolve, reject) =>
        aedes.publish(packet, (error) => (error ? reject(error) : resolve())),
      )
    },
    async close() {
      // server.close() resolves only once every socket is gone, so the clients are closed after it starts.
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
      await stopped
    },
  }
}
