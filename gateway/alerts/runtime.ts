// The main thread's alerting: the writer's replies and batch transitions in, notifications out, the
// scheduler with its jobs, and the handle the API uses.
import type { Logger } from 'pino'
import type client from 'prom-client'
import type { AlertingApi } from '../../api/routes/alerts.ts'
import type { AlertTransition, Storage } from '../../db/index.ts'
import {
  createAlertNotifier,
  createEventHub,
  createNotifyMetrics,
  createWebhookDispatcher,
  type WebhookDispatcherOptions,
} from '../notify/index.ts'
import {
  type Clock,
  createScheduler,
  createSchedulerMetrics,
  type Scheduler,
  standardJobs,
  systemClock,
} from '../scheduler/index.ts'
import type { AlertReply, AlertRequest, BatchDone } from '../writer-protocol.ts'
import { createAlertControl } from './control.ts'

export interface AlertingOptions {
  storage: Storage
  logger: Logger
  registry: client.Registry
  send(message: AlertRequest | { type: 'reload-rules' }): void
  publish(topic: string, payload: string, qos: 0 | 1): Promise<void>
  checkpoint(): void
  clock?: Clock
  webhooks?: Partial<Omit<WebhookDispatcherOptions, 'store' | 'logger'>>
  ssePingIntervalMs?: number
}

export function createAlerting(options: AlertingOptions) {
  const log = options.logger
  const clock = options.clock ?? systemClock
  const metrics = createNotifyMetrics(options.registry)
  const hub = createEventHub<AlertTransition>((error) => log.warn({ err: error }, 'event listener dropped'))
  const webhooks = createWebhookDispatcher({
    store: options.storage.webhooks,
    logger: log.child({ area: 'webhooks' }),
    ...options.webhooks,
    onOutcome(outcome) {
      metrics.webhookOutcomes.inc({ outcome })
      metrics.webhookQueue.set(webhooks.queued())
    },
  })
  const notifier = createAlertNotifier({ publish: options.publish, hub, webhooks, logger: log, metrics })
  const control = createAlertControl({ send: options.send, clock: clock.now })
  const scheduler: Scheduler = createScheduler({
    clock,
    recorder: options.storage.jobs,
    logger: log.child({ area: 'scheduler' }),
    metrics: createSchedulerMetrics(options.registry),
  })
  for (const job of standardJobs({
    tickAlerts: async (nowMs) => {
      const { transitions, rowsTouched } = await control.tick(nowMs)
      notifier.notify(transitions)
      return rowsTouched
    },
    runRetention: (nowMs) => control.retention(nowMs),
    checkpoint: options.checkpoint,
    jobs: options.storage.jobs,
  })) {
    scheduler.add(job)
  }
  options.storage.alerts.onChange(() => options.send({ type: 'reload-rules' }))

  const act =
    (action: 'acknowledge' | 'clear') =>
    async (alertId: number, actor: string, comment: string | null): Promise<AlertTransition[]> => {
      const transitions = await control[action](alertId, actor, comment)
      notifier.notify(transitions)
      return transitions
    }

  const api: AlertingApi = {
    acknowledge: act('acknowledge'),
    clear: act('clear'),
    subscribe: (listener) => hub.subscribe(listener),
    jobs: () => scheduler.list(),
    ssePingIntervalMs: options.ssePingIntervalMs,
    onSseClients: (count) => metrics.sseClients.set(count),
  }

  return {
    api,
    scheduler,
    webhooks,
    /** Every batch the writer reports: its alert transitions go out to every channel. */
    onBatch(done: BatchDone): void {
      if (done.alertError) log.error({ batch: done.id, error: done.alertError }, 'alert evaluation failed')
      if (done.alerts && done.alerts.length > 0) notifier.notify(done.alerts)
    },
    onReply: (reply: AlertReply) => control.handle(reply),
    start(): void {
      const abandoned = options.storage.jobs.abandonRunning(clock.now())
      const resumed = webhooks.resume()
      if (abandoned > 0 || resumed > 0)
        log.info({ abandonedRuns: abandoned, resumedDeliveries: resumed }, 'alerting resumed')
      scheduler.start()
    },
    /** Stops the jobs; call before the writer closes so no tick waits on it. */
    stopJobs: () => scheduler.stop(),
    /** Stops webhook delivery; what is still pending is resumed on the next start. */
    close(): void {
      webhooks.stop()
    },
  }
}

export type Alerting = ReturnType<typeof createAlerting>
