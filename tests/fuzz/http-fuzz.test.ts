// Property tests of every HTTP endpoint in /openapi.json with hostile input: never a 5xx, every rejection a structured 4xx.
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { provisionMachine, startTestService, type TestService } from '../helpers/service.ts'

const RUNS_PER_OPERATION = Number(process.env['FUZZ_HTTP_RUNS'] ?? 25)

let svc: TestService
let operations: Operation[] = []

interface Parameter {
  name: string
  in: 'path' | 'query' | 'header'
}
interface Operation {
  method: string
  path: string
  parameters: Parameter[]
  hasBody: boolean
}

const hostileScalar = fc.oneof(
  fc.integer(),
  fc.constantFrom(0, -1, 2 ** 31, 2 ** 53 + 1, 1e308, -1e308),
  fc.constantFrom('1e400', 'NaN', 'Infinity', '-0', '0x1F', '9'.repeat(400), '1.5', ' 1', '1;DROP TABLE x'),
  fc.constantFrom('__proto__', 'constructor', '../../etc/passwd', '%00', '%ff%fe', '\u0000', '\ud800', 'é'),
  fc.string({ maxLength: 40 }),
  fc.string({ minLength: 2000, maxLength: 6000 }),
  fc.boolean().map(String),
)

const deepJson = fc.integer({ min: 1, max: 5000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`)

const body = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc
    .record({
      key: hostileScalar,
      name: hostileScalar,
      scope: hostileScalar,
      unit: hostileScalar,
      minValue: hostileScalar,
      maxValue: hostileScalar,
      timezone: hostileScalar,
      autoRegisterSensors: hostileScalar,
    })
    .map((v) => JSON.stringify(v)),
  deepJson,
  fc.constant('{"key": "a", "name": '),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  fc.constant(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])),
)

/** Percent-encodes, but lets raw `%00`/`%ff` through so the server also sees invalid escapes and bytes. */
function encode(value: unknown): string {
  const text = String(value)
  try {
    return encodeURIComponent(text).replace(/%25(00|ff|fe)/gi, '%$1')
  } catch {
    // A lone surrogate: send its bytes as they would be on the wire.
    return Buffer.from(text).toString('hex').replace(/../g, '%$&')
  }
}

beforeAll(async () => {
  svc = await startTestService({ FACTORY_HTTP_RATE_LIMIT_PER_MIN: '0', FACTORY_LOG_LEVEL: 'warn' })
  // Something to find, so requests get past "not found" into the handlers.
  await provisionMachine(svc.api)
  const doc = (await svc.api.get('/openapi.json', '')).body as {
    paths: Record<
      string,
      Record<
        string,
        {
          parameters?: Parameter[]
          requestBody?: unknown
          responses?: Record<string, { content?: Record<string, unknown> }>
        }
      >
    >
  }
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const streams = Object.values(op.responses ?? {}).some(
        (r) => r.content && 'text/event-stream' in r.content,
      )
      if (streams) continue
      operations.push({
        method: method.toUpperCase(),
        path,
        parameters: (op.parameters ?? []).filter((p) => p.in === 'path' || p.in === 'query'),
        hasBody: op.requestBody !== undefined,
      })
    }
  }
  operations = operations.sort((a, b) => `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`))
})
afterAll(async () => {
  await svc?.cleanup()
})

describe('HTTP fuzzing', () => {
  it('finds operations to test in the OpenAPI document', () => {
    expect(operations.length).toBeGreaterThan(20)
  })

  it('answers hostile requests to every operation with < 500 and a structured error body', async () => {
    const failures: string[] = []
    for (const op of operations) {
      await fc.assert(
        fc.asyncProperty(
          fc.array(hostileScalar, { minLength: op.parameters.length, maxLength: op.parameters.length }),
          fc.dictionary(fc.string({ maxLength: 8 }), hostileScalar, { maxKeys: 3 }),
          body,
          async (values, extraQuery, payload) => {
            let url = op.path
            const query: string[] = []
            op.parameters.forEach((p, i) => {
              // The admin token must survive the run: never delete token 1.
              const value =
                p.name === 'tokenId' && op.method === 'DELETE' && String(values[i]) === '1' ? 2 : values[i]
              if (p.in === 'path') url = url.replace(`{${p.name}}`, encode(value))
              else query.push(`${encodeURIComponent(p.name)}=${encode(value)}`)
            })
            for (const [k, v] of Object.entries(extraQuery))
              query.push(`${encodeURIComponent(k)}=${encode(v)}`)
            const target = `http://127.0.0.1:${svc.service.httpPort}${url}${query.length ? `?${query.join('&')}` : ''}`
            const res = await fetch(target, {
              method: op.method,
              headers: {
                authorization: `Bearer ${svc.adminToken}`,
                ...(op.hasBody ? { 'content-type': 'application/json' } : {}),
              },
              body: op.hasBody ? payload : undefined,
              // A request the server never answers is a failure too, not a hung test.
              signal: AbortSignal.timeout(10_000),
            }).catch((error: Error) => {
              failures.push(`${op.method} ${target.slice(0, 200)} -> ${error.name}`)
              return null
            })
            if (!res) return
            const type = res.headers.get('content-type') ?? ''
            let text = ''
            if (type.includes('json')) text = await res.text()
            else await res.body?.cancel()
            if (res.status >= 500)
              failures.push(`${op.method} ${target.slice(0, 200)} -> ${res.status} ${text.slice(0, 200)}`)
            // 431 comes from Node's HTTP parser (headers over 16 KB) before the app sees the request.
            if (res.status >= 400 && res.status !== 431) {
              const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }
              expect(typeof parsed.error?.code).toBe('string')
              expect(typeof parsed.error?.message).toBe('string')
            }
          },
        ),
        { numRuns: RUNS_PER_OPERATION, seed: Number(process.env['FUZZ_SEED'] ?? 4242), endOnFailure: true },
      )
    }
    expect(failures).toEqual([])
  }, 240_000)
})
