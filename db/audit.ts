// The audit log of refusals: events are summed in memory per window and written as one row per distinct
// (source, reason, client, address, detail) with a count, so a flood adds a bounded number of rows.
import type { Sqlite } from './connection.ts'

export type AuditSource = 'mqtt' | 'http'

export interface AuditEventInput {
  source: AuditSource
  reason: string
  clientId?: string | undefined
  username?: string | undefined
  remoteAddress?: string | undefined
  detail?: string | undefined
}

export interface AuditEvent {
  id: number
  firstMs: number
  lastMs: number
  source: AuditSource
  reason: string
  clientId: string | null
  username: string | null
  remoteAddress: string | null
  detail: string | null
  count: number
}

export interface AuditFilter {
  source?: AuditSource | undefined
  reason?: string | undefined
  sinceMs?: number | undefined
  limit: number
}

export interface AuditOptions {
  /** How often pending events are written. */
  flushIntervalMs?: number
  /** Distinct rows per window; further events fold into one row per source and reason. */
  maxKeysPerWindow?: number
  /** Oldest rows beyond this many are deleted. */
  maxRows?: number
}

interface Pending {
  input: AuditEventInput
  firstMs: number
  lastMs: number
  count: number
}

interface AuditRow {
  id: number
  first_ms: number
  last_ms: number
  source: AuditSource
  reason: string
  client_id: string | null
  username: string | null
  remote_address: string | null
  detail: string | null
  count: number
}

// Client ids and topics come from the network; a hostile one must not bloat a row.
const MAX_FIELD_CHARS = 200
const OVERFLOW_DETAIL = '(more distinct clients in this window; summed here)'

const clip = (s: string | undefined): string | null =>
  s === undefined || s === '' ? null : s.slice(0, MAX_FIELD_CHARS)

const toEvent = (r: AuditRow): AuditEvent => ({
  id: r.id,
  firstMs: r.first_ms,
  lastMs: r.last_ms,
  source: r.source,
  reason: r.reason,
  clientId: r.client_id,
  username: r.username,
  remoteAddress: r.remote_address,
  detail: r.detail,
  count: r.count,
})

export function createAudit(db: Sqlite, options: AuditOptions = {}) {
  const maxKeys = options.maxKeysPerWindow ?? 1000
  const maxRows = options.maxRows ?? 100_000
  let pending = new Map<string, Pending>()
  const q = {
    insert: db.prepare(
      `INSERT INTO audit_events (first_ms, last_ms, source, reason, client_id, username, remote_address,
       detail, count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    prune: db.prepare('DELETE FROM audit_events WHERE id <= (SELECT max(id) FROM audit_events) - ?'),
    list: db.prepare(
      `SELECT * FROM audit_events WHERE (@source IS NULL OR source = @source)
       AND (@reason IS NULL OR reason = @reason) AND (@sinceMs IS NULL OR last_ms >= @sinceMs)
       ORDER BY id DESC LIMIT @limit`,
    ),
  }
  const writeAll = db.transaction((rows: Pending[]) => {
    for (const p of rows) {
      const e = p.input
      q.insert.run(
        p.firstMs,
        p.lastMs,
        e.source,
        e.reason,
        clip(e.clientId),
        clip(e.username),
        clip(e.remoteAddress),
        clip(e.detail),
        p.count,
      )
    }
    q.prune.run(maxRows)
  })

  const flush = (): void => {
    if (pending.size === 0) return
    const rows = [...pending.values()]
    pending = new Map()
    try {
      writeAll(rows)
    } catch {
      // The audit trail must never take the broker down; a failed window is also visible in the metrics.
    }
  }

  const timer = setInterval(flush, options.flushIntervalMs ?? 1000)
  timer.unref()

  return {
    record(input: AuditEventInput, atMs = Date.now()): void {
      let key = [
        input.source,
        input.reason,
        input.clientId,
        input.username,
        input.remoteAddress,
        input.detail,
      ]
        .map((s) => clip(s ?? undefined) ?? '')
        .join('\u0000')
      let event = input
      if (!pending.has(key) && pending.size >= maxKeys) {
        key = `${input.source}\u0000${input.reason}\u0000overflow`
        event = { source: input.source, reason: input.reason, detail: OVERFLOW_DETAIL }
      }
      const entry = pending.get(key)
      if (entry) {
        entry.count++
        entry.lastMs = atMs
      } else pending.set(key, { input: event, firstMs: atMs, lastMs: atMs, count: 1 })
    },
    /** Newest first; pending events are written first so a read sees everything recorded so far. */
    list(filter: AuditFilter): AuditEvent[] {
      flush()
      return (
        q.list.all({
          source: filter.source ?? null,
          reason: filter.reason ?? null,
          sinceMs: filter.sinceMs ?? null,
          limit: filter.limit,
        }) as AuditRow[]
      ).map(toEvent)
    },
    flush,
    close(): void {
      clearInterval(timer)
      flush()
    },
  }
}

export type Audit = ReturnType<typeof createAudit>
