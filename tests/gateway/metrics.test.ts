// The window gauges: ingest rates derived from the commit counters, shown in /metrics text.
import { afterEach, describe, expect, it } from 'vitest'
import { createMetrics, type IngestRate, type Metrics } from '../../gateway/metrics.ts'

let metrics: Metrics | null = null
afterEach(() => metrics?.stop())

/** Starts metrics with a short window and resolves with each window's ingest rate as it closes. */
function withWindows(windowMs: number) {
  const waiting: ((rate: IngestRate) => void)[] = []
  metrics = createMetrics({
    eventLoopWindowMs: windowMs,
    onWindow: ({ ingest }) => waiting.shift()?.(ingest),
  })
  return { metrics, nextWindow: () => new Promise<IngestRate>((resolve) => waiting.push(resolve)) }
}

describe('ingest rate gauges', () => {
  it('report what was committed in the window, per second, and zero once commits stop', async () => {
    const { metrics, nextWindow } = withWindows(50)
    await nextWindow()
    metrics.messagesCommitted.inc(10)
    metrics.readingsCommitted.inc(200)
    const busy = await nextWindow()
    // The window is timer-driven, so its length is only known to be positive; the ratio is exact.
    expect(busy.messagesPerS).toBeGreaterThan(0)
    expect(busy.readingsPerS / busy.messagesPerS).toBeCloseTo(20, 9)
    expect(metrics.ingestRate()).toEqual(busy)

    const text = (await metrics.text()).body
    expect(text).toContain(`factory_ingest_messages_per_s ${busy.messagesPerS}`)
    expect(text).toContain(`factory_ingest_readings_per_s ${busy.readingsPerS}`)

    expect(await nextWindow()).toEqual({ messagesPerS: 0, readingsPerS: 0 })
  })
})
