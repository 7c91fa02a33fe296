// `just run`: starts factory-monitor (broker, gateway, API) as one process until SIGINT/SIGTERM.
import pino from 'pino'
import { ConfigError, parseConfig } from './config.ts'
import { applyMemoryTuning } from './memory.ts'
import { ADMIN_TOKEN_FILE, startService } from './service.ts'
import { LOWER_AGAIN_MS, lowerOtherThreads } from './thread-priority.ts'

const SHUTDOWN_DEADLINE_MS = 10_000

async function main(): Promise<void> {
  let config: ReturnType<typeof parseConfig>
  try {
    config = parseConfig(process.env)
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`factory-monitor: ${error.message}\n(see docs/config.md)\n`)
      process.exit(2)
    }
    throw error
  }
  const tuned = config.memoryTuning ? applyMemoryTuning() : null
  const logger = pino({ level: config.logLevel, base: { service: 'factory-monitor' } })
  if (tuned) logger.debug(tuned, 'memory tuning applied')
  const service = await startService(config, logger)
  logger.debug({ threads: lowerOtherThreads() }, 'threads other than the broker lowered in priority')
  setInterval(lowerOtherThreads, LOWER_AGAIN_MS).unref()
  if (service.createdAdminToken) {
    // Printed once on the terminal, never through the logger; it is also saved for scripts.
    process.stderr.write(
      `\nAdmin API token (shown once, also saved to ${config.dataDir}/${ADMIN_TOKEN_FILE}):\n  ${service.createdAdminToken}\n\n`,
    )
  }
  logger.info(
    { http: service.httpPort, mqtt: service.mqttPort, dataDir: config.dataDir, docs: `/docs` },
    'factory-monitor started',
  )

  let signalled = false
  const shutdown = (signal: string) => {
    if (signalled) return
    signalled = true
    logger.info({ signal }, 'shutting down: finishing in-flight commits')
    const deadline = setTimeout(() => {
      logger.error({ deadlineMs: SHUTDOWN_DEADLINE_MS }, 'shutdown took too long; exiting')
      process.exit(1)
    }, SHUTDOWN_DEADLINE_MS)
    deadline.unref()
    service.stop().then(
      () => {
        logger.info('stopped cleanly')
        process.exit(0)
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
}

main().catch((error: unknown) => {
  process.stderr.write(
    `factory-monitor failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
  )
  process.exit(1)
})
