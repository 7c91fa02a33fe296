// The dashboard in headless Chromium against the real service fed by a real MQTT device.
import type { MqttClient } from 'mqtt'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  connectDevice,
  type ProvisionedMachine,
  provisionMachine,
  publish,
  startTestService,
  type TestService,
} from '../helpers/service.ts'
import { collectPageErrors, launchChromium, signIn, VIEWPORTS } from './dashboard-browser.ts'

// Globals of the page, used inside page.evaluate callbacks (the TypeScript config has no DOM library).
declare const document: any
declare const window: any

let svc: TestService
let press: ProvisionedMachine
let device: MqttClient
let browser: Browser
let readToken: string
let baseUrl: string
let context: BrowserContext | undefined
let page: Page
let pageErrors: string[]

const send = (values: Record<string, number>) =>
  publish(device, press.telemetryTopic, JSON.stringify({ ts: Date.now(), values }))

async function openPage(viewport: { width: number; height: number } = VIEWPORTS.laptop) {
  context = await browser.newContext({ viewport })
  page = await context.newPage()
  pageErrors = collectPageErrors(page)
}

/** Waits until the machine table shows `text` as the value of sensor `sensorId`. */
const machineValue = (sensorId: number, text: string) =>
  page.waitForFunction(
    ([id, want]) =>
      document.querySelector(`#machine tr[data-sensor-id="${id}"] .value`)?.textContent === want,
    [sensorId, text] as const,
  )

beforeAll(async () => {
  svc = await startTestService()
  baseUrl = `http://127.0.0.1:${svc.service.httpPort}`
  press = await provisionMachine(svc.api, { machineKey: 'press-1' })
  await svc.api.request('PATCH', `/api/v1/machines/${press.machineId}`, { name: 'Press 1' })
  const token = await svc.api.post('/api/v1/tokens', { name: 'wall screen', scope: 'read' })
  readToken = token.body.token
  device = await connectDevice(svc.mqttUrl, {
    clientId: press.clientId,
    username: press.username,
    password: press.password,
  })
  await send({ temp: 21.5, rpm: 1200 })
  browser = await launchChromium()
}, 60_000)

afterEach(async () => {
  await context?.close()
  context = undefined
})

afterAll(async () => {
  await browser?.close()
  await device?.endAsync()
  await svc?.cleanup()
})

describe('dashboard', { timeout: 30_000 }, () => {
  it('redirects / to the dashboard and refuses an invalid token', async () => {
    await openPage()
    await page.goto(`${baseUrl}/`)
    expect(new URL(page.url()).pathname).toBe('/dashboard/')
    await page.getByLabel('API token').fill('fm_1_not-a-real-secret')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByText('That token is not valid.').waitFor()
    expect(await page.locator('#app').isHidden()).toBe(true)
    expect(pageErrors.filter((e) => !e.includes('401'))).toEqual([])
  })

  it('signs in, opens a machine and shows a new value as it arrives', async () => {
    await openPage()
    await signIn(page, baseUrl, svc.adminToken)
    expect(await page.locator('#who-scope').textContent()).toBe('admin')
    const machine = page.locator('.machine-open', { hasText: 'Press 1' })
    expect(await machine.textContent()).toContain('online · 2 sensors')
    await machine.click()
    expect(await page.locator('#machine-title').textContent()).toBe('Press 1 · plant-1')
    await machineValue(press.sensors['temp']!, '21.5')
    await send({ temp: 42.25 })
    await machineValue(press.sensors['temp']!, '42.25')
    // The tree row of the same sensor follows the stream too.
    await page.waitForFunction(
      (id) =>
        document.querySelector(`.sensor-row[data-sensor-id="${id}"] .sensor-value`)?.firstChild?.nodeValue ===
        '42.25',
      press.sensors['temp']!,
    )
    expect(pageErrors).toEqual([])
  })

  it('charts a sensor and appends live readings to the chart', async () => {
    await openPage(VIEWPORTS.desktop)
    await signIn(page, baseUrl, svc.adminToken)
    await page.locator('.machine-open', { hasText: 'Press 1' }).click()
    await page.getByRole('button', { name: 'Chart rpm', exact: true }).click()
    const card = page.getByRole('article', { name: 'Chart of Press 1 · rpm' })
    await card.locator('canvas').waitFor()
    expect(
      await page.getByRole('button', { name: 'Chart rpm', exact: true }).getAttribute('aria-pressed'),
    ).toBe('true')
    await send({ rpm: 1337 })
    await page.waitForFunction(
      () => document.querySelector('.chart-card .last-value')?.textContent === '1,337',
    )
    await page.getByRole('radio', { name: '1 h' }).check()
    await card.getByText(/min–max band, 1 min buckets from the stored rollups/).waitFor()
    await card.getByRole('button', { name: 'Remove chart of Press 1 · rpm' }).click()
    expect(await page.locator('.chart-card').count()).toBe(0)
    expect(pageErrors).toEqual([])
  })

  it('lists a rejected reading with its reason', async () => {
    await publish(device, press.telemetryTopic, JSON.stringify({ values: { temp: 9999 } }))
    await openPage()
    await signIn(page, baseUrl, svc.adminToken)
    await page.getByRole('tab', { name: 'Rejects' }).click()
    const row = page.locator('table.rejects tbody tr').first()
    await row.waitFor()
    expect(await row.locator('td').allTextContents()).toEqual([
      expect.any(String),
      'Press 1',
      'temp',
      'READING_VALUE_OUT_OF_RANGE',
      expect.any(String),
      '{"values":{"temp":9999}}',
    ])
    expect(pageErrors).toEqual([])
  })

  it('moves between views with the arrow keys', async () => {
    await openPage()
    await signIn(page, baseUrl, svc.adminToken)
    await page.getByRole('tab', { name: 'Live' }).focus()
    await page.keyboard.press('ArrowRight')
    await page.keyboard.press('ArrowRight')
    const rejects = page.getByRole('tab', { name: 'Rejects' })
    expect(await rejects.getAttribute('aria-selected')).toBe('true')
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('tab-rejects')
    expect(await page.locator('#panel-rejects').isVisible()).toBe(true)
    expect(await page.locator('#panel-live').isHidden()).toBe(true)
    expect(pageErrors).toEqual([])
  })

  it('acknowledges an active alert, then clears it', async () => {
    const rule = await svc.api.post('/api/v1/alert-rules', {
      name: 'Too hot',
      scope: 'sensor',
      sensorId: press.sensors['temp'],
      condition: { type: 'above', threshold: 100 },
      severity: 'major',
    })
    expect(rule.status).toBe(201)
    await send({ temp: 150 })
    await openPage()
    await signIn(page, baseUrl, svc.adminToken)
    await page.getByRole('tab', { name: /Alerts/ }).click()
    const row = page.locator('table.alerts tbody tr', { hasText: 'Press 1 · temp' })
    await row.waitFor()
    const cells = await row.locator('td').allTextContents()
    expect([cells[0], cells[2], cells[4], cells[5]]).toEqual(['major', 'Press 1 · temp', '150', 'active'])
    expect(await page.locator('#alerts-count').textContent()).toBe('1')

    await row.getByRole('button', { name: /^Acknowledge Press 1 · temp/ }).click()
    await page.waitForFunction(
      () => document.querySelector('table.alerts tbody tr td:nth-child(6)')?.textContent === 'acknowledged',
    )
    const acked = await svc.api.get(`/api/v1/alerts?state=acknowledged&sensorId=${press.sensors['temp']}`)
    expect(acked.body.alerts.map((a: any) => [a.ruleName, a.acknowledgedBy])).toEqual([
      ['Too hot', 'admin (created at first start)'],
    ])

    await row.getByRole('button', { name: /^Clear Press 1 · temp/ }).click()
    await page.getByText('No open alerts.').waitFor()
    const cleared = await svc.api.get(`/api/v1/alerts?state=cleared&sensorId=${press.sensors['temp']}`)
    expect(cleared.body.alerts.map((a: any) => a.ruleName)).toEqual(['Too hot'])
    await svc.api.request('DELETE', `/api/v1/alert-rules/${rule.body.id}`)
    expect(pageErrors).toEqual([])
  })

  it('shows a read-only token open alerts without write actions', async () => {
    const rule = await svc.api.post('/api/v1/alert-rules', {
      name: 'Overspeed',
      scope: 'sensor',
      sensorId: press.sensors['rpm'],
      condition: { type: 'above', threshold: 5000 },
      severity: 'critical',
    })
    expect(rule.status).toBe(201)
    await send({ rpm: 6000 })
    await openPage()
    await signIn(page, baseUrl, readToken)
    expect(await page.locator('#who-name').textContent()).toBe('wall screen')
    expect(await page.locator('#who-scope').textContent()).toBe('read-only')
    await page.getByRole('tab', { name: /Alerts/ }).click()
    const row = page.locator('table.alerts tbody tr', { hasText: 'Press 1 · rpm' })
    await row.waitFor()
    expect(await row.locator('td').count()).toBe(6)
    expect(await page.getByRole('button', { name: /^(Acknowledge|Clear) / }).count()).toBe(0)
    expect(pageErrors).toEqual([])
  })

  it.each(Object.entries(VIEWPORTS))('fits a %s screen without horizontal scrolling', async (_name, size) => {
    await openPage(size)
    await signIn(page, baseUrl, svc.adminToken)
    await page.locator('.machine-open', { hasText: 'Press 1' }).click()
    await page.getByRole('button', { name: 'Chart temp', exact: true }).click()
    await page.locator('.chart-card canvas').waitFor()
    const overflow = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth - window.innerWidth,
      main: document.querySelector('main')!.scrollWidth - document.querySelector('main')!.clientWidth,
    }))
    expect(overflow).toEqual({ page: 0, main: 0 })
    expect(pageErrors).toEqual([])
  })
})
