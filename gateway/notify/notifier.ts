// Sends every alert change to MQTT (the machine's alerts topic), the SSE hub and the webhook dispatcher.
import type { Logger } from 'pino'
import type { AlertTransition } from '../../db/index.ts'
import { alertPayload, alertTopic } from './alert-topic.ts'
import type { EventHub } from './event-hub.ts'
import type { NotifyMetrics } from './metrics.ts'
import type { WebhookDispatcher } from './webhook-dispatcher.ts'

export interface AlertNotifierOptions {
  publish(topic: string, payload: string, qos: 0 | 1): Promise<void>
  hub: EventHub<AlertTransition>
  webhooks: WebhookDispatcher
  logger: Logger
  metrics?: NotifyMetrics
}

export function createAlertNotifier(options: AlertNotifierOptions) {
  const log = options.logger
  return {
    notify(transitions: AlertTransition[]): void {
      for (const t of transitions) {
        options.metrics?.transitions.inc({ event: t.event, severity: t.alert.severity })
        log.info(
          {
            alertId: t.alert.id,
            event: t.event,
            ruleId: t.alert.ruleId,
            sensorId: t.alert.sensorId,
            actor: t.actor,
          },
          'alert changed',
        )
        options.publish(alertTopic(t.alert), alertPayload(t), 1).catch((error: unknown) => {
          log.warn({ err: error, alertId: t.alert.id }, 'alert could not be published on MQTT')
        })
        options.hub.publish(t)
      }
      try {
        options.webhooks.dispatch(transitions)
      } catch (error) {
        // The delivery log is in the database; a failed insert must not stop the other channels.
        log.error({ err: error }, 'webhook deliveries could not be queued')
      }
    },
  }
}

export type AlertNotifier = ReturnType<typeof createAlertNotifier>
