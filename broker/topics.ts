// Topic layout and the access rules devices are held to. Documented in docs/protocol.md.

export interface MachineAddress {
  factoryKey: string
  machineKey: string
}

export const machineTopicRoot = (a: MachineAddress) => `factories/${a.factoryKey}/machines/${a.machineKey}`
export const telemetryTopic = (a: MachineAddress) => `${machineTopicRoot(a)}/telemetry`
export const statusTopic = (a: MachineAddress) => `${machineTopicRoot(a)}/status`

export type PublishDenial = 'ACL_TOPIC_NOT_OWNED' | 'ACL_TOPIC_RESERVED' | 'ACL_TOPIC_INVALID'
export type PublishKind = 'telemetry' | 'status' | 'other-own'

// C0 controls, DEL and C1 controls are never valid in a device topic. [MQTT-4.7.3-2] forbids U+0000 outright.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/

export function classifyPublish(topic: string, device: MachineAddress): PublishKind | PublishDenial {
  if (topic.startsWith('$')) return 'ACL_TOPIC_RESERVED'
  if (CONTROL.test(topic) || topic.includes('+') || topic.includes('#')) return 'ACL_TOPIC_INVALID'
  if (topic === telemetryTopic(device)) return 'telemetry'
  if (topic === statusTopic(device)) return 'status'
  return 'ACL_TOPIC_NOT_OWNED'
}

/** A device may subscribe only below its own machine's root, without wildcards above it. */
export function canSubscribe(topic: string, device: MachineAddress): boolean {
  if (CONTROL.test(topic)) return false
  const root = machineTopicRoot(device)
  return topic === root || topic.startsWith(`${root}/`)
}
