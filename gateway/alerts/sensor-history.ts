// Recent readings of one sensor, kept in the writer thread for rate-of-change and anomaly conditions.
// Held in memory only: after a start the window refills from live readings.

/** How much history a sensor's rules need: the last `count` readings and everything within `ageMs`. */
export interface HistoryNeeds {
  count: number
  ageMs: number
}

// A runaway device cannot grow one sensor's window without bound.
const MAX_ENTRIES = 100_000

export class SensorHistory {
  private ts: number[] = []
  private values: number[] = []
  private head = 0

  constructor(public needs: HistoryNeeds) {}

  get length(): number {
    return this.ts.length - this.head
  }

  newestTsMs(): number | undefined {
    return this.length > 0 ? this.ts[this.ts.length - 1] : undefined
  }

  /** Appends a reading newer than the newest kept one; older readings are ignored. */
  push(tsMs: number, value: number): boolean {
    const newest = this.newestTsMs()
    if (newest !== undefined && tsMs <= newest) return false
    this.ts.push(tsMs)
    this.values.push(value)
    this.trim()
    return true
  }

  private trim(): void {
    const newest = this.ts[this.ts.length - 1]!
    const end = this.ts.length
    while (
      end - this.head > MAX_ENTRIES ||
      (end - this.head > this.needs.count && this.ts[this.head]! < newest - this.needs.ageMs)
    ) {
      this.head++
    }
    // Compact now and then so the arrays do not grow with the dropped prefix.
    if (this.head > 1024 && this.head * 2 > end) {
      this.ts = this.ts.slice(this.head)
      this.values = this.values.slice(this.head)
      this.head = 0
    }
  }

  /** The oldest kept reading at or after `fromMs`, or undefined. */
  oldestSince(fromMs: number): { tsMs: number; value: number } | undefined {
    let lo = this.head
    let hi = this.ts.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.ts[mid]! < fromMs) lo = mid + 1
      else hi = mid
    }
    return lo < this.ts.length ? { tsMs: this.ts[lo]!, value: this.values[lo]! } : undefined
  }

  /** The newest `count` readings as columns, oldest first. */
  tail(count: number): { tsMs: Float64Array; values: Float64Array } {
    const start = Math.max(this.head, this.ts.length - count)
    return {
      tsMs: Float64Array.from(this.ts.slice(start)),
      values: Float64Array.from(this.values.slice(start)),
    }
  }
}
