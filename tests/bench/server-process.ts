// The server under benchmark as its own process, started the way `just run` starts it, on free ports with a
// fresh data directory; and the /proc figures the benchmarks read from it.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'

export const root = path.resolve(import.meta.dirname, '../..')

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** CPU seconds (user + system, children excluded) and resident memory of one process, from /proc. */
export function procStat(pid: number): { cpuS: number; rssMb: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    const ticks = Number(stat[11]) + Number(stat[12])
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
    return { cpuS: ticks / 100, rssMb: rssKb / 1024 }
  } catch {
    return { cpuS: 0, rssMb: 0 }
  }
}

/**
 * Node flags the server runs with (`just run`, `npm start`): the main thread's young generation capped at
 * 2 × 8 MiB semi-spaces (V8's default lets it grow to 3 × 16 MiB; only a command-line flag can cap it).
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=8']

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export interface ServerProcess {
  child: ChildProcess
  apiUrl: string
  mqttUrl: string
  dataDir: string
  /** The admin token the server wrote on first start. */
  adminToken(): string
  /** SIGTERM (SIGKILL after 15 s), then the data directory is removed. */
  stop(): Promise<void>
}

export interface ServerProcessOptions {
  /** The checkout to run (another tree to compare against; default: this one). */
  cwd?: string
  /** 'dist': compiled by `npm run build` (once per checkout), as `just run` starts it; 'source': through tsx. */
  from?: 'dist' | 'source'
  /** More flags for the server's node (added to SERVER_NODE_FLAGS and BENCH_NODE_ARGS). */
  nodeArgs?: string[]
}

const built = new Set<string>()

/** Starts the server on free ports with a fresh data directory and waits until /health answers. */
export async function startServerProcess(
  env: Record<string, string> = {},
  options: ServerProcessOptions = {},
): Promise<ServerProcess> {
  const cwd = options.cwd ?? root
  const dataDir = mkdtempSync(path.join(tmpdir(), 'fm-bench-'))
  const [httpPort, mqttPort] = [await freePort(), await freePort()]
  const apiUrl = `http://127.0.0.1:${httpPort}`
  const compiled = (options.from ?? 'dist') === 'dist' && existsSync(path.join(cwd, 'tsconfig.build.json'))
  if (compiled && !built.has(cwd)) {
    execFileSync('npm', ['run', 'build', '--silent'], { cwd, stdio: 'inherit' })
    built.add(cwd)
  }
  const entry = compiled ? ['dist/gateway/main.js'] : ['--import', 'tsx', 'gateway/main.ts']
  const logFile = process.env['BENCH_SERVER_LOG']
  // BENCH_NODE_ARGS adds flags for the server's node (e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof').
  const nodeArgs = [
    ...(process.env['BENCH_NODE_ARGS']?.split(' ').filter(Boolean) ?? []),
    ...(options.nodeArgs ?? []),
  ]
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, ...nodeArgs, ...entry], {
    cwd,
    env: {
      ...process.env,
      FACTORY_LOG_LEVEL: process.env['FACTORY_LOG_LEVEL'] ?? 'warn',
      ...env,
      FACTORY_DATA_DIR: dataDir,
      FACTORY_HTTP_PORT: String(httpPort),
      FACTORY_MQTT_PORT: String(mqttPort),
      FACTORY_HTTP_HOST: '127.0.0.1',
      FACTORY_MQTT_HOST: '127.0.0.1',
    },
    // BENCH_SERVER_LOG=<file> keeps the server's log (e.g. with FACTORY_LOG_LEVEL=debug: every batch).
    stdio: ['ignore', logFile ? openSync(logFile, 'w') : 'ignore', 'inherit'],
  })
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await Promise.race([exited, sleep(15_000).then(() => child.kill('SIGKILL'))])
    }
    rmSync(dataDir, { recursive: true, force: true })
  }
  for (let i = 0; ; i++) {
    if (child.exitCode !== null || i > 300) {
      await stop()
      throw new Error('the server did not become healthy')
    }
    try {
      if ((await fetch(`${apiUrl}/health`)).ok) break
    } catch {
      // not listening yet
    }
    await sleep(100)
  }
  return {
    child,
    apiUrl,
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    dataDir,
    adminToken: () => readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim(),
    stop,
  }
}
