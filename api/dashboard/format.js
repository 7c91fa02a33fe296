// Number, time and age formatting shared by every dashboard view.
const valueFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 })
const bigValueFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 })
const rateFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 })

export function formatValue(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–'
  return Math.abs(value) >= 100_000 ? bigValueFormat.format(value) : valueFormat.format(value)
}

export const formatRate = (perSecond) => (perSecond === null ? '–' : `${rateFormat.format(perSecond)}/s`)
export const formatCount = (n) => bigValueFormat.format(n)

export function formatAge(ageMs) {
  if (ageMs === null || ageMs === undefined) return 'never'
  const s = Math.max(0, Math.round(ageMs / 1000))
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`
  return `${Math.floor(s / 86_400)} d ago`
}

export const formatTime = (ms) => new Date(ms).toLocaleTimeString()
export const formatDateTime = (ms) => new Date(ms).toLocaleString()

/** Creates an element with properties and children; text is always set as text, never parsed as HTML. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag)
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue
    if (key === 'class') node.className = value
    else if (key === 'text') node.textContent = value
    else if (key === 'dataset') Object.assign(node.dataset, value)
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value)
    else if (key in node && !key.includes('-')) node[key] = value
    else node.setAttribute(key, value === true ? '' : String(value))
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue
    node.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
  return node
}
