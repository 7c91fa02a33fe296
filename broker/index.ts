// The MQTT broker area: embedded Aedes with device auth, ACLs, rate limits and the frame guard.
export {
  type Broker,
  type BrokerLimits,
  type BrokerOptions,
  createBroker,
  type DeviceIdentity,
  REFUSAL_REASONS,
  type RefusalDetail,
  type RefusalReason,
  type TelemetryMessage,
} from './broker.ts'
export type { TlsMaterial } from './listeners.ts'
export { statusTopic, telemetryTopic } from './topics.ts'
