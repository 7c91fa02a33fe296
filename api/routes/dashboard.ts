// Serves the web dashboard: its static files from api/dashboard/ and uPlot from node_modules (no CDN).
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Context } from 'hono'
import type { ApiApp } from '../app.ts'

const require = createRequire(import.meta.url)
const DASHBOARD_DIR = fileURLToPath(new URL('../dashboard/', import.meta.url))
const UPLOT_DIR = path.join(path.dirname(require.resolve('uplot/package.json')), 'dist')
const VENDOR: Record<string, string> = {
  'vendor/uPlot.esm.js': path.join(UPLOT_DIR, 'uPlot.esm.js'),
  'vendor/uPlot.min.css': path.join(UPLOT_DIR, 'uPlot.min.css'),
}
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
}

// The page talks only to this origin; uPlot sets element styles, hence 'unsafe-inline' for styles only.
const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
}

interface Asset {
  type: string
  body: Buffer
  etag: string
}

function asset(file: string): Asset {
  const body = readFileSync(file)
  const etag = `"${createHash('sha1').update(body).digest('base64url').slice(0, 20)}"`
  return { type: TYPES[path.extname(file)] ?? 'application/octet-stream', body, etag }
}

/** Every servable file, read once at start: requests can only ever reach these names. */
function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>()
  for (const entry of readdirSync(DASHBOARD_DIR, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !(path.extname(entry.name) in TYPES)) continue
    const file = path.join(entry.parentPath, entry.name)
    assets.set(path.relative(DASHBOARD_DIR, file).split(path.sep).join('/'), asset(file))
  }
  for (const [name, file] of Object.entries(VENDOR)) assets.set(name, asset(file))
  return assets
}

export function registerDashboardRoutes(app: ApiApp): void {
  const assets = loadAssets()

  const serve = (c: Context, name: string) => {
    const found = assets.get(name)
    if (!found) return c.notFound()
    // Revalidate every time (cheap with the ETag) so a new version shows up on the next load.
    const headers = { ...SECURITY_HEADERS, ETag: found.etag, 'Cache-Control': 'no-cache' }
    if (c.req.header('if-none-match') === found.etag) return c.body(null, 304, headers)
    return c.body(new Uint8Array(found.body), 200, { ...headers, 'Content-Type': found.type })
  }

  app.get('/', (c) => c.redirect('/dashboard/', 302))
  app.get('/dashboard', (c) => c.redirect('/dashboard/', 302))
  app.get('/dashboard/', (c) => serve(c, 'index.html'))
  app.get('/dashboard/*', (c) => serve(c, c.req.path.slice('/dashboard/'.length)))
}
