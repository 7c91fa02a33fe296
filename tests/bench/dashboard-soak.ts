// Dashboard soak: 1,000 sensors in the tree (all expanded) and 10 live charts at 1 Hz for DASHBOARD_SOAK_MS
// (default 10 minutes), measuring frame intervals, long tasks, main-thread time and JS heap in Chromium.
// Run: `just dashboard-soak` (or node --import tsx tests/bench/dashboard-soak.ts). Prints a JSON summary.
import type { CDPSession } from 'playwright-core'
import { collectPageErrors, launchChromium, signIn, VIEWPORTS } from '../e2e/dashboard-browser.ts'
import { startTestService } from '../helpers/service.ts'
import { startPlant } from './dashboard-plant.ts'

// Globals of the page, used inside page.evaluate callbacks (the TypeScript config has no DOM library).
declare const document: any
declare const window: any

const SOAK_MS = Number(process.env['DASHBOARD_SOAK_MS'] ?? 600_000)
const SAMPLE_EVERY_MS = 30_000
const PLANT = {
  factories: 2,
  machinesPerFactory: 25,
  sensorsPerMachine: 20,
  sendIntervalMs: 1000,
  backfillS: 300,
}

interface HeapSample {
  atS: number
  usedMb: number
  domNodes: number
}

/**
 * Frame intervals (requestAnimationFrame) and long tasks, recorded inside the page. A string, not a function:
 * the TypeScript loader would wrap named inner functions in a helper the page does not have.
 */
const RECORDER = `(() => {
  const frames = []
  const longTasks = []
  let last = 0
  const loop = (t) => {
    if (last) frames.push(t - last)
    last = t
    requestAnimationFrame(loop)
  }
  requestAnimationFrame(loop)
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) longTasks.push(entry.duration)
  }).observe({ type: 'longtask' })
  window.__soak = { frames, longTasks }
})()`

async function heapSample(cdp: CDPSession, startedMs: number): Promise<HeapSample> {
  const { metrics } = await cdp.send('Performance.getMetrics')
  const get = (name: string) => metrics.find((m) => m.name === name)?.value ?? 0
  return {
    atS: Math.round((Date.now() - startedMs) / 1000),
    usedMb: Math.round((get('JSHeapUsedSize') / 1048576) * 10) / 10,
    domNodes: get('Nodes'),
  }
}

async function mainThreadSeconds(cdp: CDPSession) {
  const { metrics } = await cdp.send('Performance.getMetrics')
  const get = (name: string) => metrics.find((m) => m.name === name)?.value ?? 0
  return {
    script: get('ScriptDuration'),
    layout: get('LayoutDuration') + get('RecalcStyleDuration'),
    task: get('TaskDuration'),
  }
}

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : Number.NaN
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits

async function main() {
  const svc = await startTestService({ FACTORY_LOG_LEVEL: 'warn', FACTORY_HTTP_RATE_LIMIT_PER_MIN: '0' })
  const baseUrl = `http://127.0.0.1:${svc.service.httpPort}`
  console.error(
    `provisioning ${PLANT.factories * PLANT.machinesPerFactory * PLANT.sensorsPerMachine} sensors…`,
  )
  const plant = await startPlant(svc.api, svc.mqttUrl, PLANT)
  const browser = await launchChromium()
  const page = await browser.newPage({ viewport: VIEWPORTS.desktop })
  const errors = collectPageErrors(page)
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('Performance.enable')

  await signIn(page, baseUrl, svc.adminToken)
  // Every machine expanded: all 1,000 sensor rows are in the DOM and repainted on each overview poll.
  for (const twisty of await page.locator('.twisty').all()) await twisty.click()
  await page.locator('.machine-open').first().click()
  await page.locator('#machine-title').waitFor()
  await page.locator('#machine .machine-head button').click()
  await page.waitForFunction(() => document.querySelectorAll('.chart-card canvas').length === 10)
  const rows = await page.locator('.sensor-row').count()
  await page.waitForFunction(() => document.querySelector('#stream-state')?.textContent?.startsWith('● live'))

  console.error(`soaking for ${SOAK_MS / 1000} s with ${rows} sensor rows and 10 charts…`)
  await page.evaluate(RECORDER)
  const startedMs = Date.now()
  const before = await mainThreadSeconds(cdp)
  const heap: HeapSample[] = [await heapSample(cdp, startedMs)]
  const publishedBefore = plant.published()
  while (Date.now() - startedMs < SOAK_MS) {
    await new Promise((resolve) =>
      setTimeout(resolve, Math.min(SAMPLE_EVERY_MS, SOAK_MS - (Date.now() - startedMs))),
    )
    heap.push(await heapSample(cdp, startedMs))
  }
  const elapsedS = (Date.now() - startedMs) / 1000
  const after = await mainThreadSeconds(cdp)
  const recorded = (await page.evaluate(() => window.__soak)) as { frames: number[]; longTasks: number[] }
  const chartPoints = await page.evaluate(() => document.querySelectorAll('.chart-card').length)

  const frames = [...recorded.frames].sort((a, b) => a - b)
  const summary = {
    durationS: round(elapsedS, 0),
    sensorsInTree: rows,
    liveCharts: chartPoints,
    ingestReadingsPerS: round((plant.published() - publishedBefore) / elapsedS, 0),
    frames: {
      count: frames.length,
      fps: round(frames.length / elapsedS),
      p50Ms: round(percentile(frames, 50)),
      p95Ms: round(percentile(frames, 95)),
      p99Ms: round(percentile(frames, 99)),
      maxMs: round(frames.at(-1) ?? Number.NaN),
      over50MsPct: round((frames.filter((f) => f > 50).length / frames.length) * 100, 2),
    },
    longTasks: {
      count: recorded.longTasks.length,
      totalMs: round(
        recorded.longTasks.reduce((a, b) => a + b, 0),
        0,
      ),
      maxMs: round(Math.max(0, ...recorded.longTasks), 0),
    },
    mainThreadPct: {
      script: round(((after.script - before.script) / elapsedS) * 100, 2),
      styleAndLayout: round(((after.layout - before.layout) / elapsedS) * 100, 2),
      allTasks: round(((after.task - before.task) / elapsedS) * 100, 2),
    },
    heapMb: {
      start: heap[0]!.usedMb,
      end: heap.at(-1)!.usedMb,
      max: Math.max(...heap.map((h) => h.usedMb)),
    },
    domNodes: { start: heap[0]!.domNodes, end: heap.at(-1)!.domNodes },
    heapSamples: heap,
    consoleErrors: errors,
  }
  console.log(JSON.stringify(summary, null, 2))

  await browser.close()
  await plant.stop()
  await svc.cleanup()
}

await main()
