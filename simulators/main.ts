// `just simulate`: provisions a demo factory through the API (or reads a credentials file), then runs
// every machine as its own MQTT device with a live summary on stderr until the duration or Ctrl-C.
import { readFileSync } from 'node:fs'
import { readCredentialsFile, writeCredentialsFile } from './credentials-file.ts'
import { OptionsError, parseOptions, type SimulatorOptions, USAGE } from './options.ts'
import { ApiRequestError, createApiClient, provisionDemo } from './provisioning.ts'
import { runSimulation } from './runner.ts'

async function devicesFor(options: Readonly<SimulatorOptions>) {
  if (options.credentialsFile) return readCredentialsFile(options.credentialsFile).devices
  let token = options.token
  if (!token) {
    try {
      token = readFileSync(options.tokenFile, 'utf8').trim()
    } catch {
      throw new Error(`no API token: pass --token or --token-file (cannot read ${options.tokenFile})`)
    }
  }
  const api = createApiClient({ baseUrl: options.apiUrl, token })
  const file = await provisionDemo({
    api,
    apiUrl: options.apiUrl,
    mqttUrl: options.mqttUrl,
    factories: options.factories,
    machinesPerFactory: options.machinesPerFactory,
    sensorsPerMachine: options.sensorsPerMachine,
    factoryPrefix: options.factoryPrefix,
    ...(options.intervalMs === undefined ? {} : { intervalOverrideMs: options.intervalMs }),
  })
  if (options.writeCredentialsFile) writeCredentialsFile(options.writeCredentialsFile, file)
  return file.devices
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2)
  if (argv.includes('--help')) {
    process.stdout.write(`${USAGE}\n`)
    return
  }
  let options: Readonly<SimulatorOptions>
  try {
    options = parseOptions(argv, process.env)
  } catch (error) {
    process.stderr.write(`${error instanceof OptionsError ? error.message : String(error)}\n\n${USAGE}\n`)
    process.exit(2)
  }
  const devices = await devicesFor(options)
  process.stderr.write(`simulating ${devices.length} machines on ${options.mqttUrl} (seed ${options.seed})\n`)
  const simulation = await runSimulation({
    mqttUrl: options.mqttUrl,
    devices,
    qos: options.qos,
    seed: options.seed,
    startMs: options.startMs ?? Date.now(),
    faults: options.faults,
    randomFaultsPerHour: options.randomFaultsPerHour,
    malformedRate: options.malformedRate,
    durationMs: options.durationMs,
    ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
  })
  const tty = process.stderr.isTTY === true
  const ticker = options.quiet
    ? undefined
    : setInterval(() => {
        const line = simulation.summary.line(simulation.machinesOnline(), devices.length, Date.now())
        // On a terminal the line rewrites itself; in a log each summary is its own line.
        process.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`)
      }, options.summaryIntervalMs)
  process.once('SIGINT', () => void simulation.stop())
  process.once('SIGTERM', () => void simulation.stop())
  await simulation.done
  if (ticker) clearInterval(ticker)
  const { counters } = simulation.summary
  process.stderr.write(
    `${tty ? '\n' : ''}done: ${counters.published} published, ${counters.acknowledged} acked, ${counters.errors} errors, ${counters.rejectedPayloads} malformed\n`,
  )
}

main().catch((error: unknown) => {
  const message = error instanceof ApiRequestError ? `${error.code}: ${error.message}` : String(error)
  process.stderr.write(`simulator failed: ${message}\n`)
  process.exit(1)
})
