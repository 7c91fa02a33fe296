// The OpenAPI 3.1 document and an API docs page served entirely from local files (no internet needed).
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import type { ApiApp } from '../app.ts'

const require = createRequire(import.meta.url)
const SWAGGER_DIR = path.dirname(require.resolve('swagger-ui-dist/package.json'))
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>factory-monitor API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="docs"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>
    // validatorUrl null: never contact the public validator service.
    window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#docs', validatorUrl: null, persistAuthorization: false })
  </script>
</body>
</html>`

export function registerDocsRoutes(app: ApiApp): void {
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'factory-monitor API',
      version: '1',
      description:
        'Factories, machines, sensors, device credentials, readings and rejects. Every /api route needs ' +
        '`Authorization: Bearer <token>`; errors are `{ "error": { "code", "message", "field"? } }`.',
    },
  })

  const assets = new Map(
    Object.entries(ASSETS).map(([file, type]) => [
      file,
      { type, body: readFileSync(path.join(SWAGGER_DIR, file)) },
    ]),
  )
  app.get('/docs', (c) => c.html(PAGE))
  app.get('/docs/:asset', (c) => {
    const asset = assets.get(c.req.param('asset'))
    if (!asset) return c.notFound()
    return c.body(asset.body, 200, { 'Content-Type': asset.type, 'Cache-Control': 'public, max-age=86400' })
  })
}
