// The factory → machine → sensor tree: status, latest values and freshness, updated in place.
import { el, formatValue } from './format.js'

const STALE_AFTER_INTERVALS = 3
const DEFAULT_EXPECTED_INTERVAL_MS = 60_000

/** The same rule as the server's overview: stale after three expected intervals (default one minute). */
export function freshnessOf(sensor, latest, nowMs) {
  if (!latest) return 'none'
  const limitMs = STALE_AFTER_INTERVALS * (sensor.expectedIntervalMs ?? DEFAULT_EXPECTED_INTERVAL_MS)
  return nowMs - latest.tsMs > limitMs ? 'stale' : 'fresh'
}

const STATE_TEXT = { fresh: 'fresh', stale: 'stale', none: 'no reading yet' }
const STATUS_TEXT = { online: 'online', offline: 'offline', unknown: 'no status yet' }

function structureKey(factories) {
  const parts = []
  for (const f of factories) {
    parts.push(`f${f.id}:${f.name}`)
    for (const m of f.machines) {
      parts.push(`m${m.id}:${m.name}`)
      for (const s of m.sensors) parts.push(`s${s.id}:${s.name}:${s.unit}`)
    }
  }
  return parts.join('|')
}

/**
 * `onOpenMachine(machineId)` when a machine is chosen, `onToggleChart(sensorId)` when a sensor's chart button
 * is pressed. Sensor rows of a machine are built only when it is expanded (a thousand sensors stay cheap).
 */
export function createTree(root, { onOpenMachine, onToggleChart }) {
  let key = ''
  let query = ''
  let charted = new Set()
  let selectedMachineId = null
  const expanded = new Set()
  /** machineId → { machine, factoryName, li, dot, meta, twisty, open, list, built } */
  const machines = new Map()
  /** sensorId → { sensor, latest, value, dot, toggle } for built rows; latest values for all sensors */
  const rows = new Map()
  const latest = new Map()
  const factoryItems = []

  function paintSensor(row, nowMs) {
    const reading = latest.get(row.sensor.id) ?? null
    const text = reading ? formatValue(reading.value) : '–'
    if (row.value.firstChild.nodeValue !== text) row.value.firstChild.nodeValue = text
    const state = freshnessOf(row.sensor, reading, nowMs)
    const dotClass = `dot ${state}`
    if (row.dot.className !== dotClass) row.dot.className = dotClass
    // Only the state, not the age: a text that changes on every poll would restyle a thousand rows each time.
    if (row.state !== state) {
      row.state = state
      const label = STATE_TEXT[state]
      row.dot.title = label
      row.dot.setAttribute('aria-label', label)
    }
  }

  function buildSensors(node, nowMs) {
    node.built = true
    const items = node.machine.sensors.map((sensor) => {
      const pressed = charted.has(sensor.id)
      const toggle = el('button', {
        type: 'button',
        class: 'chart-toggle',
        'aria-pressed': String(pressed),
        'aria-label': `Chart ${sensor.name} of ${node.machine.name}`,
        title: 'Show on a chart',
        onclick: () => onToggleChart(sensor.id),
      })
      const value = el(
        'span',
        { class: 'sensor-value' },
        '–',
        el('span', { class: 'unit', text: sensor.unit }),
      )
      const dot = el('span', { class: 'dot none', role: 'img' })
      const row = { sensor, value, dot, toggle, state: null }
      rows.set(sensor.id, row)
      paintSensor(row, nowMs)
      return el(
        'li',
        { class: 'sensor-row', dataset: { sensorId: sensor.id } },
        toggle,
        el('span', { class: 'sensor-name', text: sensor.name, title: sensor.key }),
        value,
        dot,
      )
    })
    node.list.replaceChildren(...items)
  }

  function setExpanded(node, open, nowMs = Date.now()) {
    if (open) expanded.add(node.machine.id)
    else expanded.delete(node.machine.id)
    node.twisty.setAttribute('aria-expanded', String(open))
    node.list.hidden = !open
    if (open && !node.built) buildSensors(node, nowMs)
  }

  function paintMachine(node) {
    const m = node.machine
    const dotClass = `dot ${m.status}`
    if (node.dot.className !== dotClass) node.dot.className = dotClass
    const meta = `${STATUS_TEXT[m.status]} · ${m.sensors.length} sensor${m.sensors.length === 1 ? '' : 's'}`
    if (node.meta.textContent !== meta) node.meta.textContent = meta
  }

  function rebuild(factories, nowMs) {
    machines.clear()
    rows.clear()
    factoryItems.length = 0
    const items = factories.map((f) => {
      const list = el('ul', { class: 'machine-list' })
      for (const m of f.machines) {
        const dot = el('span', { class: 'dot', 'aria-hidden': 'true' })
        const meta = el('span', { class: 'meta' })
        const twisty = el('button', {
          type: 'button',
          class: 'twisty',
          'aria-expanded': 'false',
          'aria-label': `Sensors of ${m.name}`,
        })
        const open = el(
          'button',
          { type: 'button', class: 'machine-open', onclick: () => onOpenMachine(m.id) },
          dot,
          el('span', { class: 'machine-name', text: m.name }),
          meta,
        )
        const sensorList = el('ul', { class: 'sensor-list', hidden: true })
        const li = el(
          'li',
          { class: 'machine', dataset: { machineId: m.id } },
          el('div', { class: 'machine-row' }, twisty, open),
          sensorList,
        )
        const node = { machine: m, factoryName: f.name, li, dot, meta, twisty, open, list: sensorList }
        node.built = false
        twisty.addEventListener('click', () => setExpanded(node, !expanded.has(m.id)))
        machines.set(m.id, node)
        paintMachine(node)
        if (expanded.has(m.id)) setExpanded(node, true, nowMs)
        list.append(li)
      }
      const item = el(
        'li',
        { class: 'factory' },
        el('h2', { class: 'factory-name', text: f.name }),
        f.machines.length ? list : el('p', { class: 'muted', text: 'No machines yet' }),
      )
      factoryItems.push({ item, factory: f })
      return item
    })
    root.replaceChildren(
      items.length
        ? el('ul', { class: 'factory-list' }, items)
        : el('p', { class: 'muted', text: 'No factories yet' }),
    )
    markSelected()
    applyFilter()
  }

  function markSelected() {
    for (const [id, node] of machines) {
      if (id === selectedMachineId) node.open.setAttribute('aria-current', 'true')
      else node.open.removeAttribute('aria-current')
    }
  }

  function applyFilter() {
    const q = query.trim().toLowerCase()
    const has = (text) => text.toLowerCase().includes(q)
    for (const node of machines.values()) {
      const m = node.machine
      const visible =
        !q ||
        has(m.name) ||
        has(m.key) ||
        has(node.factoryName) ||
        m.sensors.some((s) => has(s.name) || has(s.key))
      node.li.hidden = !visible
    }
    for (const { item, factory } of factoryItems) {
      item.hidden = q !== '' && factory.machines.every((m) => machines.get(m.id).li.hidden)
    }
  }

  return {
    /** Applies a fresh overview: rebuilds only when machines or sensors were added, removed or renamed. */
    render(overview, nowMs) {
      for (const f of overview.factories)
        for (const m of f.machines)
          for (const s of m.sensors) {
            const known = latest.get(s.id)
            if (s.latest && (!known || known.tsMs < s.latest.tsMs)) latest.set(s.id, s.latest)
          }
      const next = structureKey(overview.factories)
      if (next !== key) {
        key = next
        rebuild(overview.factories, nowMs)
        return
      }
      for (const f of overview.factories)
        for (const m of f.machines) {
          const node = machines.get(m.id)
          node.machine = m
          paintMachine(node)
        }
      for (const row of rows.values()) paintSensor(row, nowMs)
    },
    /** New readings from the live stream. */
    update(readings, nowMs) {
      for (const r of readings) {
        const known = latest.get(r.sensorId)
        if (known && known.tsMs >= r.tsMs) continue
        latest.set(r.sensorId, { tsMs: r.tsMs, value: r.value })
        const row = rows.get(r.sensorId)
        if (row) paintSensor(row, nowMs)
      }
    },
    latestOf: (sensorId) => latest.get(sensorId) ?? null,
    setSelected(machineId) {
      selectedMachineId = machineId
      markSelected()
      const node = machines.get(machineId)
      if (node && !expanded.has(machineId)) setExpanded(node, true)
    },
    setCharted(ids) {
      charted = new Set(ids)
      for (const [id, row] of rows) row.toggle.setAttribute('aria-pressed', String(charted.has(id)))
    },
    setFilter(text) {
      query = text
      applyFilter()
    },
  }
}
