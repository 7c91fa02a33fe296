// Composition root: opens storage, starts the writer thread, the MQTT broker and the HTTP API, and wires
// them together. `gateway/main.ts` runs it as a process; tests start it in-process on port 0.
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Logger } from 'pino'
import { createApp, type HealthReport, type HttpServer, listen } from '../api/index.ts'
import { type Broker, createBroker } from '../broker/index.ts'
import { openStorage, type Storage } from '../db/index.ts'
import { type Alerting, createAlerting } from './alerts/index.ts'
import type { ServiceConfig, TlsFiles } from './config.ts'
import { createGateway, type Gateway } from './gateway.ts'
import { MEMORY_TUNING } from './memory.ts'
import { createMetrics, type Metrics } from './metrics.ts'

export const ADMIN_TOKEN_FILE = 'admin-token'

const readTls = (files: TlsFiles | null) =>
  files ? { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) } : null

export interface Service {
  config: ServiceConfig
  httpPort: number
  mqttPort: number
  /** MQTT over WebSockets, when FACTORY_MQTT_WS_PORT is set. */
  mqttWsPort: number | null
  storage: Storage
  gateway: Gateway
  broker: Broker
  metrics: Metrics
  /** Alert notifications, webhooks and the job scheduler. */
  alerting: Alerting
  /** Set only on the very first start, when the admin token was created. */
  createdAdminToken: string | null
  stop(): Promise<void>
}

/** On first start there are no tokens: create an admin token and keep it in a file only its owner reads. */
async function ensureAdminToken(storage: Storage, dataDir: string): Promise<string | null> {
  if (storage.access.hasTokens()) return null
  const { secret } = await storage.access.createToken('admin (created at first start)', 'admin')
  const file = path.join(dataDir, ADMIN_TOKEN_FILE)
  writeFileSync(file, `${secret}\n`, { mode: 0o600 })
  return secret
}

export async function startService(config: ServiceConfig, logger: Logger): Promise<Service> {
  const startedMs = Date.now()
  const metrics = createMetrics()
  const storage = openStorage({ dataDir: config.dataDir, ...config.db })
  if (storage.appliedMigrations.length > 0) {
    logger.info({ migrations: storage.appliedMigrations, file: storage.file }, 'database migrated')
  }
  const createdAdminToken = await ensureAdminToken(storage, config.dataDir)

  const alerting = createAlerting({
    storage,
    logger: logger.child({ area: 'alerts' }),
    registry: metrics.registry,
    // Bound late: the gateway and the broker are created below, and these run only after start().
    send: (message) => gateway.alerts(message),
    publish: (topic, payload, qos) => broker.publish(topic, payload, qos),
    checkpoint: () => gateway.checkpoint('PASSIVE'),
  })

  let lastCommitMs: number | null = null
  const gateway = await createGateway({
    writer: {
      file: storage.file,
      ...config.db,
      maxReadingsPerMessage: config.ingest.maxReadingsPerMessage,
      futureToleranceMs: config.ingest.futureToleranceMs,
      backfillWindowMs: config.ingest.backfillWindowMs,
    },
    ...(config.memoryTuning ? { writerYoungGenerationMb: MEMORY_TUNING.writerYoungGenerationMb } : {}),
    maxBatchMessages: config.ingest.maxBatchMessages,
    maxBatchBytes: config.ingest.maxBatchBytes,
    logger: logger.child({ area: 'gateway' }),
    onAlertReply: (reply) => alerting.onReply(reply),
    onBatch(done, messages) {
      metrics.batchMessages.observe(messages)
      metrics.commitMs.observe(done.commitMs)
      metrics.hotReadings.set(done.hotReadings)
      metrics.writerHeapUsed.set(done.heapUsedBytes)
      alerting.onBatch(done)
      if (done.ok) {
        lastCommitMs = Date.now()
        metrics.messagesCommitted.inc(messages)
        metrics.batchReadings.observe(done.readings)
        metrics.readingsCommitted.inc(done.inserted)
        metrics.readingsDuplicate.inc(done.duplicates)
        for (const [reason, n] of Object.entries(done.rejectsByReason)) metrics.rejects.inc({ reason }, n)
      } else {
        metrics.messagesFailed.inc(messages)
      }
    },
  })
  storage.onCatalogChange((change) => {
    if (change.kind === 'sensors') gateway.reloadSensors(change.machineId)
    else gateway.forgetMachine(change.machineId)
  })

  const broker = await createBroker({
    host: config.mqtt.host,
    port: config.mqtt.port,
    wsPort: config.mqtt.wsPort,
    tls: readTls(config.mqtt.tls),
    maxPacketBytes: config.mqtt.maxPacketBytes,
    allowAnonymous: config.mqtt.allowAnonymous,
    limits: config.mqtt,
    logger: logger.child({ area: 'broker' }),
    authenticateDevice: (username, password, signal) =>
      storage.access.verifyDevice(username, password, signal),
    onTelemetry: (message) => gateway.ingest(message),
    onDeviceStatus: (machineId, status, atMs) => gateway.setMachineStatus(machineId, status, atMs),
    onRefusal(reason, detail) {
      metrics.refusals.inc({ reason })
      storage.audit.record({ source: 'mqtt', reason, ...detail, detail: detail.topic })
    },
    onThrottle: (kind) => metrics.throttled.inc({ kind }),
  })

  const health = (): HealthReport => {
    const database = { ok: storage.isHealthy(), file: storage.file }
    const writer = { ok: gateway.isWriterAlive(), queueDepth: gateway.queueDepth(), lastCommitMs }
    const brokerState = {
      ok: true,
      port: broker.port,
      connectedClients: broker.connectedClients(),
      connectedDevices: broker.connectedDevices(),
    }
    const ok = database.ok && writer.ok && brokerState.ok
    return {
      status: ok ? 'ok' : 'degraded',
      uptimeMs: Date.now() - startedMs,
      database,
      broker: brokerState,
      writer,
      eventLoop: metrics.eventLoop(),
    }
  }

  const app = createApp({
    storage,
    logger: logger.child({ area: 'api' }),
    maxBodyBytes: config.http.maxBodyBytes,
    corsOrigins: config.http.corsOrigins,
    rateLimitPerMin: config.http.rateLimitPerMin,
    health,
    alerting: alerting.api,
    metrics: () => {
      metrics.queueDepth.set(gateway.queueDepth())
      metrics.connectedDevices.set(broker.connectedDevices())
      metrics.connectedClients.set(broker.connectedClients())
      return metrics.text()
    },
  })
  const http: HttpServer = await listen(app, config.http.host, config.http.port, readTls(config.http.tls))
  logger.info({ host: config.http.host, port: http.port }, 'http api listening')

  // WAL checkpoints, stale-sensor checks and the other periodic jobs.
  alerting.start()

  let stopping: Promise<void> | null = null
  return {
    config,
    httpPort: http.port,
    mqttPort: broker.port,
    mqttWsPort: broker.wsPort,
    storage,
    gateway,
    broker,
    metrics,
    alerting,
    createdAdminToken,
    stop() {
      stopping ??= (async () => {
        await alerting.stopJobs()
        // Stop new MQTT traffic first, then let the writer finish what was already accepted.
        await broker.close()
        await gateway.close()
        alerting.close()
        await http.close()
        metrics.stop()
        storage.close()
      })()
      return stopping
    },
  }
}
