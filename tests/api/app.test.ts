// The HTTP API's contract: auth, validation errors with the offending field, CRUD bodies, tokens, docs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../helpers/app.ts'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp({ maxBodyBytes: 4096 })
})
afterAll(() => t.close())

const error = (code: string, message: string | RegExp, field?: string) => ({
  error:
    field === undefined
      ? { code, message: expect.stringMatching(message) }
      : { code, message: expect.stringMatching(message), field },
})

describe('authentication and scopes', () => {
  it('answers 401 API_AUTH_REQUIRED without a token', async () => {
    expect(await t.call('GET', '/api/v1/factories', { token: null })).toMatchObject({
      status: 401,
      body: error('API_AUTH_REQUIRED', /Bearer/),
    })
  })

  it('answers 401 API_AUTH_INVALID for a malformed or unknown token', async () => {
    for (const token of ['nonsense', 'fm_999_aaaaaaaaaaaaaaaaaaaaaaaa', `${t.adminToken}x`]) {
      expect(await t.call('GET', '/api/v1/factories', { token })).toMatchObject({
        status: 401,
        body: error('API_AUTH_INVALID', /not valid/),
      })
    }
  })

  it('lets a read-only token read but not write, and not manage tokens', async () => {
    expect((await t.call('GET', '/api/v1/factories', { token: t.readToken })).status).toBe(200)
    expect(
      await t.call('POST', '/api/v1/factories', { token: t.readToken, body: { key: 'x', name: 'X' } }),
    ).toMatchObject({
      status: 403,
      body: error('API_SCOPE_FORBIDDEN', /read token cannot POST/),
    })
    expect((await t.call('GET', '/api/v1/tokens', { token: t.readToken })).status).toBe(403)
  })

  it('stops accepting a token the moment it is revoked', async () => {
    const created = await t.call('POST', '/api/v1/tokens', { body: { name: 'temp', scope: 'read' } })
    expect(created.status).toBe(201)
    expect((await t.call('GET', '/api/v1/factories', { token: created.body.token })).status).toBe(200)
    expect((await t.call('DELETE', `/api/v1/tokens/${created.body.id}`)).status).toBe(204)
    expect((await t.call('GET', '/api/v1/factories', { token: created.body.token })).status).toBe(401)
  })

  it('never lists token secrets', async () => {
    const list = await t.call('GET', '/api/v1/tokens')
    // The secret is everything after `fm_<id>_`; base64url may hold '_' itself.
    const secret = t.adminToken.slice(t.adminToken.indexOf('_', 3) + 1)
    expect(secret.length).toBeGreaterThanOrEqual(16)
    expect(JSON.stringify(list.body)).not.toContain(secret)
    expect(list.body.tokens[0]).toEqual({
      id: 1,
      name: 'test admin',
      scope: 'admin',
      createdMs: expect.any(Number),
      revokedMs: null,
    })
  })
})

describe('catalog CRUD', () => {
  it('creates, reads, updates and deletes a factory → machine → sensor chain', async () => {
    const factory = await t.call('POST', '/api/v1/factories', {
      body: { key: 'plant-9', name: 'Plant 9', timezone: 'Europe/Berlin' },
    })
    expect(factory).toMatchObject({
      status: 201,
      body: { id: expect.any(Number), key: 'plant-9', name: 'Plant 9', timezone: 'Europe/Berlin' },
    })
    const machine = await t.call('POST', `/api/v1/factories/${factory.body.id}/machines`, {
      body: { key: 'lathe', name: 'Lathe' },
    })
    expect(machine.body).toEqual({
      id: expect.any(Number),
      factoryId: factory.body.id,
      key: 'lathe',
      name: 'Lathe',
      autoRegisterSensors: false,
      status: 'unknown',
      statusSinceMs: null,
      clientId: 'plant-9.lathe',
      telemetryTopic: 'factories/plant-9/machines/lathe/telemetry',
      createdMs: expect.any(Number),
      updatedMs: expect.any(Number),
    })
    const sensor = await t.call('POST', `/api/v1/machines/${machine.body.id}/sensors`, {
      body: {
        key: 'temp',
        name: 'Temp',
        unit: '°C',
        minValue: 0,
        maxValue: 100,
        resolution: 0.1,
        expectedIntervalMs: 1000,
      },
    })
    expect(sensor.body).toEqual({
      id: expect.any(Number),
      machineId: machine.body.id,
      key: 'temp',
      name: 'Temp',
      unit: '°C',
      kind: 'gauge',
      minValue: 0,
      maxValue: 100,
      resolution: 0.1,
      expectedIntervalMs: 1000,
      createdMs: expect.any(Number),
      updatedMs: expect.any(Number),
    })
    const patched = await t.call('PATCH', `/api/v1/sensors/${sensor.body.id}`, {
      body: { maxValue: null, name: 'Oil' },
    })
    expect(patched.body).toMatchObject({ name: 'Oil', minValue: 0, maxValue: null })
    expect((await t.call('DELETE', `/api/v1/factories/${factory.body.id}`)).status).toBe(204)
    expect(await t.call('GET', `/api/v1/sensors/${sensor.body.id}`)).toMatchObject({
      status: 404,
      body: error('API_NOT_FOUND', /sensor \d+ not found/),
    })
  })

  it('answers 409 for a duplicate key', async () => {
    await t.call('POST', '/api/v1/factories', { body: { key: 'dup', name: 'A' } })
    expect(await t.call('POST', '/api/v1/factories', { body: { key: 'dup', name: 'B' } })).toMatchObject({
      status: 409,
      body: error('API_RESOURCE_CONFLICT', /already exists/),
    })
  })

  it('issues device credentials with the password shown once', async () => {
    const f = await t.call('POST', '/api/v1/factories', { body: { key: 'cred', name: 'C' } })
    const m = await t.call('POST', `/api/v1/factories/${f.body.id}/machines`, {
      body: { key: 'm1', name: 'M1' },
    })
    const cred = await t.call('POST', `/api/v1/machines/${m.body.id}/credentials`)
    expect(cred.status).toBe(201)
    expect(cred.headers.get('cache-control')).toBe('no-store')
    expect(cred.body).toEqual({
      machineId: m.body.id,
      clientId: 'cred.m1',
      username: 'cred.m1',
      password: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      telemetryTopic: 'factories/cred/machines/m1/telemetry',
      statusTopic: 'factories/cred/machines/m1/status',
    })
    expect(await t.storage.access.verifyDevice('cred.m1', cred.body.password)).toMatchObject({
      machineId: m.body.id,
    })
  })
})

describe('validation errors name the offending field', () => {
  const cases: [string, string, { body?: unknown; raw?: string }, string | undefined, RegExp][] = [
    ['POST', '/api/v1/factories', { body: { key: 'Bad Key', name: 'x' } }, 'key', /lowercase/],
    ['POST', '/api/v1/factories', { body: { key: 'ok', name: 'x', extra: 1 } }, '', /extra|unrecognized/i],
    [
      'POST',
      '/api/v1/factories',
      { body: { key: 'ok2', name: 'x', timezone: 'Mars/Olympus' } },
      'timezone',
      /IANA/,
    ],
    ['POST', '/api/v1/factories', { raw: '{"key": ' }, undefined, /JSON|malformed/i],
    ['GET', '/api/v1/factories/abc', {}, 'param.factoryId', /number/i],
    ['GET', '/api/v1/sensors/1/readings?from=yesterday', {}, 'query.from', /epoch milliseconds/],
    ['GET', '/api/v1/sensors/1/readings?limit=0', {}, 'query.limit', /./],
    ['GET', '/api/v1/rejects?reason=lower', {}, 'query.reason', /./],
    ['GET', '/api/v1/readings/count', {}, 'query.sensorId', /exactly one/],
  ]
  it.each(cases)('%s %s → 400', async (method, url, options, field, message) => {
    const res = await t.call(method, url, options)
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('API_VALIDATION_FAILED')
    expect(res.body.error.message).toMatch(message)
    if (field !== undefined) expect(res.body.error.field ?? '').toBe(field)
  })

  it('refuses minValue above maxValue', async () => {
    const f = await t.call('POST', '/api/v1/factories', { body: { key: 'bounds', name: 'B' } })
    const m = await t.call('POST', `/api/v1/factories/${f.body.id}/machines`, {
      body: { key: 'm', name: 'M' },
    })
    const res = await t.call('POST', `/api/v1/machines/${m.body.id}/sensors`, {
      body: { key: 's', name: 'S', minValue: 5, maxValue: 1 },
    })
    expect(res).toMatchObject({
      status: 400,
      body: error('API_VALIDATION_FAILED', /minValue must not exceed maxValue/, 'minValue'),
    })
  })

  it('answers 413 for a body over the limit', async () => {
    const res = await t.call('POST', '/api/v1/factories', { body: { key: 'big', name: 'x'.repeat(5000) } })
    expect(res).toMatchObject({ status: 413, body: error('API_BODY_TOO_LARGE', /exceeds 4096 bytes/) })
  })

  it('answers 404 with the error body for an unknown route', async () => {
    expect(await t.call('GET', '/api/v1/nothing')).toMatchObject({
      status: 404,
      body: error('API_NOT_FOUND', /no route/),
    })
  })
})

describe('documentation', () => {
  it('serves an OpenAPI 3.1 document describing every route', async () => {
    const doc = await t.call('GET', '/openapi.json', { token: null })
    expect(doc.status).toBe(200)
    expect(doc.body.openapi).toBe('3.1.0')
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/factories',
        '/api/v1/factories/{factoryId}/machines',
        '/api/v1/machines/{machineId}/credentials',
        '/api/v1/machines/{machineId}/sensors',
        '/api/v1/sensors/{sensorId}/readings',
        '/api/v1/machines/{machineId}/latest',
        '/api/v1/rejects',
        '/api/v1/tokens',
        '/health',
      ]),
    )
    expect(doc.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' })
  })

  it('serves the docs page and its assets locally', async () => {
    const page = await t.call('GET', '/docs', { token: null })
    expect(page.status).toBe(200)
    expect(page.body).toContain('/docs/swagger-ui-bundle.js')
    expect(page.body).not.toMatch(/https?:\/\/(?!localhost)/)
    const script = await t.call('GET', '/docs/swagger-ui-bundle.js', { token: null })
    expect(script.status).toBe(200)
  })
})
