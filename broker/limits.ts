// Rate limits the broker holds clients to: token buckets that first throttle (delay) and then refuse.

export interface RateLimiterOptions {
  /** Sustained rate; 0 turns the limiter off. */
  ratePerS: number
  /** Requests allowed at once after a quiet period. */
  burst: number
  /** The longest a request may be delayed before it is refused instead. */
  throttleMaxMs: number
  /** Buckets kept before full (idle) ones are swept, so many distinct keys cannot grow memory. */
  maxKeys?: number
}

/** `go`: proceed now; `wait`: proceed after `waitMs`; `refuse`: over the limit even after throttling. */
export type RateDecision = { kind: 'go' } | { kind: 'wait'; waitMs: number } | { kind: 'refuse' }

interface Bucket {
  tokens: number
  atMs: number
}

const GO: RateDecision = { kind: 'go' }
const REFUSE: RateDecision = { kind: 'refuse' }

/**
 * A token bucket per key. A request takes one token; when none is left it may run into debt, and is
 * delayed until that debt would have been repaid. Debt beyond `throttleMaxMs` worth of tokens is refused.
 */
export function createRateLimiter<K>(options: RateLimiterOptions) {
  const buckets = new Map<K, Bucket>()
  const perMs = options.ratePerS / 1000
  const maxKeys = options.maxKeys ?? 100_000

  const refill = (bucket: Bucket, nowMs: number) => {
    bucket.tokens = Math.min(options.burst, bucket.tokens + (nowMs - bucket.atMs) * perMs)
    bucket.atMs = nowMs
  }

  const sweep = (nowMs: number) => {
    for (const [key, bucket] of buckets) {
      refill(bucket, nowMs)
      if (bucket.tokens >= options.burst) buckets.delete(key)
    }
  }

  return {
    enabled: options.ratePerS > 0,
    take(key: K, nowMs = Date.now()): RateDecision {
      if (perMs <= 0) return GO
      let bucket = buckets.get(key)
      if (!bucket) {
        if (buckets.size >= maxKeys) sweep(nowMs)
        bucket = { tokens: options.burst, atMs: nowMs }
        buckets.set(key, bucket)
      } else refill(bucket, nowMs)
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1
        return GO
      }
      const waitMs = Math.ceil((1 - bucket.tokens) / perMs)
      if (waitMs > options.throttleMaxMs) return REFUSE
      bucket.tokens -= 1
      return { kind: 'wait', waitMs }
    },
    size: () => buckets.size,
  }
}

export type RateLimiter<K> = ReturnType<typeof createRateLimiter<K>>

/**
 * At most `maxPerKey` tasks per key run at once; the others wait, in arrival order, until one releases
 * its slot. 0 turns the cap off. A task must call `release` exactly once (further calls are ignored).
 */
export function createConcurrencyCap<K>(maxPerKey: number) {
  interface Slots {
    active: number
    waiting: (() => void)[]
  }
  const slots = new Map<K, Slots>()
  /** Gives back one slot of `key`: the next waiting task starts in it. */
  const give = (key: K): void => {
    if (maxPerKey <= 0) return
    const slot = slots.get(key)
    if (!slot) return
    slot.active--
    const next = slot.waiting.shift()
    if (next) next()
    else if (slot.active === 0) slots.delete(key)
  }
  const slotOf = (key: K): Slots => {
    let slot = slots.get(key)
    if (!slot) {
      slot = { active: 0, waiting: [] }
      slots.set(key, slot)
    }
    return slot
  }
  return {
    run(key: K, task: (release: () => void) => void): void {
      if (maxPerKey <= 0) {
        task(() => {})
        return
      }
      const slot = slotOf(key)
      const start = () => {
        slot.active++
        let released = false
        task(() => {
          if (released) return
          released = true
          give(key)
        })
      }
      if (slot.active < maxPerKey) start()
      else slot.waiting.push(start)
    },
    /**
     * Takes a slot at once if one is free (then nobody is waiting either), with no task or closure; the
     * caller gives it back with `give` exactly once. False: the cap is full, use `run` to wait in line.
     */
    tryTake(key: K): boolean {
      if (maxPerKey <= 0) return true
      const slot = slotOf(key)
      if (slot.active >= maxPerKey) return false
      slot.active++
      return true
    },
    give,
  }
}

export interface TopicLimits {
  maxTopicLevels: number
  maxTopicBytes: number
}

export type TopicLimitDenial = 'MQTT_TOPIC_TOO_LONG' | 'MQTT_TOPIC_TOO_DEEP'

/** Checked before any other topic work, so a hostile topic costs one pass over its bytes. */
export function checkTopicLimits(topic: string, limits: TopicLimits): TopicLimitDenial | null {
  // UTF-8 is at most 3 bytes per UTF-16 unit; skip the exact count when the string is clearly short.
  if (topic.length * 3 > limits.maxTopicBytes && Buffer.byteLength(topic) > limits.maxTopicBytes) {
    return 'MQTT_TOPIC_TOO_LONG'
  }
  let levels = 1
  for (let i = 0; i < topic.length; i++) {
    if (topic.charCodeAt(i) === 47 /* '/' */ && ++levels > limits.maxTopicLevels) return 'MQTT_TOPIC_TOO_DEEP'
  }
  return null
}
