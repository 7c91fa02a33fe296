// The time source the scheduler runs on; tests pass a manual clock instead of waiting.

export interface Clock {
  now(): number
  setTimeout(fn: () => void, delayMs: number): unknown
  clearTimeout(handle: unknown): void
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, delayMs) {
    // Timers must not keep the process alive on shutdown.
    const handle = setTimeout(fn, delayMs)
    handle.unref()
    return handle
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
}
