// Prometheus metrics for the whole process, and the event-loop delay window shown in /health.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import client from 'prom-client'

const COMMIT_BUCKETS_MS = [0.5, 1, 2, 5, 10, 20, 50, 100, 250, 500, 1000, 5000]
const BATCH_BUCKETS = [1, 10, 50, 100, 500, 1000, 5000, 20_000, 100_000]

export interface EventLoopWindow {
  delayP99Ms: number
  delayMaxMs: number
  windowMs: number
}

/** Committed messages and readings per second over the last window. */
export interface IngestRate {
  messagesPerS: number
  readingsPerS: number
}

export interface MetricsOptions {
  eventLoopWindowMs?: number
  /** Called when a window closes, after the window gauges were updated. */
  onWindow?: (window: { eventLoop: EventLoopWindow; ingest: IngestRate }) => void
}

export function createMetrics(options: MetricsOptions = {}) {
  const registry = new client.Registry()
  client.collectDefaultMetrics({ register: registry })
  const windowMs = options.eventLoopWindowMs ?? 10_000

  const metrics = {
    registry,
    readingsCommitted: new client.Counter({
      name: 'factory_readings_committed_total',
      help: 'Readings committed (new rows)',
      registers: [registry],
    }),
    readingsDuplicate: new client.Counter({
      name: 'factory_readings_duplicate_total',
      help: 'Readings already stored (resends), not written again',
      registers: [registry],
    }),
    messagesCommitted: new client.Counter({
      name: 'factory_messages_committed_total',
      help: 'Telemetry messages committed (each released its PUBACK)',
      registers: [registry],
    }),
    messagesFailed: new client.Counter({
      name: 'factory_messages_failed_total',
      help: 'Telemetry messages whose commit failed (no PUBACK sent)',
      registers: [registry],
    }),
    rejects: new client.Counter({
      name: 'factory_rejects_total',
      help: 'Rejected readings or messages by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    refusals: new client.Counter({
      name: 'factory_mqtt_refusals_total',
      help: 'MQTT connections, publishes and subscriptions refused, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    throttled: new client.Counter({
      name: 'factory_mqtt_throttled_total',
      help: 'MQTT connections and publishes delayed by a rate limit, by kind',
      labelNames: ['kind'],
      registers: [registry],
    }),
    commitMs: new client.Histogram({
      name: 'factory_writer_commit_ms',
      help: 'Writer commit latency in milliseconds',
      buckets: COMMIT_BUCKETS_MS,
      registers: [registry],
    }),
    batchMessages: new client.Histogram({
      name: 'factory_writer_batch_messages',
      help: 'Messages per group commit',
      buckets: BATCH_BUCKETS,
      registers: [registry],
    }),
    batchReadings: new client.Histogram({
      name: 'factory_writer_batch_readings',
      help: 'Readings per group commit',
      buckets: BATCH_BUCKETS,
      registers: [registry],
    }),
    queueDepth: new client.Gauge({
      name: 'factory_writer_queue_depth',
      help: 'Messages waiting for a commit',
      registers: [registry],
    }),
    hotReadings: new client.Gauge({
      name: 'factory_storage_hot_readings',
      help: 'Readings committed in hot blocks and not yet compacted into chunks (as of the last batch)',
      registers: [registry],
    }),
    writerHeapUsed: new client.Gauge({
      name: 'factory_writer_heap_used_bytes',
      help: "The writer thread's V8 heap in use (the nodejs_* metrics are the main thread's)",
      registers: [registry],
    }),
    connectedDevices: new client.Gauge({
      name: 'factory_mqtt_connected_devices',
      help: 'Machines with at least one connected MQTT session',
      registers: [registry],
    }),
    connectedClients: new client.Gauge({
      name: 'factory_mqtt_connected_clients',
      help: 'Connected MQTT clients',
      registers: [registry],
    }),
    eventLoopDelayP99: new client.Gauge({
      name: 'factory_event_loop_delay_p99_ms',
      help: 'p99 event-loop delay of the broker thread over the last window',
      registers: [registry],
    }),
    ingestMessagesPerS: new client.Gauge({
      name: 'factory_ingest_messages_per_s',
      help: 'Telemetry messages committed per second over the last window',
      registers: [registry],
    }),
    ingestReadingsPerS: new client.Gauge({
      name: 'factory_ingest_readings_per_s',
      help: 'Readings committed (new rows) per second over the last window',
      registers: [registry],
    }),
  }

  // Rates come from the counters themselves, so every place that counts a commit is covered.
  const counterValue = async (counter: client.Counter) => (await counter.get()).values[0]?.value ?? 0
  let ingest: IngestRate = { messagesPerS: 0, readingsPerS: 0 }
  let previous = { messages: 0, readings: 0, atMs: performance.now() }
  const measureIngest = async () => {
    const now = {
      messages: await counterValue(metrics.messagesCommitted),
      readings: await counterValue(metrics.readingsCommitted),
      atMs: performance.now(),
    }
    const seconds = Math.max(1e-3, (now.atMs - previous.atMs) / 1000)
    ingest = {
      messagesPerS: (now.messages - previous.messages) / seconds,
      readingsPerS: (now.readings - previous.readings) / seconds,
    }
    previous = now
    metrics.ingestMessagesPerS.set(ingest.messagesPerS)
    metrics.ingestReadingsPerS.set(ingest.readingsPerS)
  }

  // A fixed window keeps the figure about "now" rather than the whole uptime.
  const histogram = monitorEventLoopDelay({ resolution: 5 })
  histogram.enable()
  let last: EventLoopWindow = { delayP99Ms: 0, delayMaxMs: 0, windowMs }
  const timer = setInterval(() => {
    last = {
      delayP99Ms: histogram.percentile(99) / 1e6,
      delayMaxMs: histogram.max / 1e6,
      windowMs,
    }
    metrics.eventLoopDelayP99.set(last.delayP99Ms)
    histogram.reset()
    const window = last
    void measureIngest().then(() => options.onWindow?.({ eventLoop: window, ingest }))
  }, windowMs)
  timer.unref()

  return {
    ...metrics,
    eventLoop: (): EventLoopWindow => last,
    ingestRate: (): IngestRate => ingest,
    async text(): Promise<{ contentType: string; body: string }> {
      return { contentType: registry.contentType, body: await registry.metrics() }
    },
    stop(): void {
      clearInterval(timer)
      histogram.disable()
    },
  }
}

export type Metrics = ReturnType<typeof createMetrics>
