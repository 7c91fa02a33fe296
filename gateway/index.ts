// The gateway area: group-committing ingest into the writer thread.
export { INGEST_ERROR_CODES, IngestError } from './errors.ts'
export { createGateway, type Gateway, type GatewayOptions } from './gateway.ts'
export type { BatchDone } from './writer-protocol.ts'
