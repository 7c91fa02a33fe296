// Recent rejected readings and messages with their reason, machine, detail and payload.
import { apiGet } from './api.js'
import { el, formatDateTime } from './format.js'

const LIMIT = 50
const PAYLOAD_PREVIEW_CHARS = 120

export function createRejectsPanel(root, { machineName }) {
  const status = el('p', { class: 'muted', role: 'status' })
  const body = el('tbody')
  const reason = el('input', {
    id: 'rejects-reason',
    type: 'search',
    placeholder: 'e.g. READING_VALUE_OUT_OF_RANGE',
    autocomplete: 'off',
    spellcheck: false,
  })
  let lastKey = ''

  root.replaceChildren(
    el(
      'div',
      { class: 'panel-head' },
      el('h2', { text: 'Recent rejects' }),
      el('label', { for: 'rejects-reason', text: 'Reason' }),
      reason,
      el('button', { type: 'button', text: 'Refresh', onclick: () => refresh() }),
    ),
    status,
    el(
      'div',
      { class: 'table-scroll' },
      el(
        'table',
        { class: 'rejects' },
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            ...['Received', 'Machine', 'Sensor', 'Reason', 'Detail', 'Payload'].map((t) =>
              el('th', { scope: 'col', text: t }),
            ),
          ),
        ),
        body,
      ),
    ),
  )

  async function refresh() {
    const filter = reason.value.trim().toUpperCase()
    const query = /^[A-Z_]{1,64}$/.test(filter) ? `&reason=${filter}` : ''
    try {
      const { rejects } = await apiGet(`/api/v1/rejects?limit=${LIMIT}${query}`)
      const key = `${filter}:${rejects.map((r) => r.id).join(',')}`
      status.textContent = rejects.length
        ? rejects.length === 1
          ? 'The latest reject.'
          : `The latest ${rejects.length} rejects, newest first.`
        : 'No rejects. Every reading so far was accepted.'
      if (key === lastKey) return
      lastKey = key
      body.replaceChildren(
        ...rejects.map((r) => {
          const payload =
            r.payload.length > PAYLOAD_PREVIEW_CHARS
              ? `${r.payload.slice(0, PAYLOAD_PREVIEW_CHARS)}…`
              : r.payload
          return el(
            'tr',
            { dataset: { rejectId: r.id } },
            el('td', { class: 'nowrap', text: formatDateTime(r.receivedMs) }),
            el('td', { text: r.machineId === null ? r.clientId : machineName(r.machineId) }),
            el('td', { text: r.sensorKey ?? '–' }),
            el('td', {}, el('code', { class: 'reason', text: r.reason })),
            el('td', { text: r.detail }),
            el('td', {}, el('code', { class: 'payload', text: payload, title: r.payloadEncoding })),
          )
        }),
      )
    } catch (error) {
      status.textContent = `Could not load rejects: ${error.message}`
    }
  }

  reason.addEventListener('change', () => refresh())
  return { refresh }
}
