// Open alerts with severity, and acknowledge / clear actions for admin tokens; live via the alert stream.
import { apiGet, apiPost } from './api.js'
import { openEventStream } from './event-stream.js'
import { el, formatDateTime, formatValue } from './format.js'

/** Open alerts shown per state. */
const LIMIT = 200
const SEVERITY_ORDER = { critical: 0, major: 1, minor: 2, warning: 3, info: 4 }

/** The action routes as the server names them, e.g. /api/v1/alerts/{alertId}/acknowledge. */
function actionPath(paths, verbs) {
  const pattern = new RegExp(`^/api/v1/alerts/\\{\\w+\\}/(${verbs})$`)
  return paths.find((p) => pattern.test(p)) ?? null
}

export function createAlertsPanel(root, { capabilities, canWrite, sensorLabel, onCount }) {
  const status = el('p', { class: 'muted', role: 'status' })
  const body = el('tbody')
  const ackPath = actionPath(capabilities.paths, 'ack|acknowledge')
  const clearPath = actionPath(capabilities.paths, 'clear')
  let lastKey = ''
  let busy = false

  if (!capabilities.alerts) {
    root.replaceChildren(
      el('h2', { text: 'Alerts' }),
      el('p', { class: 'muted', text: 'This server has no alerts API.' }),
    )
    return { refresh() {}, start() {} }
  }

  root.replaceChildren(
    el('div', { class: 'panel-head' }, el('h2', { text: 'Open alerts' })),
    status,
    el(
      'div',
      { class: 'table-scroll' },
      el(
        'table',
        { class: 'alerts' },
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            ...['Severity', 'Opened', 'Sensor', 'Message', 'Value', 'State', canWrite ? 'Actions' : null]
              .filter(Boolean)
              .map((t) => el('th', { scope: 'col', text: t })),
          ),
        ),
        body,
      ),
    ),
  )

  async function act(path, alert, verb) {
    busy = true
    try {
      await apiPost(path.replace(/\{\w+\}/, String(alert.id)), {})
      lastKey = ''
      await refresh()
    } catch (error) {
      status.textContent = `Could not ${verb} alert ${alert.id}: ${error.message}`
    } finally {
      busy = false
    }
  }

  function actions(alert) {
    const label = `${sensorLabel(alert.sensorId)}: ${alert.message}`
    return el(
      'td',
      { class: 'actions' },
      ackPath && alert.state === 'active'
        ? el('button', {
            type: 'button',
            text: 'Acknowledge',
            'aria-label': `Acknowledge ${label}`,
            onclick: () => act(ackPath, alert, 'acknowledge'),
          })
        : null,
      clearPath
        ? el('button', {
            type: 'button',
            text: 'Clear',
            'aria-label': `Clear ${label}`,
            onclick: () => act(clearPath, alert, 'clear'),
          })
        : null,
    )
  }

  async function refresh() {
    if (busy) return
    try {
      const [active, acknowledged] = await Promise.all(
        ['active', 'acknowledged'].map((state) => apiGet(`/api/v1/alerts?state=${state}&limit=${LIMIT}`)),
      )
      const open = [...active.alerts, ...acknowledged.alerts].sort(
        (a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || b.openedMs - a.openedMs,
      )
      onCount(open.filter((a) => a.state === 'active').length)
      status.textContent = open.length ? '' : 'No open alerts.'
      const key = open.map((a) => `${a.id}:${a.state}:${a.lastTsMs}`).join(',')
      if (key === lastKey) return
      lastKey = key
      body.replaceChildren(
        ...open.map((a) =>
          el(
            'tr',
            { dataset: { alertId: a.id }, class: `alert-${a.state}` },
            el('td', {}, el('span', { class: `severity ${a.severity}`, text: a.severity })),
            el('td', { class: 'nowrap', text: formatDateTime(a.openedMs) }),
            el('td', { text: sensorLabel(a.sensorId) }),
            el('td', { text: a.message }),
            el('td', { class: 'num', text: formatValue(a.lastValue) }),
            el('td', {
              text: a.state,
              title: a.acknowledgedBy ? `acknowledged by ${a.acknowledgedBy}` : undefined,
            }),
            canWrite ? actions(a) : null,
          ),
        ),
      )
    } catch (error) {
      status.textContent = `Could not load alerts: ${error.message}`
    }
  }

  return {
    refresh,
    start() {
      refresh()
      if (capabilities.alertEvents) openEventStream('/api/v1/events/alerts', { '*': () => refresh() })
    },
  }
}
