// Crash consistency: a child process writes batches and runs compaction, merging and retention steps
// until it is killed at a random point; every acknowledged reading must then be stored exactly once.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { openConnection, openReadingWriter, openStorage, parseBucket } from '../../db/index.ts'

const T0 = Date.UTC(2024, 0, 1)
const STEP_MS = 60_000
const RAW_MS = 30 * STEP_MS
const CHILD = new URL('./crash-child.ts', import.meta.url).pathname

let dataDir = ''
afterEach(() => rmSync(dataDir, { recursive: true, force: true }))

/** Runs the child until it has printed `killAfterLines` lines, kills it, returns the last acked batch. */
async function runAndKill(file: string, sensorIds: number[], killAfterLines: number): Promise<number> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', CHILD, file, sensorIds.join(',')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = once(child, 'exit')
  let lastAck = -1
  let lines = 0
  // Writes to a pipe are synchronous on Linux: every line printed before the kill is still read here.
  for await (const line of createInterface({ input: child.stdout! })) {
    if (line.startsWith('ack ')) lastAck = Number(line.slice(4))
    if (++lines === killAfterLines) child.kill('SIGKILL')
  }
  await exited
  return lastAck
}

function check(storage: ReturnType<typeof openStorage>, sensorIds: number[], lastAck: number) {
  // The child may have committed one batch (and its maintenance) after its last line.
  const newestCutoff = T0 + (lastAck + 1) * STEP_MS + 1 - RAW_MS
  for (const id of sensorIds) {
    const stored = storage.readings.range(id, 0, T0 + 1e9, 100_000)
    const ts = stored.map((r) => r.tsMs)
    expect(new Set(ts).size).toBe(ts.length)
    for (const r of stored) {
      const k = (r.tsMs - T0) / STEP_MS
      expect(Number.isInteger(k) && k >= 0 && k <= lastAck + 1).toBe(true)
      expect(r.value).toBe(k + id / 10)
    }
    const required = []
    for (let k = 0; k <= lastAck; k++) if (T0 + k * STEP_MS >= newestCutoff) required.push(T0 + k * STEP_MS)
    expect(ts.filter((t) => t <= T0 + lastAck * STEP_MS && t >= newestCutoff)).toEqual(required)
    // Minute rollups agree with the raw readings wherever raw readings are kept.
    const fromMs = Math.ceil(newestCutoff / STEP_MS) * STEP_MS
    const query = { fromMs, toMs: T0 + (lastAck + 2) * STEP_MS, bucket: parseBucket('1m')! }
    expect(storage.readings.buckets(id, query).buckets).toEqual(
      storage.readings.buckets(id, { ...query, tier: 'raw' }).buckets,
    )
  }
}

describe('crash consistency', () => {
  it.each(fc.sample(fc.integer({ min: 20, max: 600 }), 3))(
    'keeps every acknowledged reading exactly once when killed after %i lines of work',
    async (killAfterLines) => {
      rmSync(dataDir, { recursive: true, force: true })
      dataDir = mkdtempSync(path.join(tmpdir(), 'fm-crash-'))
      let storage = openStorage({ dataDir, synchronous: 'NORMAL', busyTimeoutMs: 1000 })
      const factory = storage.catalog.createFactory({ key: 'f', name: 'F', timezone: 'UTC' })
      const machine = storage.catalog.createMachine(factory.id, { key: 'm', name: 'M' })
      const sensorIds = [0, 1, 2].map(
        (i) => storage.catalog.createSensor(machine.id, { key: `s${i}`, name: `S${i}`, resolution: 0.1 }).id,
      )
      const file = storage.file
      storage.close()

      const lastAck = await runAndKill(file, sensorIds, killAfterLines)
      expect(lastAck).toBeGreaterThanOrEqual(0)
      storage = openStorage({ dataDir, synchronous: 'NORMAL', busyTimeoutMs: 1000 })
      const raw = openConnection({ file, synchronous: 'NORMAL', busyTimeoutMs: 1000 })
      expect(raw.pragma('integrity_check', { simple: true })).toBe('ok')
      raw.close()
      check(storage, sensorIds, lastAck)

      // A new writer picks up whatever the killed one left half done, and the answers stay the same.
      const writer = openReadingWriter({ file, synchronous: 'NORMAL', busyTimeoutMs: 1000 })
      writer.compactAll(T0 + lastAck * STEP_MS)
      writer.mergeAll(T0 + lastAck * STEP_MS)
      writer.close()
      check(storage, sensorIds, lastAck)
      storage.close()
    },
  )
})
