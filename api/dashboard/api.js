// HTTP access for the dashboard: the bearer token lives in sessionStorage; error bodies become ApiRequestError.
const TOKEN_KEY = 'factory-monitor.token'

export class ApiRequestError extends Error {
  constructor(status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

export const getToken = () => sessionStorage.getItem(TOKEN_KEY)
export const setToken = (token) => sessionStorage.setItem(TOKEN_KEY, token)
export const clearToken = () => sessionStorage.removeItem(TOKEN_KEY)

/** Fired on window when the server refuses the token, so the page can return to the sign-in form. */
export const AUTH_LOST_EVENT = 'factory-monitor:auth-lost'

export function authHeaders(token = getToken()) {
  return token ? { authorization: `Bearer ${token}` } : {}
}

export async function request(method, path, { body, token, signal } = {}) {
  const headers = authHeaders(token ?? getToken())
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
    cache: 'no-store',
  })
  if (res.status === 204) return null
  const text = await res.text()
  let parsed = null
  try {
    parsed = text ? JSON.parse(text) : null
  } catch {
    parsed = null
  }
  if (!res.ok) {
    const error = parsed?.error
    if (res.status === 401 && token === undefined) window.dispatchEvent(new Event(AUTH_LOST_EVENT))
    throw new ApiRequestError(res.status, error?.code ?? 'HTTP_ERROR', error?.message ?? `HTTP ${res.status}`)
  }
  return parsed ?? text
}

export const apiGet = (path, options) => request('GET', path, options)
export const apiPost = (path, body, options) => request('POST', path, { ...options, body })
