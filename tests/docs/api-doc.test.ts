// docs/api.md must match the OpenAPI document the server serves (regenerate with `npx just docs-api`).
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openApiToMarkdown } from '../../api/openapi-markdown.ts'
import { createTestApp, type TestApp } from '../helpers/app.ts'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(() => t.close())

describe('docs/api.md', () => {
  it('lists every endpoint of the OpenAPI document', async () => {
    const doc = await t.call('GET', '/openapi.json', { token: null })
    const file = readFileSync(path.resolve(import.meta.dirname, '../../docs/api.md'), 'utf8')
    expect(file).toBe(openApiToMarkdown(doc.body))
  })
})
