// Builds the real Hono app over a real SQLite file, without opening ports (app.request()).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pino from 'pino'
import { createApp } from '../../api/index.ts'
import { openStorage, type Storage } from '../../db/index.ts'

export interface TestApp {
  storage: Storage
  adminToken: string
  readToken: string
  call(
    method: string,
    url: string,
    options?: { body?: unknown; raw?: string; token?: string | null },
  ): Promise<{
    status: number
    body: any
    headers: Headers
  }>
  close(): void
}

export async function createTestApp(options: { maxBodyBytes?: number } = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'fm-api-'))
  const storage = openStorage({ dataDir, synchronous: 'NORMAL', busyTimeoutMs: 1000 })
  const admin = await storage.access.createToken('test admin', 'admin')
  const read = await storage.access.createToken('test reader', 'read')
  const app = createApp({
    storage,
    logger: pino({ level: 'silent' }),
    maxBodyBytes: options.maxBodyBytes ?? 1_048_576,
    health: () => {
      throw new Error('not used')
    },
    metrics: async () => ({ contentType: 'text/plain', body: '' }),
  })
  return {
    storage,
    adminToken: admin.secret,
    readToken: read.secret,
    async call(method, url, { body, raw, token } = {}) {
      const headers: Record<string, string> = {}
      const bearer = token === undefined ? admin.secret : token
      if (bearer !== null) headers['authorization'] = `Bearer ${bearer}`
      if (body !== undefined || raw !== undefined) headers['content-type'] = 'application/json'
      const res = await app.request(url, {
        method,
        headers,
        body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
      })
      const text = await res.text()
      let parsed: unknown = text
      try {
        parsed = text ? JSON.parse(text) : null
      } catch {
        // keep text
      }
      return { status: res.status, body: parsed, headers: res.headers }
    },
    close() {
      storage.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
