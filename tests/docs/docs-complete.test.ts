// Fails when an error code, a configuration variable or a metric exists in code but is missing from the docs.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { API_ERRORS } from '../../api/errors.ts'
import { REFUSAL_REASONS } from '../../broker/index.ts'
import { compute } from '../../crates/factory_compute/binding.ts'
import { STORAGE_ERROR_CODES } from '../../db/index.ts'
import { INGEST_ERROR_CODES } from '../../gateway/index.ts'

const root = path.resolve(import.meta.dirname, '../..')
const read = (file: string) => readFileSync(path.join(root, file), 'utf8')
const documented = (doc: string) => new Set([...doc.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]))

function sourceFiles(dir: string): string[] {
  if (!existsSync(path.join(root, dir))) return []
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(path.join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [path.join(dir, entry.name)]
        : [],
  )
}

describe('docs/errors.md', () => {
  const codes = documented(read('docs/errors.md'))
  const missing = (all: readonly string[]) => all.filter((c) => !codes.has(c))

  it('lists every HTTP API error code', () => {
    expect(missing(Object.keys(API_ERRORS))).toEqual([])
  })
  it('lists every telemetry reject reason declared by the validator', () => {
    expect(missing(compute.rejectCodes().filter((c) => c !== 'OK'))).toEqual([])
  })
  it('lists every MQTT refusal, ingest and storage code', () => {
    expect(missing([...REFUSAL_REASONS, ...Object.keys(INGEST_ERROR_CODES), ...STORAGE_ERROR_CODES])).toEqual(
      [],
    )
  })
})

describe('docs/config.md', () => {
  it('documents every FACTORY_* variable the code reads (simulator variables in docs/simulators.md)', () => {
    const used = new Set(
      ['gateway', 'broker', 'api', 'db', 'simulators'].flatMap((dir) =>
        sourceFiles(dir).flatMap((file) =>
          [...read(file).matchAll(/['`](FACTORY_[A-Z0-9_]+)['`]/g)].map((m) => m[1]!),
        ),
      ),
    )
    const doc = new Set([...documented(read('docs/config.md')), ...documented(read('docs/simulators.md'))])
    expect([...used].filter((name) => !doc.has(name)).sort()).toEqual([])
  })
})

describe('docs/metrics.md', () => {
  it('documents every factory_* metric the code registers (alert and job metrics in docs/alerts.md)', () => {
    const registered = new Set(
      ['gateway', 'broker', 'api', 'db'].flatMap((dir) =>
        sourceFiles(dir).flatMap((file) =>
          [...read(file).matchAll(/name: '(factory_[a-z0-9_]+)'/g)].map((m) => m[1]!),
        ),
      ),
    )
    const names = (doc: string) => [...doc.matchAll(/`(factory_[a-z0-9_]+)[`{]/g)].map((m) => m[1])
    const doc = new Set([...names(read('docs/metrics.md')), ...names(read('docs/alerts.md'))])
    expect([...registered].filter((name) => !doc.has(name)).sort()).toEqual([])
  })
})
