// Reads a device's own telemetry PUBLISH frames straight from the socket's bytes, before mqtt-packet: its
// parser allocated ~1.6 KB per message under the 1,000-machine flood (a rest-arguments array for each of
// its ~14 disabled `debug` calls, a [buffer, offset] pair for each of bl's byte reads, a topic string),
// about 40% of the broker thread's allocation and so of its scavenges (performance.md, "Parsing").
// Every other frame, and any frame this reader is not sure of, goes to mqtt-packet unchanged.
import type { EventEmitter } from 'node:events'
import type { PublishPacket } from 'aedes'

/** The parts of an mqtt-packet Parser read here. */
export interface MqttParser extends EventEmitter {
  parse(buf: Buffer): number
  /** Bytes of a frame it has begun but not yet completed. */
  _list: { length: number }
  error: Error | null
  settings: { protocolVersion?: number }
}

/**
 * Offset just past the frame starting at `at`, or -1 when its fixed header is incomplete or its
 * remaining length malformed (more than four bytes; [MQTT-2.2.3]). It may lie beyond the buffer.
 */
export function frameEnd(buf: Uint8Array, at: number): number {
  let remaining = 0
  let multiplier = 1
  for (let i = at + 1; i < at + 5 && i < buf.length; i++) {
    const byte = buf[i]!
    remaining += (byte & 0x7f) * multiplier
    if ((byte & 0x80) === 0) return i + 1 + remaining
    multiplier *= 128
  }
  return -1
}

/**
 * The PUBLISH in the whole frame [at, end) as mqtt-packet would give it, when it is a QoS 0 or 1,
 * not retained publish on `topic`; otherwise null. `topic` must be the UTF-8 bytes of `topicName`.
 */
export function readTelemetry(
  buf: Buffer,
  at: number,
  end: number,
  topic: Uint8Array,
  topicName: string,
): PublishPacket | null {
  const header = buf[at]!
  // PUBLISH (type 3), RETAIN clear, QoS 0 or 1 (bit 2 clear); DUP may be set.
  if ((header & 0xf5) !== 0x30) return null
  const qos = (header >> 1) & 1
  let i = at + 2
  while (buf[i - 1]! & 0x80) i++
  const length = end - i
  const topicEnd = i + 2 + topic.length
  const payloadStart = topicEnd + 2 * qos
  if (payloadStart > end || ((buf[i]! << 8) | buf[i + 1]!) !== topic.length) return null
  for (let k = 0; k < topic.length; k++) if (buf[i + 2 + k] !== topic[k]) return null
  const packet = {
    cmd: 'publish',
    retain: false,
    qos,
    dup: (header & 0x08) !== 0,
    length,
    topic: topicName,
    payload: buf.subarray(payloadStart, end),
  } as PublishPacket
  if (qos === 1) packet.messageId = (buf[topicEnd]! << 8) | buf[topicEnd + 1]!
  return packet
}

/**
 * Makes `parser` hand the telemetry publishes on `topicName` to `onTelemetry` itself (not through its
 * 'packet' event: EventEmitter's emit builds an arguments array per call), frame by frame in arrival
 * order, and every other frame to mqtt-packet one whole frame at a time, so mqtt-packet is left holding
 * bytes only when a chunk ends inside a frame (it then parses until it holds none again). MQTT 5
 * (properties after the packet identifier) is left to mqtt-packet.
 */
export function readTelemetryFirst(
  parser: MqttParser,
  topicName: string,
  onTelemetry: (packet: PublishPacket) => void,
): void {
  const topic = Buffer.from(topicName, 'utf8')
  const parseFrames = parser.parse
  const parseChunk = (buf: Buffer): void => {
    if (parser._list.length > 0 || parser.error || parser.settings.protocolVersion === 5) {
      parseFrames.call(parser, buf)
      return
    }
    let at = 0
    while (at < buf.length) {
      const end = frameEnd(buf, at)
      if (end < 0 || end > buf.length) {
        parseFrames.call(parser, at === 0 ? buf : buf.subarray(at))
        return
      }
      const packet = readTelemetry(buf, at, end, topic, topicName)
      if (packet) onTelemetry(packet)
      else {
        parseFrames.call(parser, buf.subarray(at, end))
        if (parser.error) return
      }
      at = end
    }
  }
  // Should a packet's handler feed the parser before the chunk is through (Aedes does not: mqtt-packet
  // would emit its current packet again), that chunk waits for the end of this one, in arrival order.
  let parsing = false
  const later: Buffer[] = []
  parser.parse = (buf: Buffer): number => {
    if (parsing) {
      later.push(buf)
      return 0
    }
    parsing = true
    try {
      parseChunk(buf)
      for (let next = later.shift(); next; next = later.shift()) parseChunk(next)
    } finally {
      parsing = false
      later.length = 0
    }
    return parser._list.length
  }
}
