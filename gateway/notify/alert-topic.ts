// Where alert changes go on MQTT: each machine's own alerts topic, which its devices may subscribe to.
import type { AlertTransition } from '../../db/index.ts'

export const alertTopic = (a: { factoryKey: string; machineKey: string }) =>
  `factories/${a.factoryKey}/machines/${a.machineKey}/alerts`

/** The JSON body sent on MQTT, SSE and webhooks alike. */
export const alertPayload = (t: AlertTransition): string => JSON.stringify(t)
