// The live one-line summary on stderr: machines online, published, acknowledged and errors per second.

export interface SummaryCounters {
  published: number
  acknowledged: number
  errors: number
  rejectedPayloads: number
}

export interface Summary {
  readonly counters: SummaryCounters
  /** The line for the interval since the previous call. */
  line(machinesOnline: number, machinesTotal: number, nowMs: number): string
}

export function createSummary(startMs: number): Summary {
  const counters: SummaryCounters = { published: 0, acknowledged: 0, errors: 0, rejectedPayloads: 0 }
  let last = { ...counters, atMs: startMs }
  return {
    counters,
    line(machinesOnline, machinesTotal, nowMs) {
      const seconds = Math.max(nowMs - last.atMs, 1) / 1000
      const rate = (now: number, before: number) => ((now - before) / seconds).toFixed(1)
      const text =
        `sim ${Math.round((nowMs - startMs) / 1000)}s: ${machinesOnline}/${machinesTotal} machines online, ` +
        `${rate(counters.published, last.published)} published/s, ` +
        `${rate(counters.acknowledged, last.acknowledged)} acked/s, ` +
        `${rate(counters.errors, last.errors)} errors/s ` +
        `(total ${counters.published} published, ${counters.acknowledged} acked, ${counters.errors} errors, ` +
        `${counters.rejectedPayloads} malformed)`
      last = { ...counters, atMs: nowMs }
      return text
    },
  }
}
