// The gateway area: group-committing ingest into the writer thread.
export {
  createGateway,
  type Gateway,
  type GatewayOptions,
  IngestError,
  type IngestMessage,
} from './gateway.ts'
export type { BatchDone } from './writer-protocol.ts'
