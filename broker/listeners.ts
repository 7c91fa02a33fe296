// The broker's network listeners: MQTT over TCP or TLS (1.2+), and optionally MQTT over WebSockets.
import { createServer as createHttpServer, type Server as HttpServer, type IncomingMessage } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { createServer as createTcpServer, type Server, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { createServer as createTlsServer, type TLSSocket } from 'node:tls'
import { createWebSocketStream, WebSocketServer } from 'ws'

export interface TlsMaterial {
  cert: Buffer
  key: Buffer
}

export interface ListenerOptions {
  host: string
  port: number
  /** When set, the MQTT port speaks TLS only, and the WebSocket port serves wss://. */
  tls: TlsMaterial | null
  /** null: no WebSocket listener. */
  wsPort: number | null
  maxPacketBytes: number
  onConnection(stream: Duplex, remoteAddress: string, req?: IncomingMessage): void
  onTlsError(error: Error): void
}

export interface Listeners {
  port: number
  wsPort: number | null
  close(): Promise<void>
}

// Older protocol versions have known weaknesses; devices that cannot speak TLS 1.2 must be upgraded.
const TLS_MIN_VERSION = 'TLSv1.2'

function listen(server: Server | HttpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      const address = server.address()
      resolve(typeof address === 'object' && address ? address.port : port)
    })
  })
}

export async function startListeners(options: ListenerOptions): Promise<Listeners> {
  const onSocket = (socket: Socket | TLSSocket) => {
    socket.setNoDelay(true)
    options.onConnection(socket, socket.remoteAddress ?? '')
  }
  const tls = options.tls
  const mqttServer: Server = tls
    ? createTlsServer({ cert: tls.cert, key: tls.key, minVersion: TLS_MIN_VERSION }, onSocket)
    : createTcpServer(onSocket)
  if (tls) mqttServer.on('tlsClientError', (error: Error) => options.onTlsError(error))
  const port = await listen(mqttServer, options.port, options.host)

  let wsServer: HttpServer | null = null
  let wss: WebSocketServer | null = null
  let wsPort: number | null = null
  if (options.wsPort !== null) {
    wsServer = tls
      ? createHttpsServer({ cert: tls.cert, key: tls.key, minVersion: TLS_MIN_VERSION })
      : createHttpServer()
    if (tls) wsServer.on('tlsClientError', (error: Error) => options.onTlsError(error))
    // A WebSocket message may carry several MQTT packets; the frame guard still checks each one.
    wss = new WebSocketServer({ server: wsServer, maxPayload: options.maxPacketBytes + 8 })
    wss.on('connection', (socket, req) => {
      const stream = createWebSocketStream(socket)
      // ws reports protocol errors on the socket; the stream is destroyed with them, so nothing is thrown.
      socket.on('error', () => stream.destroy())
      options.onConnection(stream, req.socket.remoteAddress ?? '', req)
    })
    wsPort = await listen(wsServer, options.wsPort, options.host)
  }

  return {
    port,
    wsPort,
    async close() {
      const closed = [new Promise<void>((resolve) => mqttServer.close(() => resolve()))]
      if (wss && wsServer) {
        for (const client of wss.clients) client.terminate()
        wss.close()
        const server = wsServer
        closed.push(new Promise<void>((resolve) => server.close(() => resolve())))
        server.closeAllConnections()
      }
      await Promise.all(closed)
    },
  }
}
