// Prometheus series for alert changes and their notifications.
import client from 'prom-client'

export function createNotifyMetrics(registry: client.Registry) {
  return {
    transitions: new client.Counter({
      name: 'factory_alert_transitions_total',
      help: 'Alert changes by event (opened, acknowledged, cleared) and severity',
      labelNames: ['event', 'severity'],
      registers: [registry],
    }),
    webhookOutcomes: new client.Counter({
      name: 'factory_webhook_attempts_total',
      help: 'Webhook delivery attempts by outcome (delivered, retry, failed, dropped)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    webhookQueue: new client.Gauge({
      name: 'factory_webhook_queue_depth',
      help: 'Webhook deliveries queued or in flight',
      registers: [registry],
    }),
    sseClients: new client.Gauge({
      name: 'factory_sse_clients',
      help: 'Open alert event streams',
      registers: [registry],
    }),
  }
}

export type NotifyMetrics = ReturnType<typeof createNotifyMetrics>
