// The HTTP API area.
export { type ApiApp, type ApiOptions, createApp } from './app.ts'
export type { AlertingApi } from './routes/alerts.ts'
export type { HealthReport } from './routes/system.ts'
export { type HttpServer, listen } from './server.ts'
