// Serves the API app over HTTP with @hono/node-server.
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import type { ApiApp } from './app.ts'

export interface HttpServer {
  port: number
  close(): Promise<void>
}

export function listen(app: ApiApp, host: string, port: number): Promise<HttpServer> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, (info: AddressInfo) => {
      resolve({
        port: info.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done())
            // Idle keep-alive sockets (SSE, dashboards) would otherwise hold shutdown open.
            if ('closeAllConnections' in server) server.closeAllConnections()
          }),
      })
    })
    server.once('error', reject)
  })
}
