// Delivers alert changes to webhooks from the main thread, asynchronously: a bounded queue, a timeout per
// attempt, exponential backoff between attempts, one attempt at a time per endpoint so a dead endpoint
// only ever holds its own slot, and every outcome in the delivery log.
import type { Logger } from 'pino'
import type { AlertTransition, WebhookStore } from '../../db/index.ts'
import { alertPayload } from './alert-topic.ts'
import { SIGNATURE_HEADER, signBody } from './signature.ts'

export interface WebhookDispatcherOptions {
  store: WebhookStore
  logger: Logger
  /** Deliveries waiting (ready or backing off) beyond this are dropped and logged as such. */
  maxQueued?: number
  /** Attempts in flight across all endpoints. */
  concurrency?: number
  timeoutMs?: number
  maxAttempts?: number
  backoffBaseMs?: number
  backoffMaxMs?: number
  onOutcome?: (outcome: 'delivered' | 'retry' | 'failed' | 'dropped') => void
}

interface Job {
  deliveryId: number
  webhookId: number
  body: string
  event: string
  attempts: number
  dueMs: number
}

export const WEBHOOK_DEFAULTS = {
  maxQueued: 10_000,
  concurrency: 8,
  timeoutMs: 5000,
  maxAttempts: 6,
  backoffBaseMs: 1000,
  backoffMaxMs: 300_000,
}

export function createWebhookDispatcher(options: WebhookDispatcherOptions) {
  const o = { ...WEBHOOK_DEFAULTS, ...options }
  const log = options.logger
  const queue: Job[] = []
  const busy = new Set<number>()
  const inFlight = new Set<AbortController>()
  let timer: NodeJS.Timeout | null = null
  let stopped = false
  const idleWaiters: (() => void)[] = []

  const backoffMs = (attempts: number) => Math.min(o.backoffMaxMs, o.backoffBaseMs * 2 ** (attempts - 1))

  const notifyIdle = () => {
    if (queue.length > 0 || inFlight.size > 0) return
    for (const resolve of idleWaiters.splice(0)) resolve()
  }

  const pump = () => {
    if (stopped) return
    if (timer) {
      clearTimeout(timer)
      timer = null
    }
    const nowMs = Date.now()
    let nextDueMs = Number.POSITIVE_INFINITY
    for (let i = 0; i < queue.length && inFlight.size < o.concurrency; ) {
      const job = queue[i]!
      if (job.dueMs > nowMs || busy.has(job.webhookId)) {
        if (job.dueMs > nowMs) nextDueMs = Math.min(nextDueMs, job.dueMs)
        i++
        continue
      }
      queue.splice(i, 1)
      void attempt(job)
    }
    if (Number.isFinite(nextDueMs)) {
      timer = setTimeout(pump, Math.max(0, nextDueMs - nowMs))
      timer.unref()
    }
    notifyIdle()
  }

  const record = (
    job: Job,
    status: 'delivered' | 'failed' | 'pending',
    code: number | null,
    error: string | null,
  ) => {
    try {
      o.store.recordAttempt(job.deliveryId, status, job.attempts, code, error, Date.now())
    } catch (recordError) {
      log.error({ err: recordError, deliveryId: job.deliveryId }, 'webhook delivery could not be logged')
    }
  }

  const attempt = async (job: Job) => {
    const hook = o.store.getWithSecret(job.webhookId)
    if (!hook) return pump() // deleted meanwhile; its log went with it
    busy.add(job.webhookId)
    const controller = new AbortController()
    inFlight.add(controller)
    const timeout = setTimeout(
      () => controller.abort(new Error(`timed out after ${o.timeoutMs} ms`)),
      o.timeoutMs,
    )
    job.attempts++
    let code: number | null = null
    let error: string | null = null
    try {
      const response = await fetch(hook.url, {
        method: 'POST',
        body: job.body,
        signal: controller.signal,
        redirect: 'manual',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'factory-monitor-webhook',
          [SIGNATURE_HEADER]: signBody(hook.secret, job.body),
          'X-Factory-Event': job.event,
          'X-Factory-Delivery': String(job.deliveryId),
        },
      })
      code = response.status
      // The body is not needed; draining it frees the connection.
      await response.arrayBuffer().catch(() => undefined)
      if (code < 200 || code >= 300) error = `HTTP ${code}`
    } catch (caught) {
      const reason = controller.signal.aborted ? controller.signal.reason : caught
      error =
        reason instanceof Error
          ? reason.cause instanceof Error
            ? `${reason.message}: ${reason.cause.message}`
            : reason.message
          : String(reason)
    } finally {
      clearTimeout(timeout)
      inFlight.delete(controller)
      busy.delete(job.webhookId)
    }
    if (stopped) {
      // Left pending: the next start queues it again.
      record(job, 'pending', code, error)
      return notifyIdle()
    }
    if (error === null) {
      record(job, 'delivered', code, null)
      o.onOutcome?.('delivered')
    } else if (job.attempts >= o.maxAttempts) {
      record(job, 'failed', code, error)
      o.onOutcome?.('failed')
      log.warn(
        { webhookId: job.webhookId, deliveryId: job.deliveryId, attempts: job.attempts, error },
        'webhook delivery failed',
      )
    } else {
      record(job, 'pending', code, error)
      o.onOutcome?.('retry')
      job.dueMs = Date.now() + backoffMs(job.attempts)
      queue.push(job)
    }
    pump()
  }

  const enqueue = (job: Job) => {
    if (queue.length >= o.maxQueued) {
      try {
        o.store.recordAttempt(job.deliveryId, 'dropped', job.attempts, null, 'queue full', Date.now())
      } catch {
        // The drop is counted below either way.
      }
      o.onOutcome?.('dropped')
      log.warn({ webhookId: job.webhookId, maxQueued: o.maxQueued }, 'webhook queue full; delivery dropped')
      return
    }
    queue.push(job)
  }

  return {
    /** Queues one delivery per matching webhook (global ones and the rule's own). Never blocks. */
    dispatch(transitions: AlertTransition[]): void {
      if (stopped) return
      const nowMs = Date.now()
      for (const t of transitions) {
        const body = alertPayload(t)
        for (const hook of o.store.targets(t.alert.ruleId)) {
          const deliveryId = o.store.createDelivery(hook.id, t.alert.id, t.event, body, nowMs)
          enqueue({ deliveryId, webhookId: hook.id, body, event: t.event, attempts: 0, dueMs: nowMs })
        }
      }
      pump()
    },
    /** Queues deliveries left pending by the previous run. */
    resume(): number {
      const pending = o.store.pending()
      for (const p of pending) {
        const event = (JSON.parse(p.body) as { event?: string }).event ?? 'unknown'
        enqueue({
          deliveryId: p.id,
          webhookId: p.webhookId,
          body: p.body,
          event,
          attempts: 0,
          dueMs: Date.now(),
        })
      }
      pump()
      return pending.length
    },
    queued: () => queue.length + inFlight.size,
    /** Resolves when nothing is queued or in flight (tests, shutdown). */
    idle(): Promise<void> {
      if (queue.length === 0 && inFlight.size === 0) return Promise.resolve()
      return new Promise((resolve) => idleWaiters.push(resolve))
    },
    stop(): void {
      stopped = true
      if (timer) clearTimeout(timer)
      for (const controller of inFlight) controller.abort(new Error('shutting down'))
      queue.length = 0
    },
  }
}

export type WebhookDispatcher = ReturnType<typeof createWebhookDispatcher>
