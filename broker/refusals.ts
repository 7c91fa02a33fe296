// Every reason the broker refuses a client, and how Aedes' own client errors map onto them.

/** Every refusal reason, as counted in factory_mqtt_refusals_total{reason} and listed in docs/errors.md. */
export const REFUSAL_REASONS = [
  'AUTH_CREDENTIALS_MISSING',
  'AUTH_CREDENTIALS_INVALID',
  'AUTH_CLIENT_ID_MISMATCH',
  'AUTH_CLIENT_ID_EMPTY',
  'ACL_TOPIC_NOT_OWNED',
  'ACL_TOPIC_RESERVED',
  'ACL_TOPIC_INVALID',
  'ACL_SUBSCRIBE_DENIED',
  'MQTT_PACKET_TOO_LARGE',
  'MQTT_PACKET_MALFORMED',
  'MQTT_PROTOCOL_VIOLATION',
  'MQTT_TOPIC_TOO_LONG',
  'MQTT_TOPIC_TOO_DEEP',
  'MQTT_CONNECTIONS_EXCEEDED',
  'MQTT_CONNECT_RATE_EXCEEDED',
  'MQTT_CONNECT_TIMEOUT',
  'MQTT_PUBLISH_RATE_EXCEEDED',
  'MQTT_INFLIGHT_EXCEEDED',
  'MQTT_QUEUE_LIMIT',
  'MQTT_DRAIN_TIMEOUT',
  'MQTT_SUBSCRIBER_TOO_SLOW',
  'MQTT_TLS_HANDSHAKE_FAILED',
] as const

export type RefusalReason = (typeof REFUSAL_REASONS)[number]

export interface RefusalDetail {
  clientId: string
  username?: string | undefined
  remoteAddress?: string | undefined
  topic?: string | undefined
}

/** Errors the broker raises itself carry this mark, so the client-error hook does not count them twice. */
const COUNTED = Symbol('refusal counted')

export function countedError<T extends Error>(error: T): T {
  return Object.assign(error, { [COUNTED]: true })
}

/** How the telemetry fan-out ends a subscriber whose queue went past its limit. */
export const SUBSCRIBER_QUEUE_FULL = 'subscriber queue full'

const EXACT: Record<string, RefusalReason | null> = {
  'Invalid protocol': 'MQTT_PROTOCOL_VIOLATION',
  'unacceptable protocol version': 'MQTT_PROTOCOL_VIOLATION',
  'identifier rejected': 'MQTT_PROTOCOL_VIOLATION',
  'topic has too many levels': 'MQTT_TOPIC_TOO_DEEP',
  'empty topic not allowed in PUBLISH': 'ACL_TOPIC_INVALID',
  '# is not allowed in PUBLISH': 'ACL_TOPIC_INVALID',
  '+ is not allowed in PUBLISH': 'ACL_TOPIC_INVALID',
  'drain timeout': 'MQTT_DRAIN_TIMEOUT',
  [SUBSCRIBER_QUEUE_FULL]: 'MQTT_SUBSCRIBER_TOO_SLOW',
  'Client queue limit reached': 'MQTT_QUEUE_LIMIT',
  'connect did not arrive in time': 'MQTT_CONNECT_TIMEOUT',
  // Ordinary ends of a connection, not refusals.
  'keep alive timeout': null,
  'connection closed': null,
  'packet received not valid': null,
}

/**
 * The refusal an Aedes client error stands for, or null for an ordinary disconnect. Errors with a system
 * `code` (ECONNRESET, EPIPE) are network events; any other unknown message comes from the packet parser.
 */
export function refusalForClientError(error: Error & { code?: unknown }): RefusalReason | null {
  if ((error as unknown as Record<symbol, unknown>)[COUNTED]) return null
  if (typeof error.code === 'string') return null
  const message = error.message
  if (Object.hasOwn(EXACT, message)) return EXACT[message] ?? null
  if (message.startsWith('maxInflightInbound exceeded')) return 'MQTT_INFLIGHT_EXCEEDED'
  if (/^[#+] is only allowed in|^impossible to .* empty topic/.test(message)) return 'ACL_TOPIC_INVALID'
  return 'MQTT_PACKET_MALFORMED'
}
