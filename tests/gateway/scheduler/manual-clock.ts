// A clock that moves only when a test advances it, firing due timers in time order.
import type { Clock } from '../../../gateway/scheduler/index.ts'

export interface ManualClock extends Clock {
  /** Moves time forward, firing every timer due on the way; awaits microtasks between timers. */
  advance(ms: number): Promise<void>
  pendingTimers(): number
}

export function createManualClock(startMs: number): ManualClock {
  let nowMs = startMs
  let nextId = 1
  const timers = new Map<number, { atMs: number; fn: () => void }>()
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve))
  return {
    now: () => nowMs,
    setTimeout(fn, delayMs) {
      const id = nextId++
      timers.set(id, { atMs: nowMs + delayMs, fn })
      return id
    },
    clearTimeout: (handle) => void timers.delete(handle as number),
    async advance(ms) {
      const target = nowMs + ms
      await settle()
      for (;;) {
        let due: [number, { atMs: number; fn: () => void }] | undefined
        for (const entry of timers)
          if (entry[1].atMs <= target && (!due || entry[1].atMs < due[1].atMs)) due = entry
        if (!due) break
        timers.delete(due[0])
        nowMs = Math.max(nowMs, due[1].atMs)
        due[1].fn()
        await settle()
      }
      nowMs = target
      await settle()
    },
    pendingTimers: () => timers.size,
  }
}
