// Writes docs/api.md from the app's OpenAPI document (`npx just docs-api`).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pino from 'pino'
import { openStorage } from '../db/index.ts'
import { createApp } from './app.ts'
import { openApiToMarkdown } from './openapi-markdown.ts'

const dataDir = mkdtempSync(path.join(tmpdir(), 'fm-docs-'))
const storage = openStorage({ dataDir, synchronous: 'NORMAL', busyTimeoutMs: 1000 })
const app = createApp({
  storage,
  logger: pino({ level: 'silent' }),
  maxBodyBytes: 1024,
  health: () => {
    throw new Error('not used')
  },
  metrics: async () => ({ contentType: 'text/plain', body: '' }),
})
const doc = (await (await app.request('/openapi.json')).json()) as Parameters<typeof openApiToMarkdown>[0]
const out = path.resolve(import.meta.dirname, '../docs/api.md')
writeFileSync(out, openApiToMarkdown(doc))
storage.close()
rmSync(dataDir, { recursive: true, force: true })
console.log(`wrote ${out}`)
