// Simulator options from flags and FACTORY_SIM_* variables (flags win), validated once, every
// problem reported together, then frozen.
import { parseArgs } from 'node:util'
import { type Fault, parseFaultSpec } from './faults.ts'

export interface SimulatorOptions {
  apiUrl: string
  mqttUrl: string
  token?: string
  tokenFile: string
  /** Use the devices of this credentials file instead of provisioning. */
  credentialsFile?: string
  /** Save the provisioned devices to this file. */
  writeCredentialsFile?: string
  factories: number
  machinesPerFactory: number
  sensorsPerMachine: number
  factoryPrefix: string
  /** Overrides every sensor's interval. */
  intervalMs?: number
  /** 0 = until interrupted. */
  durationMs: number
  qos: 0 | 1
  seed: string
  /** Timeline start (epoch ms); fixed for reproducible readings. Default: now. */
  startMs?: number
  faults: Fault[]
  randomFaultsPerHour: number
  malformedRate: number
  summaryIntervalMs: number
  quiet: boolean
}

export class OptionsError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid simulator options:\n  ${problems.join('\n  ')}`)
    this.name = 'OptionsError'
  }
}

export const USAGE = `Usage: node --import tsx simulators/main.ts [options]
  --api-url URL            HTTP API (FACTORY_SIM_API_URL, default http://127.0.0.1:3000)
  --mqtt-url URL           MQTT broker (FACTORY_SIM_MQTT_URL, default mqtt://127.0.0.1:1883)
  --token TOKEN            API token (FACTORY_SIM_TOKEN)
  --token-file PATH        file holding the API token (FACTORY_SIM_TOKEN_FILE, default data/admin-token)
  --credentials PATH       use the devices of this credentials file, provision nothing (FACTORY_SIM_CREDENTIALS)
  --write-credentials PATH save the provisioned devices (FACTORY_SIM_WRITE_CREDENTIALS)
  --factories N            factories to provision (FACTORY_SIM_FACTORIES, default 1)
  --machines N             machines per factory (FACTORY_SIM_MACHINES, default 3)
  --sensors N              sensors per machine (FACTORY_SIM_SENSORS, default 5)
  --factory-prefix KEY     factory keys are KEY-1, KEY-2, ... (FACTORY_SIM_FACTORY_PREFIX, default demo)
  --interval-ms MS         override every sensor's interval (FACTORY_SIM_INTERVAL_MS)
  --duration-s S           stop after S seconds, 0 = run until Ctrl-C (FACTORY_SIM_DURATION_S, default 0)
  --qos 0|1                (FACTORY_SIM_QOS, default 1)
  --seed SEED              same seed and start, same readings (FACTORY_SIM_SEED, default 1)
  --start-ms MS            timeline start in epoch ms (FACTORY_SIM_START_MS, default now)
  --fault SPEC             kind@startS[+durationS][/machine[/sensor]], repeatable or comma-separated;
                           kinds: spike, stuck, drift, dropout, offline (FACTORY_SIM_FAULTS)
  --fault-rate N           random faults per machine per hour (FACTORY_SIM_FAULT_RATE, default 0)
  --malformed-rate R       fraction of messages sent malformed, 0..1 (FACTORY_SIM_MALFORMED_RATE, default 0)
  --summary-interval-ms MS live summary period (FACTORY_SIM_SUMMARY_INTERVAL_MS, default 1000)
  --quiet                  no live summary
  --help`

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Readonly<SimulatorOptions> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      'api-url': { type: 'string' },
      'mqtt-url': { type: 'string' },
      token: { type: 'string' },
      'token-file': { type: 'string' },
      credentials: { type: 'string' },
      'write-credentials': { type: 'string' },
      factories: { type: 'string' },
      machines: { type: 'string' },
      sensors: { type: 'string' },
      'factory-prefix': { type: 'string' },
      'interval-ms': { type: 'string' },
      'duration-s': { type: 'string' },
      qos: { type: 'string' },
      seed: { type: 'string' },
      'start-ms': { type: 'string' },
      fault: { type: 'string', multiple: true },
      'fault-rate': { type: 'string' },
      'malformed-rate': { type: 'string' },
      'summary-interval-ms': { type: 'string' },
      quiet: { type: 'boolean' },
    },
  })
  const problems: string[] = []
  const pick = (flag: string, variable: string): string | undefined =>
    (values[flag as keyof typeof values] as string | undefined) ?? env[variable]
  const number = (
    flag: string,
    variable: string,
    fallback: number | undefined,
    check: (n: number) => boolean,
    rule: string,
  ) => {
    const raw = pick(flag, variable)
    if (raw === undefined || raw === '') return fallback
    const n = Number(raw)
    if (!Number.isFinite(n) || !check(n)) {
      problems.push(`--${flag} (${variable}) must be ${rule}, got "${raw}"`)
      return fallback
    }
    return n
  }
  const positiveInt = (n: number) => Number.isInteger(n) && n >= 1

  const faults: Fault[] = []
  const faultSpecs = [
    ...((values.fault as string[] | undefined) ?? []),
    ...(values.fault ? [] : [env.FACTORY_SIM_FAULTS ?? '']),
  ]
  for (const spec of faultSpecs.flatMap((s) => s.split(',')).filter((s) => s.trim() !== '')) {
    const parsed = parseFaultSpec(spec)
    if (typeof parsed === 'string') problems.push(`--fault (FACTORY_SIM_FAULTS): ${parsed}`)
    else faults.push(parsed)
  }
  const qos = number('qos', 'FACTORY_SIM_QOS', 1, (n) => n === 0 || n === 1, '0 or 1')
  const prefix = pick('factory-prefix', 'FACTORY_SIM_FACTORY_PREFIX') ?? 'demo'
  if (!/^[a-z0-9][a-z0-9_-]{0,60}$/.test(prefix)) {
    problems.push(
      `--factory-prefix (FACTORY_SIM_FACTORY_PREFIX) must match ^[a-z0-9][a-z0-9_-]{0,60}$, got "${prefix}"`,
    )
  }
  const options: SimulatorOptions = {
    apiUrl: pick('api-url', 'FACTORY_SIM_API_URL') ?? 'http://127.0.0.1:3000',
    mqttUrl: pick('mqtt-url', 'FACTORY_SIM_MQTT_URL') ?? 'mqtt://127.0.0.1:1883',
    tokenFile: pick('token-file', 'FACTORY_SIM_TOKEN_FILE') ?? 'data/admin-token',
    factories: number('factories', 'FACTORY_SIM_FACTORIES', 1, positiveInt, 'a whole number ≥ 1')!,
    machinesPerFactory: number('machines', 'FACTORY_SIM_MACHINES', 3, positiveInt, 'a whole number ≥ 1')!,
    sensorsPerMachine: number('sensors', 'FACTORY_SIM_SENSORS', 5, positiveInt, 'a whole number ≥ 1')!,
    factoryPrefix: prefix,
    durationMs:
      number('duration-s', 'FACTORY_SIM_DURATION_S', 0, (n) => n >= 0, 'zero or more seconds')! * 1000,
    qos: qos === 0 ? 0 : 1,
    seed: pick('seed', 'FACTORY_SIM_SEED') ?? '1',
    faults,
    randomFaultsPerHour: number('fault-rate', 'FACTORY_SIM_FAULT_RATE', 0, (n) => n >= 0, 'zero or more')!,
    malformedRate: number(
      'malformed-rate',
      'FACTORY_SIM_MALFORMED_RATE',
      0,
      (n) => n >= 0 && n <= 1,
      'between 0 and 1',
    )!,
    summaryIntervalMs: number(
      'summary-interval-ms',
      'FACTORY_SIM_SUMMARY_INTERVAL_MS',
      1000,
      (n) => n >= 100,
      '≥ 100',
    )!,
    quiet: values.quiet === true,
  }
  const token = pick('token', 'FACTORY_SIM_TOKEN')
  if (token) options.token = token
  const credentials = pick('credentials', 'FACTORY_SIM_CREDENTIALS')
  if (credentials) options.credentialsFile = credentials
  const write = pick('write-credentials', 'FACTORY_SIM_WRITE_CREDENTIALS')
  if (write) options.writeCredentialsFile = write
  if (credentials && write) problems.push('--credentials and --write-credentials cannot be used together')
  const intervalMs = number(
    'interval-ms',
    'FACTORY_SIM_INTERVAL_MS',
    undefined,
    (n) => Number.isInteger(n) && n >= 10,
    'a whole number ≥ 10',
  )
  if (intervalMs !== undefined) options.intervalMs = intervalMs
  const startMs = number(
    'start-ms',
    'FACTORY_SIM_START_MS',
    undefined,
    (n) => Number.isInteger(n) && n >= 0,
    'epoch milliseconds',
  )
  if (startMs !== undefined) options.startMs = startMs
  if (problems.length > 0) throw new OptionsError(problems)
  return Object.freeze(options)
}
