// Server-sent events read with fetch (EventSource cannot send the Authorization header), with reconnects.
import { AUTH_LOST_EVENT, authHeaders } from './api.js'

const DEFAULT_RETRY_MS = 2000

/** Splits an SSE byte stream into { event, data } messages; comments and unknown fields are ignored. */
export function createSseParser(onMessage, onRetry) {
  let buffer = ''
  return (chunk) => {
    buffer += chunk
    let end = buffer.search(/\r?\n\r?\n/)
    while (end !== -1) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '')
      let event = 'message'
      const data = []
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith(':')) continue
        const colon = line.indexOf(':')
        const field = colon === -1 ? line : line.slice(0, colon)
        const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
        if (field === 'event') event = value
        else if (field === 'data') data.push(value)
        else if (field === 'retry' && /^\d+$/.test(value)) onRetry(Number(value))
      }
      if (data.length > 0) onMessage({ event, data: data.join('\n') })
      end = buffer.search(/\r?\n\r?\n/)
    }
  }
}

/**
 * Opens `url` as an event stream and calls `handlers[event](parsedJson)` (or `handlers['*']`); reconnects
 * after a drop.
 * `onState` hears 'connecting' | 'open' | 'closed'. Returns { close }.
 */
export function openEventStream(url, handlers, onState = () => {}) {
  const abort = new AbortController()
  let retryMs = DEFAULT_RETRY_MS
  let retryTimer = null

  const parser = createSseParser(
    ({ event, data }) => {
      const handler = handlers[event] ?? handlers['*']
      if (!handler) return
      try {
        handler(JSON.parse(data))
      } catch (error) {
        console.warn(`bad ${event} event`, error)
      }
    },
    (ms) => {
      retryMs = ms
    },
  )

  async function connect() {
    onState('connecting')
    try {
      const res = await fetch(url, { headers: authHeaders(), signal: abort.signal, cache: 'no-store' })
      if (res.status === 401) {
        window.dispatchEvent(new Event(AUTH_LOST_EVENT))
        return
      }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`)
      onState('open')
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        parser(value)
      }
    } catch (error) {
      if (abort.signal.aborted) return
      console.info('event stream dropped; reconnecting', error?.message)
    }
    if (abort.signal.aborted) return
    onState('connecting')
    retryTimer = setTimeout(connect, retryMs)
  }

  connect()
  return {
    close() {
      clearTimeout(retryTimer)
      abort.abort()
      onState('closed')
    },
  }
}
