// Webhook endpoints and their delivery log.
import type { Sqlite } from './connection.ts'
import { StorageError, translateSqliteError } from './errors.ts'

export interface Webhook {
  id: number
  name: string
  url: string
  /** Null: every rule's alerts. */
  ruleId: number | null
  enabled: boolean
  createdMs: number
  updatedMs: number
}

export interface WebhookWithSecret extends Webhook {
  secret: string
}

export interface WebhookInput {
  name: string
  url: string
  ruleId?: number | null
  enabled?: boolean
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'dropped'

export interface WebhookDelivery {
  id: number
  webhookId: number
  alertId: number | null
  event: string
  status: DeliveryStatus
  attempts: number
  responseStatus: number | null
  error: string | null
  createdMs: number
  updatedMs: number
}

export interface PendingDelivery {
  id: number
  webhookId: number
  body: string
}

interface WebhookRow {
  id: number
  name: string
  url: string
  secret: string
  rule_id: number | null
  enabled: number
  created_ms: number
  updated_ms: number
}

interface DeliveryRow {
  id: number
  webhook_id: number
  alert_id: number | null
  event: string
  status: DeliveryStatus
  attempts: number
  response_status: number | null
  error: string | null
  body: string
  created_ms: number
  updated_ms: number
}

const toWebhook = (r: WebhookRow): Webhook => ({
  id: r.id,
  name: r.name,
  url: r.url,
  ruleId: r.rule_id,
  enabled: r.enabled === 1,
  createdMs: r.created_ms,
  updatedMs: r.updated_ms,
})

const toDelivery = (r: DeliveryRow): WebhookDelivery => ({
  id: r.id,
  webhookId: r.webhook_id,
  alertId: r.alert_id,
  event: r.event,
  status: r.status,
  attempts: r.attempts,
  responseStatus: r.response_status,
  error: r.error,
  createdMs: r.created_ms,
  updatedMs: r.updated_ms,
})

export function createWebhookStore(db: Sqlite) {
  const q = {
    list: db.prepare('SELECT * FROM webhooks ORDER BY id'),
    get: db.prepare('SELECT * FROM webhooks WHERE id = ?'),
    insert: db.prepare(
      `INSERT INTO webhooks (name, url, secret, rule_id, enabled, created_ms, updated_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    ),
    update: db.prepare(
      'UPDATE webhooks SET name = ?, url = ?, rule_id = ?, enabled = ?, updated_ms = ? WHERE id = ? RETURNING *',
    ),
    remove: db.prepare('DELETE FROM webhooks WHERE id = ?'),
    targets: db.prepare('SELECT * FROM webhooks WHERE enabled = 1 AND (rule_id IS NULL OR rule_id = ?)'),
    insertDelivery: db.prepare(
      `INSERT INTO webhook_deliveries (webhook_id, alert_id, event, status, body, created_ms, updated_ms)
       VALUES (?, ?, ?, 'pending', ?, ?, ?) RETURNING id`,
    ),
    attempt: db.prepare(
      `UPDATE webhook_deliveries SET status = ?, attempts = ?, response_status = ?, error = ?, updated_ms = ?
       WHERE id = ?`,
    ),
    deliveries: db.prepare(
      'SELECT * FROM webhook_deliveries WHERE webhook_id = ? AND id < ? ORDER BY id DESC LIMIT ?',
    ),
    pending: db.prepare(
      "SELECT id, webhook_id AS webhookId, body FROM webhook_deliveries WHERE status = 'pending' ORDER BY id",
    ),
  }

  const write = <T>(what: string, fn: () => T): T => {
    try {
      return fn()
    } catch (error) {
      if (error instanceof StorageError) throw error
      return translateSqliteError(error, what)
    }
  }

  return {
    list: (): Webhook[] => (q.list.all() as WebhookRow[]).map(toWebhook),
    get(id: number): Webhook | undefined {
      const row = q.get.get(id) as WebhookRow | undefined
      return row && toWebhook(row)
    },
    /** With the signing secret; for the dispatcher only. */
    getWithSecret(id: number): WebhookWithSecret | undefined {
      const row = q.get.get(id) as WebhookRow | undefined
      return row && { ...toWebhook(row), secret: row.secret }
    },
    create(input: WebhookInput, secret: string): WebhookWithSecret {
      const now = Date.now()
      const row = write(
        `webhook "${input.name}"`,
        () =>
          q.insert.get(
            input.name,
            input.url,
            secret,
            input.ruleId ?? null,
            input.enabled === false ? 0 : 1,
            now,
            now,
          ) as WebhookRow,
      )
      return { ...toWebhook(row), secret: row.secret }
    },
    update(id: number, patch: Partial<WebhookInput>): Webhook | undefined {
      const current = q.get.get(id) as WebhookRow | undefined
      if (!current) return undefined
      const row = write(
        'webhook',
        () =>
          q.update.get(
            patch.name ?? current.name,
            patch.url ?? current.url,
            patch.ruleId === undefined ? current.rule_id : patch.ruleId,
            patch.enabled === undefined ? current.enabled : patch.enabled ? 1 : 0,
            Date.now(),
            id,
          ) as WebhookRow,
      )
      return toWebhook(row)
    },
    remove: (id: number): boolean => q.remove.run(id).changes > 0,

    /** Enabled webhooks that receive a rule's alerts: global ones and the rule's own. */
    targets: (ruleId: number): WebhookWithSecret[] =>
      (q.targets.all(ruleId) as WebhookRow[]).map((r) => ({ ...toWebhook(r), secret: r.secret })),

    createDelivery(
      webhookId: number,
      alertId: number | null,
      event: string,
      body: string,
      atMs: number,
    ): number {
      return (q.insertDelivery.get(webhookId, alertId, event, body, atMs, atMs) as { id: number }).id
    },
    recordAttempt(
      id: number,
      status: DeliveryStatus,
      attempts: number,
      responseStatus: number | null,
      error: string | null,
      atMs: number,
    ): void {
      q.attempt.run(status, attempts, responseStatus, error, atMs, id)
    },
    deliveries: (webhookId: number, limit = 50, beforeId = Number.MAX_SAFE_INTEGER): WebhookDelivery[] =>
      (q.deliveries.all(webhookId, beforeId, limit) as DeliveryRow[]).map(toDelivery),
    pending: (): PendingDelivery[] => q.pending.all() as PendingDelivery[],
  }
}

export type WebhookStore = ReturnType<typeof createWebhookStore>
