// Screenshots of the dashboard's main views for docs/screenshots/, against a simulated plant.
// Run: `just dashboard-screenshots` (or node --import tsx tests/bench/dashboard-screenshots.ts).
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import type { Page } from 'playwright-core'
import { collectPageErrors, launchChromium, signIn, VIEWPORTS } from '../e2e/dashboard-browser.ts'
import { connectDevice, publish, startTestService } from '../helpers/service.ts'
import { startPlant } from './dashboard-plant.ts'

declare const document: any

const OUT_DIR = path.resolve('docs/screenshots')
const PLANT = {
  factories: 2,
  machinesPerFactory: 4,
  sensorsPerMachine: 8,
  sendIntervalMs: 1000,
  backfillS: 3600,
}

async function main() {
  mkdirSync(OUT_DIR, { recursive: true })
  const svc = await startTestService({ FACTORY_LOG_LEVEL: 'warn', FACTORY_HTTP_RATE_LIMIT_PER_MIN: '0' })
  const baseUrl = `http://127.0.0.1:${svc.service.httpPort}`
  const plant = await startPlant(svc.api, svc.mqttUrl, PLANT)
  const firstSensors = await svc.api.get(`/api/v1/machines/${plant.machineIds[0]}/sensors`)
  const hot = firstSensors.body.sensors[0]

  // An alert rule that fires on the first machine's first sensor, when the server has alerts.
  const rule = await svc.api.post('/api/v1/alert-rules', {
    name: 'Too hot',
    scope: 'sensor',
    sensorId: hot.id,
    condition: { type: 'above', threshold: 60, clearThreshold: 10 },
    severity: 'major',
    messageTemplate: '{sensor} on {machine} is {value} {unit}',
  })
  console.error(rule.status === 201 ? 'alert rule created' : `no alert rule (${rule.status})`)

  // A reject: a machine with declared sensors receiving a value it does not know.
  const machine = plant.machineIds[1]!
  const cred = await svc.api.post(`/api/v1/machines/${machine}/credentials`)
  await svc.api.request('PATCH', `/api/v1/machines/${machine}`, { autoRegisterSensors: false })
  const device = await connectDevice(svc.mqttUrl, {
    clientId: cred.body.clientId,
    username: cred.body.username,
    password: cred.body.password,
  })
  await publish(device, cred.body.telemetryTopic, JSON.stringify({ values: { s01: 'hot', vibration_x: 3 } }))
  await device.endAsync()

  const browser = await launchChromium()
  const shoot = async (page: Page, name: string) => {
    await page.screenshot({ path: path.join(OUT_DIR, name) })
    console.error(`wrote docs/screenshots/${name}`)
  }
  const settle = (page: Page) =>
    page.waitForFunction(() => document.querySelector('.chart-card[data-loading]') === null)

  for (const [name, viewport] of Object.entries(VIEWPORTS)) {
    const page = await browser.newPage({ viewport })
    const errors = collectPageErrors(page)
    if (name === 'laptop') {
      await page.goto(`${baseUrl}/`)
      await shoot(page, 'signin.png')
    }
    await signIn(page, baseUrl, svc.adminToken)
    await page.locator('.machine-open').first().click()
    const charts = name === 'laptop' ? 4 : 6
    for (let i = 0; i < charts; i++) await page.locator('#machine .chart-toggle').nth(i).click()
    await page.locator('.twisty').nth(4).click()
    await settle(page)
    // A few live readings on the charts.
    await page.waitForFunction(() =>
      document.querySelector('#stream-state')?.textContent?.startsWith('● live'),
    )
    await new Promise((resolve) => setTimeout(resolve, 4000))
    await shoot(page, `live-${viewport.width}x${viewport.height}.png`)
    if (name === 'desktop') {
      await page.getByRole('radio', { name: '1 h' }).check()
      await settle(page)
      await shoot(page, 'history-1h.png')
      await page.getByRole('tab', { name: /Alerts/ }).click()
      await new Promise((resolve) => setTimeout(resolve, 1000))
      await shoot(page, 'alerts.png')
      await page.getByRole('tab', { name: 'Rejects' }).click()
      await page.locator('table.rejects tbody tr').first().waitFor()
      await shoot(page, 'rejects.png')
    }
    if (errors.length) console.error('page errors:', errors)
    await page.close()
  }

  await browser.close()
  await plant.stop()
  await svc.cleanup()
}

await main()
