// The MQTT broker area: embedded Aedes with device auth, ACLs and the frame guard.
export {
  type Broker,
  type BrokerOptions,
  createBroker,
  type DeviceIdentity,
  REFUSAL_REASONS,
  type RefusalReason,
  type TelemetryMessage,
} from './broker.ts'
export { statusTopic, telemetryTopic } from './topics.ts'
