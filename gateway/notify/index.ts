// The notification area: MQTT alert topic, SSE fan-out and signed webhooks.
export { alertPayload, alertTopic } from './alert-topic.ts'
export { createEventHub, type EventHub } from './event-hub.ts'
export { createNotifyMetrics, type NotifyMetrics } from './metrics.ts'
export { type AlertNotifier, createAlertNotifier } from './notifier.ts'
export { SIGNATURE_HEADER, signBody, verifySignature } from './signature.ts'
export {
  createWebhookDispatcher,
  WEBHOOK_DEFAULTS,
  type WebhookDispatcher,
  type WebhookDispatcherOptions,
} from './webhook-dispatcher.ts'
