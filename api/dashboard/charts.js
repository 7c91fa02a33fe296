// uPlot charts of chosen sensors: a sliding live window fed by the event stream, or bucketed history.

import { el, formatValue } from './format.js'
import uPlot from './vendor/uPlot.esm.js'

export const MAX_CHARTS = 10
const CHART_HEIGHT_PX = 190
const COLORS = ['#2563eb', '#0d9488', '#c2410c', '#7c3aed', '#be123c', '#4d7c0f', '#0369a1', '#a16207']
const ANOMALY_COLOR = '#dc2626'

/** The ranges the picker offers; `live` charts stream, the others show history in buckets. */
export const RANGES = [
  { id: 'live', label: 'Live 15 min', spanMs: 15 * 60_000, live: true },
  { id: '1h', label: '1 h', spanMs: 3_600_000 },
  { id: '6h', label: '6 h', spanMs: 6 * 3_600_000 },
  { id: '24h', label: '24 h', spanMs: 86_400_000 },
  { id: '7d', label: '7 d', spanMs: 7 * 86_400_000 },
]

/** Draws anomaly markers over the plot; anomalies are kept on the chart object, in ms. */
function anomalyPlugin(chart) {
  return {
    hooks: {
      draw: (u) => {
        if (!chart.anomalies.length) return
        const { ctx } = u
        const r = 4 * devicePixelRatio
        ctx.save()
        ctx.strokeStyle = ANOMALY_COLOR
        ctx.lineWidth = 2 * devicePixelRatio
        for (const a of chart.anomalies) {
          const x = u.valToPos(a.tsMs / 1000, 'x', true)
          const y = u.valToPos(a.value, 'y', true)
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue
          ctx.beginPath()
          ctx.arc(x, y, r, 0, 2 * Math.PI)
          ctx.stroke()
        }
        ctx.restore()
      },
    },
  }
}

/**
 * `loadHistory(sensor, range, nowMs)` resolves { xsMs, ys } for live or { xsMs, avg, min, max, note } for
 * history; `loadAnomalies(sensor, fromMs, toMs)` resolves [{ tsMs, value }] or null when not available.
 */
export function createCharts(root, { loadHistory, loadAnomalies, onRemove, onChange }) {
  const charts = new Map()
  let range = RANGES[0]
  let frameRequested = false
  let width = 0

  const empty = el('p', {
    class: 'muted placeholder',
    text: 'No charts yet. Press a sensor’s chart button (in the tree or the machine table) to chart it.',
  })
  root.replaceChildren(empty)

  function plotWidth() {
    const style = getComputedStyle(root)
    const columns = style.gridTemplateColumns.split(' ').filter(Boolean).length || 1
    const gap = Number.parseFloat(style.columnGap) || 0
    return Math.max(240, Math.floor((root.clientWidth - gap * (columns - 1)) / columns) - 24)
  }

  function options(chart, color) {
    const series = range.live
      ? [{}, { label: chart.title, stroke: color, width: 1.5, points: { show: false } }]
      : [
          {},
          { label: 'avg', stroke: color, width: 1.5, points: { show: false } },
          { label: 'min', stroke: `${color}66`, width: 1, points: { show: false } },
          { label: 'max', stroke: `${color}66`, width: 1, points: { show: false } },
        ]
    return {
      width: plotWidth(),
      height: CHART_HEIGHT_PX,
      series,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: {
          time: true,
          // The whole chosen range stays in view, however little of it has data.
          range: () => {
            const toMs = range.live ? Date.now() : chart.toMs
            return [(toMs - range.spanMs) / 1000, toMs / 1000]
          },
        },
      },
      axes: [{ size: 30 }, { size: 56 }],
      bands: range.live ? [] : [{ series: [3, 2], fill: `${color}22` }],
      plugins: [anomalyPlugin(chart)],
    }
  }

  function data(chart) {
    const xs = chart.xsMs.map((ms) => ms / 1000)
    return range.live ? [xs, chart.ys] : [xs, chart.avg, chart.min, chart.max]
  }

  function mount(chart) {
    chart.plot?.destroy()
    chart.plotBox.replaceChildren()
    chart.plot = new uPlot(options(chart, chart.color), data(chart), chart.plotBox)
  }

  function requestFrame() {
    if (frameRequested) return
    frameRequested = true
    requestAnimationFrame(() => {
      frameRequested = false
      for (const chart of charts.values()) {
        if (!chart.dirty || !chart.plot) continue
        chart.dirty = false
        chart.plot.setData(data(chart))
      }
    })
  }

  async function load(chart) {
    const token = ++chart.loadToken
    const nowMs = Date.now()
    chart.note.textContent = 'Loading…'
    chart.card.dataset.loading = 'true'
    try {
      const history = await loadHistory(chart.sensor, range, nowMs)
      if (token !== chart.loadToken || !charts.has(chart.sensor.id)) return
      chart.toMs = nowMs
      chart.xsMs = history.xsMs
      chart.ys = history.ys ?? []
      chart.avg = history.avg ?? []
      chart.min = history.min ?? []
      chart.max = history.max ?? []
      chart.anomalies = []
      chart.note.textContent = history.note ?? ''
      mount(chart)
      paintLast(chart)
      const anomalies = await loadAnomalies(chart.sensor, nowMs - range.spanMs, nowMs)
      if (token !== chart.loadToken || !anomalies) return
      chart.anomalies = anomalies
      chart.anomalyCount.textContent = anomalies.length
        ? `${anomalies.length} anomal${anomalies.length === 1 ? 'y' : 'ies'}`
        : ''
      chart.plot.redraw(false, false)
    } catch (error) {
      if (token === chart.loadToken) chart.note.textContent = `Could not load: ${error.message}`
    } finally {
      if (token === chart.loadToken) delete chart.card.dataset.loading
    }
  }

  function paintLast(chart) {
    const last = range.live ? chart.ys.at(-1) : chart.avg.at(-1)
    chart.last.textContent = last === undefined ? '–' : formatValue(last)
  }

  function resizeAll() {
    const next = plotWidth()
    if (next === width) return
    width = next
    for (const chart of charts.values()) chart.plot?.setSize({ width, height: CHART_HEIGHT_PX })
  }
  new ResizeObserver(() => requestAnimationFrame(resizeAll)).observe(root)

  return {
    ids: () => [...charts.keys()],
    has: (sensorId) => charts.has(sensorId),
    range: () => range,

    add(sensor, title, unit) {
      if (charts.has(sensor.id) || charts.size >= MAX_CHARTS) return false
      const color = COLORS[charts.size % COLORS.length]
      const chart = {
        sensor,
        title,
        color,
        xsMs: [],
        ys: [],
        avg: [],
        min: [],
        max: [],
        anomalies: [],
        toMs: Date.now(),
        dirty: false,
        plot: null,
        loadToken: 0,
        plotBox: el('div', { class: 'plot' }),
        note: el('p', { class: 'chart-note muted', role: 'status' }),
        last: el('span', { class: 'last-value', text: '–' }),
        anomalyCount: el('span', { class: 'anomaly-count' }),
      }
      chart.card = el(
        'article',
        { class: 'chart-card', 'aria-label': `Chart of ${title}`, dataset: { sensorId: sensor.id } },
        el(
          'header',
          {},
          el('h3', {}, title, unit ? el('span', { class: 'muted', text: ` (${unit})` }) : null),
          chart.anomalyCount,
          chart.last,
          el('button', {
            type: 'button',
            class: 'icon',
            'aria-label': `Remove chart of ${title}`,
            title: 'Remove chart',
            text: '×',
            onclick: () => onRemove(sensor.id),
          }),
        ),
        chart.plotBox,
        chart.note,
      )
      charts.set(sensor.id, chart)
      if (charts.size === 1) root.replaceChildren()
      root.append(chart.card)
      mount(chart)
      load(chart)
      onChange()
      return true
    },

    remove(sensorId) {
      const chart = charts.get(sensorId)
      if (!chart) return
      charts.delete(sensorId)
      chart.plot?.destroy()
      chart.card.remove()
      if (charts.size === 0) root.replaceChildren(empty)
      onChange()
    },

    clear() {
      for (const id of [...charts.keys()]) this.remove(id)
    },

    setRange(id) {
      const next = RANGES.find((r) => r.id === id)
      if (!next || next === range) return
      range = next
      for (const chart of charts.values()) load(chart)
      onChange()
    },

    /** Reloads history (long ranges) so it does not go stale; the live range needs no reload. */
    refreshHistory() {
      if (range.live) return
      for (const chart of charts.values()) load(chart)
    },

    /** New readings from the live stream: appended to live charts, drawn on the next animation frame. */
    push(readings, nowMs) {
      if (!range.live) return
      const oldestMs = nowMs - range.spanMs
      for (const r of readings) {
        const chart = charts.get(r.sensorId)
        if (!chart || chart.loadToken === 0) continue
        const lastMs = chart.xsMs.at(-1)
        if (lastMs !== undefined && r.tsMs <= lastMs) continue
        chart.xsMs.push(r.tsMs)
        chart.ys.push(r.value)
        let drop = 0
        while (drop < chart.xsMs.length && chart.xsMs[drop] < oldestMs) drop++
        if (drop > 0) {
          chart.xsMs.splice(0, drop)
          chart.ys.splice(0, drop)
        }
        chart.dirty = true
        paintLast(chart)
      }
      requestFrame()
    },
  }
}
