// The opened machine: its status and a table of its sensors with live values, freshness and chart toggles.
import { el, formatAge, formatDateTime, formatValue } from './format.js'
import { freshnessOf } from './tree.js'

export function createMachinePanel(root, { onToggleChart, onChartSensors, maxCharts }) {
  let machine = null
  let charted = new Set()
  /** sensorId → { sensor, latest, value, age, state, toggle } */
  const rows = new Map()
  const header = {}

  root.replaceChildren(
    el(
      'p',
      { class: 'muted placeholder' },
      'Choose a machine on the left to see its sensors live. Press a sensor’s chart button to chart it.',
    ),
  )

  function paintRow(row, nowMs) {
    const latest = row.latest
    const value = latest ? formatValue(latest.value) : '–'
    if (row.value.textContent !== value) row.value.textContent = value
    const age = latest ? formatAge(nowMs - latest.tsMs) : 'never'
    if (row.age.textContent !== age) row.age.textContent = age
    const state = freshnessOf(row.sensor, latest, nowMs)
    if (row.state.textContent !== state) {
      row.state.textContent = state
      row.state.className = `freshness ${state}`
    }
  }

  function paintHeader() {
    header.status.className = `status ${machine.status}`
    header.status.textContent = machine.status
    header.since.textContent = machine.statusSinceMs ? `since ${formatDateTime(machine.statusSinceMs)}` : ''
  }

  return {
    machineId: () => machine?.id ?? null,
    sensorIds: () => (machine ? machine.sensors.map((s) => s.id) : []),

    show(next, factoryName, latestOf, nowMs) {
      machine = next
      rows.clear()
      header.status = el('span')
      header.since = el('span', { class: 'muted' })
      const body = el('tbody')
      for (const sensor of machine.sensors) {
        const toggle = el('button', {
          type: 'button',
          class: 'chart-toggle',
          'aria-pressed': String(charted.has(sensor.id)),
          'aria-label': `Chart ${sensor.name}`,
          title: 'Show on a chart',
          onclick: () => onToggleChart(sensor.id),
        })
        const row = {
          sensor,
          latest: latestOf(sensor.id),
          value: el('td', { class: 'num value' }),
          age: el('td', { class: 'age' }),
          state: el('span'),
          toggle,
        }
        rows.set(sensor.id, row)
        paintRow(row, nowMs)
        body.append(
          el(
            'tr',
            { dataset: { sensorId: sensor.id } },
            el('td', {}, toggle),
            el('th', { scope: 'row', title: sensor.key, text: sensor.name }),
            row.value,
            el('td', { class: 'unit', text: sensor.unit }),
            row.age,
            el('td', {}, row.state),
          ),
        )
      }
      const chartAll = el('button', {
        type: 'button',
        text: `Chart ${Math.min(machine.sensors.length, maxCharts)} sensors`,
        disabled: machine.sensors.length === 0,
        onclick: () => onChartSensors(machine.sensors.slice(0, maxCharts).map((s) => s.id)),
      })
      root.replaceChildren(
        el(
          'div',
          { class: 'machine-head' },
          el(
            'h2',
            { id: 'machine-title' },
            machine.name,
            el('span', { class: 'muted', text: ` · ${factoryName}` }),
          ),
          header.status,
          header.since,
          el('span', { class: 'spacer' }),
          chartAll,
        ),
        machine.sensors.length === 0
          ? el('p', { class: 'muted', text: 'This machine has no sensors yet.' })
          : el(
              'div',
              { class: 'table-scroll' },
              el(
                'table',
                { class: 'sensors', 'aria-labelledby': 'machine-title' },
                el(
                  'thead',
                  {},
                  el(
                    'tr',
                    {},
                    el('th', { scope: 'col' }, el('span', { class: 'visually-hidden', text: 'Chart' })),
                    el('th', { scope: 'col', text: 'Sensor' }),
                    el('th', { scope: 'col', class: 'num', text: 'Value' }),
                    el('th', { scope: 'col', text: 'Unit' }),
                    el('th', { scope: 'col', text: 'Updated' }),
                    el('th', { scope: 'col', text: 'Freshness' }),
                  ),
                ),
                body,
              ),
            ),
      )
      paintHeader()
    },

    /** A fresh overview: machine status may have changed. */
    refresh(next) {
      if (!machine || next.id !== machine.id) return
      machine = { ...machine, status: next.status, statusSinceMs: next.statusSinceMs }
      paintHeader()
    },

    update(readings, nowMs) {
      for (const r of readings) {
        const row = rows.get(r.sensorId)
        if (!row || (row.latest && row.latest.tsMs >= r.tsMs)) continue
        row.latest = { tsMs: r.tsMs, value: r.value }
        paintRow(row, nowMs)
      }
    },

    tick(nowMs) {
      for (const row of rows.values()) paintRow(row, nowMs)
    },

    setCharted(ids) {
      charted = new Set(ids)
      for (const [id, row] of rows) row.toggle.setAttribute('aria-pressed', String(charted.has(id)))
    },
  }
}
