// Dashboard entry point: sign-in, the overview poll, the live reading stream and the wiring between views.
import { createAlertsPanel } from './alerts-panel.js'
import { AUTH_LOST_EVENT, apiGet, clearToken, getToken, setToken } from './api.js'
import { createCharts, MAX_CHARTS, RANGES } from './charts.js'
import { openEventStream } from './event-stream.js'
import { el, formatCount, formatRate } from './format.js'
import { createHistoryLoader } from './history.js'
import { createMachinePanel } from './machine-panel.js'
import { createRejectsPanel } from './rejects-panel.js'
import { createTree } from './tree.js'

const OVERVIEW_INTERVAL_MS = 5000
const PANEL_INTERVAL_MS = 5000
const HISTORY_REFRESH_MS = 60_000
/** The server's limit per stream. */
const MAX_STREAM_SENSORS = 200
const NOTICE_KEY = 'factory-monitor.notice'

const $ = (id) => document.getElementById(id)

function showSignIn() {
  $('app').hidden = true
  $('signin').hidden = false
  const notice = sessionStorage.getItem(NOTICE_KEY)
  sessionStorage.removeItem(NOTICE_KEY)
  if (notice) $('signin-error').textContent = notice
  $('signin-token').focus()
  $('signin-form').addEventListener('submit', async (event) => {
    event.preventDefault()
    const token = $('signin-token').value.trim()
    $('signin-error').textContent = ''
    try {
      const who = await apiGet('/api/v1/whoami', { token })
      setToken(token)
      $('signin-token').value = ''
      $('signin').hidden = true
      await start(who)
    } catch (error) {
      $('signin-error').textContent =
        error.status === 401 ? 'That token is not valid.' : `Sign-in failed: ${error.message}`
    }
  })
}

/** Which optional API areas this server offers, read from its OpenAPI document. */
async function capabilities() {
  try {
    const res = await fetch('/openapi.json', { cache: 'no-store' })
    const paths = Object.keys((await res.json()).paths ?? {})
    return {
      series: paths.includes('/api/v1/sensors/{sensorId}/series'),
      downsampled: paths.includes('/api/v1/sensors/{sensorId}/downsampled'),
      anomalies: paths.includes('/api/v1/sensors/{sensorId}/anomalies'),
      alerts: paths.includes('/api/v1/alerts'),
      alertEvents: paths.includes('/api/v1/events/alerts'),
      paths,
    }
  } catch {
    return {
      series: false,
      downsampled: false,
      anomalies: false,
      alerts: false,
      alertEvents: false,
      paths: [],
    }
  }
}

function setupTabs(onShow) {
  const tabs = [...document.querySelectorAll('[role="tab"]')]
  const select = (tab, focus) => {
    for (const t of tabs) {
      const selected = t === tab
      t.setAttribute('aria-selected', String(selected))
      t.tabIndex = selected ? 0 : -1
      $(t.getAttribute('aria-controls')).hidden = !selected
    }
    if (focus) tab.focus()
    onShow(tab.id)
  }
  for (const [i, tab] of tabs.entries()) {
    tab.addEventListener('click', () => select(tab, false))
    tab.addEventListener('keydown', (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key]
      if (step) select(tabs[(i + step + tabs.length) % tabs.length], true)
      if (event.key === 'Home') select(tabs[0], true)
      if (event.key === 'End') select(tabs.at(-1), true)
    })
  }
}

async function start(who) {
  $('app').hidden = false
  $('who-name').textContent = who.name
  $('who-scope').textContent = who.scope === 'admin' ? 'admin' : 'read-only'
  document.body.dataset.scope = who.scope
  $('signout').addEventListener('click', () => {
    clearToken()
    location.reload()
  })

  const caps = await capabilities()
  const history = createHistoryLoader(caps)
  let overview = null
  let serverOffsetMs = 0
  const nowMs = () => Date.now() + serverOffsetMs
  /** sensorId → { sensor, machine, factory } */
  const index = new Map()
  const machines = new Map()

  const tree = createTree($('tree'), { onOpenMachine: openMachine, onToggleChart: toggleChart })
  const machinePanel = createMachinePanel($('machine'), {
    onToggleChart: toggleChart,
    onChartSensors: (ids) => {
      for (const id of ids) addChart(id)
    },
    maxCharts: MAX_CHARTS,
  })
  const charts = createCharts($('charts'), {
    loadHistory: history.loadHistory,
    loadAnomalies: history.loadAnomalies,
    onRemove: (id) => charts.remove(id),
    onChange: chartsChanged,
  })
  const rejects = createRejectsPanel($('rejects'), {
    machineName: (id) => machines.get(id)?.machine.name ?? `machine ${id}`,
  })
  const alerts = createAlertsPanel($('alerts'), {
    capabilities: caps,
    canWrite: who.scope === 'admin',
    sensorLabel: (id) => {
      const entry = index.get(id)
      return entry ? `${entry.machine.name} · ${entry.sensor.name}` : `sensor ${id}`
    },
    onCount: (n) => {
      $('alerts-count').textContent = n ? String(n) : ''
    },
  })

  let visibleTab = 'tab-live'
  setupTabs((id) => {
    visibleTab = id
    if (id === 'tab-rejects') rejects.refresh()
    if (id === 'tab-alerts') alerts.refresh()
  })

  $('range').replaceChildren(
    ...RANGES.map((r, i) =>
      el(
        'label',
        { class: 'range-option' },
        el('input', {
          type: 'radio',
          name: 'range',
          value: r.id,
          checked: i === 0,
          onchange: () => charts.setRange(r.id),
        }),
        el('span', { text: r.label }),
      ),
    ),
  )
  $('charts-clear').addEventListener('click', () => charts.clear())
  $('tree-filter').addEventListener('input', (event) => tree.setFilter(event.target.value))

  // ---- the live stream: sensors of the open machine and of every chart ----
  let stream = null
  let streamKey = ''
  function resubscribe() {
    const ids = [...new Set([...charts.ids(), ...machinePanel.sensorIds()])].slice(0, MAX_STREAM_SENSORS)
    const key = ids.join(',')
    if (key === streamKey) return
    streamKey = key
    stream?.close()
    stream = null
    if (ids.length === 0) {
      $('stream-state').textContent = ''
      return
    }
    stream = openEventStream(
      `/api/v1/events/readings?sensorIds=${key}`,
      {
        readings: ({ readings }) => {
          const now = nowMs()
          tree.update(readings, now)
          machinePanel.update(readings, now)
          charts.push(readings, now)
        },
      },
      (state) => {
        $('stream-state').textContent =
          state === 'open' ? `● live · ${ids.length} sensor${ids.length === 1 ? '' : 's'}` : state
        $('stream-state').className = `stream-state ${state}`
      },
    )
  }

  function openMachine(machineId) {
    const entry = machines.get(machineId)
    if (!entry) return
    tree.setSelected(machineId)
    machinePanel.show(entry.machine, entry.factory.name, tree.latestOf, nowMs())
    machinePanel.setCharted(charts.ids())
    resubscribe()
  }

  function addChart(sensorId) {
    const entry = index.get(sensorId)
    if (!entry || charts.has(sensorId)) return
    if (!charts.add(entry.sensor, `${entry.machine.name} · ${entry.sensor.name}`, entry.sensor.unit)) {
      $('charts-note').textContent = `At most ${MAX_CHARTS} charts; remove one first.`
    }
  }

  function toggleChart(sensorId) {
    if (charts.has(sensorId)) charts.remove(sensorId)
    else addChart(sensorId)
  }

  function chartsChanged() {
    const ids = charts.ids()
    tree.setCharted(ids)
    machinePanel.setCharted(ids)
    $('charts-count').textContent = ids.length ? `${ids.length} of ${MAX_CHARTS}` : ''
    if (ids.length < MAX_CHARTS) $('charts-note').textContent = ''
    resubscribe()
  }

  // ---- the overview poll: tree, header figures, machine status ----
  function applyOverview(next) {
    overview = next
    serverOffsetMs = next.serverMs - Date.now()
    index.clear()
    machines.clear()
    for (const factory of next.factories)
      for (const machine of factory.machines) {
        machines.set(machine.id, { machine, factory })
        for (const sensor of machine.sensors) index.set(sensor.id, { sensor, machine, factory })
      }
    const now = nowMs()
    tree.render(next, now)
    const open = machinePanel.machineId()
    if (open !== null) {
      const entry = machines.get(open)
      if (entry) machinePanel.refresh(entry.machine)
    }
    const { ingest, totals } = next
    $('stat-rate').textContent = formatRate(ingest.readingsPerSecond)
    $('stat-devices').textContent = formatCount(ingest.connectedDevices)
    $('stat-machines').textContent = `${formatCount(totals.machinesOnline)} / ${formatCount(totals.machines)}`
    $('stat-sensors').textContent = formatCount(totals.sensors)
    $('stat-rejects').textContent = formatCount(ingest.rejects)
    $('stat-status').textContent = ingest.status
    $('stat-status').className = ingest.status === 'ok' ? 'ok' : 'bad'
  }

  async function pollOverview() {
    try {
      applyOverview(await apiGet('/api/v1/overview'))
    } catch (error) {
      $('stat-status').textContent = 'unreachable'
      $('stat-status').className = 'bad'
      console.warn('overview failed', error.message)
    }
  }

  await pollOverview()
  setInterval(pollOverview, OVERVIEW_INTERVAL_MS)
  setInterval(() => machinePanel.tick(nowMs()), 1000)
  setInterval(() => charts.refreshHistory(), HISTORY_REFRESH_MS)
  setInterval(() => {
    if (visibleTab === 'tab-rejects') rejects.refresh()
    if (visibleTab === 'tab-alerts' || caps.alerts) alerts.refresh()
  }, PANEL_INTERVAL_MS)
  alerts.start()
  document.body.dataset.ready = 'true'
  return overview
}

window.addEventListener(AUTH_LOST_EVENT, () => {
  clearToken()
  sessionStorage.setItem(NOTICE_KEY, 'Your token is no longer valid; sign in again.')
  location.reload()
})

const token = getToken()
if (!token) {
  showSignIn()
} else {
  apiGet('/api/v1/whoami')
    .then(start)
    .catch(() => {
      clearToken()
      showSignIn()
    })
}
