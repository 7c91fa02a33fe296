// The main thread's handle on the writer's alert engine: request/reply over the writer channel.
import type { AlertTransition } from '../../db/index.ts'
import type { AlertReply, AlertRequest } from '../writer-protocol.ts'

/** Codes the API maps to answers: ALERT_NOT_FOUND, ALERT_STATE_CONFLICT, or a storage/writer failure. */
export class AlertControlError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'AlertControlError'
  }
}

type Body<T> = T extends unknown ? Omit<T, 'id'> : never

export interface AlertControlOptions {
  send(message: AlertRequest): void
  clock?: () => number
}

export function createAlertControl(options: AlertControlOptions) {
  const clock = options.clock ?? Date.now
  const waiting = new Map<number, (reply: AlertReply) => void>()
  let nextId = 1

  const request = (body: Body<AlertRequest>): Promise<AlertReply> =>
    new Promise((resolve) => {
      const id = nextId++
      waiting.set(id, resolve)
      options.send({ ...body, id } as AlertRequest)
    })

  const act = async (
    action: 'acknowledge' | 'clear',
    alertId: number,
    actor: string,
    comment: string | null,
  ): Promise<AlertTransition[]> => {
    const reply = await request({ type: 'alert-action', action, alertId, actor, comment, nowMs: clock() })
    if (reply.error) throw new AlertControlError(reply.error.code, reply.error.message)
    return reply.transitions
  }

  return {
    /** Feed every `alerts-done` message from the writer here. */
    handle(reply: AlertReply): void {
      const resolve = waiting.get(reply.id)
      waiting.delete(reply.id)
      resolve?.(reply)
    },
    acknowledge: (alertId: number, actor: string, comment: string | null) =>
      act('acknowledge', alertId, actor, comment),
    clear: (alertId: number, actor: string, comment: string | null) => act('clear', alertId, actor, comment),
    /** Deletes what the retention settings no longer keep, in steps; resolves with the rows touched. */
    async retention(nowMs = clock()): Promise<number> {
      const reply = await request({ type: 'retention', nowMs })
      if (reply.error) throw new AlertControlError(reply.error.code, reply.error.message)
      return reply.rowsTouched
    },
    /** Runs the time-based rules (stale data, for-duration expiry) as of `nowMs`. */
    async tick(nowMs = clock()): Promise<{ transitions: AlertTransition[]; rowsTouched: number }> {
      const reply = await request({ type: 'alerts-tick', nowMs })
      if (reply.error) throw new AlertControlError(reply.error.code, reply.error.message)
      return { transitions: reply.transitions, rowsTouched: reply.rowsTouched }
    },
  }
}

export type AlertControl = ReturnType<typeof createAlertControl>
