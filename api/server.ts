// Serves the API app over HTTP, or over HTTPS (TLS 1.2+) when a certificate is configured.
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import type { ApiApp } from './app.ts'

export interface HttpServer {
  port: number
  close(): Promise<void>
}

/** PEM certificate chain and private key for HTTPS. */
export interface HttpTls {
  cert: Buffer
  key: Buffer
}

export function listen(
  app: ApiApp,
  host: string,
  port: number,
  tls: HttpTls | null = null,
): Promise<HttpServer> {
  const secure = tls
    ? {
        createServer: createHttpsServer,
        serverOptions: { cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' as const },
      }
    : {}
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port, ...secure }, (info: AddressInfo) => {
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
