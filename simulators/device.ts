// One simulated machine on MQTT: its own client and credentials, the status topic as last will, and
// an abrupt offline (socket destroyed without DISCONNECT) so the broker publishes the will.
import mqtt, { type MqttClient } from 'mqtt'
import { type CredentialDevice, statusTopicOf } from './credentials-file.ts'

export interface DeviceOptions {
  mqttUrl: string
  device: CredentialDevice
  qos: 0 | 1
  connectTimeoutMs?: number
}

export interface Device {
  readonly machineKey: string
  readonly statusTopic: string
  isConnected(): boolean
  /** Connects (again) and publishes `online` to the status topic. */
  connect(): Promise<void>
  /** Resolves when written (QoS 0) or when the PUBACK arrives (QoS 1). */
  publish(payload: string): Promise<void>
  /** Destroys the socket without DISCONNECT, so the broker publishes the last will (`offline`). */
  goOffline(): void
  /** Sends DISCONNECT and closes; the last will is not published. */
  close(): Promise<void>
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000

export function createDevice(options: DeviceOptions): Device {
  const { device, qos } = options
  const statusTopic = statusTopicOf(device.topic)
  let client: MqttClient | undefined

  return {
    machineKey: device.machineKey,
    statusTopic,
    isConnected: () => client?.connected === true,
    async connect() {
      const next = mqtt.connect(options.mqttUrl, {
        clientId: device.clientId,
        username: device.username,
        password: device.password,
        clean: true,
        // Reconnects are driven by the simulator (offline faults), not by the library.
        reconnectPeriod: 0,
        connectTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
        will: { topic: statusTopic, payload: Buffer.from('offline'), qos: 1, retain: false },
      })
      await new Promise<void>((resolve, reject) => {
        const onError = (error: Error) => {
          next.removeListener('connect', onConnect)
          next.end(true)
          reject(error)
        }
        const onConnect = () => {
          next.removeListener('error', onError)
          resolve()
        }
        next.once('connect', onConnect)
        next.once('error', onError)
      })
      // Errors after connecting surface through publish(); keep the emitter from throwing.
      next.on('error', () => {})
      client = next
      await next.publishAsync(statusTopic, 'online', { qos: 1 })
    },
    async publish(payload) {
      if (!client?.connected) throw new Error(`device ${device.machineKey} is not connected`)
      await client.publishAsync(device.topic, payload, { qos })
    },
    goOffline() {
      // end(true) destroys the stream without sending DISCONNECT [MQTT-3.1.2-8]: the will is published.
      client?.end(true)
      client = undefined
    },
    async close() {
      const current = client
      client = undefined
      if (current) await current.endAsync()
    },
  }
}
