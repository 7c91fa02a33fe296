// Encodes MQTT 3.1/3.1.1 PUBLISH packets (no DUP, no RETAIN) in one pass, into a caller's buffer, instead of
// mqtt-packet's field-by-field stream writes.

/** Bytes of the remaining-length field for a value (1–4; [MQTT-2.2.3]). */
function lengthBytes(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4
}

const remainingLength = (topic: Buffer, payload: Buffer, qos: 0 | 1) =>
  2 + topic.length + (qos > 0 ? 2 : 0) + payload.length

/** Size of the whole PUBLISH frame. */
export function publishFrameBytes(topic: Buffer, payload: Buffer, qos: 0 | 1): number {
  const remaining = remainingLength(topic, payload, qos)
  return 1 + lengthBytes(remaining) + remaining
}

/**
 * Writes a PUBLISH frame at `at` (room for publishFrameBytes must be there) and returns the offset after it.
 * `topic` is the UTF-8 topic name; `messageId` is ignored at QoS 0.
 */
export function writePublish(
  frame: Buffer,
  at: number,
  topic: Buffer,
  payload: Buffer,
  qos: 0 | 1,
  messageId: number,
): number {
  frame[at++] = 0x30 | (qos << 1)
  let n = remainingLength(topic, payload, qos)
  do {
    const digit = n % 128
    n = Math.floor(n / 128)
    frame[at++] = n > 0 ? digit | 0x80 : digit
  } while (n > 0)
  frame.writeUInt16BE(topic.length, at)
  at += 2 + topic.copy(frame, at + 2)
  if (qos > 0) {
    frame.writeUInt16BE(messageId, at)
    at += 2
  }
  return at + payload.copy(frame, at)
}
