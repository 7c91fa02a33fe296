// Encodes one MQTT 3.1/3.1.1 PUBLISH packet (no DUP, no RETAIN) into a single buffer: the frame a subscriber
// is sent, built in one pass instead of mqtt-packet's field-by-field stream writes.

/** Bytes of the remaining-length field for a value (1–4; [MQTT-2.2.3]). */
function lengthBytes(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4
}

/** A PUBLISH frame; `topic` is the UTF-8 topic name, `messageId` is ignored at QoS 0. */
export function encodePublish(topic: Buffer, payload: Buffer, qos: 0 | 1, messageId: number): Buffer {
  const remaining = 2 + topic.length + (qos > 0 ? 2 : 0) + payload.length
  const frame = Buffer.allocUnsafe(1 + lengthBytes(remaining) + remaining)
  let at = 0
  frame[at++] = 0x30 | (qos << 1)
  let n = remaining
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
  payload.copy(frame, at)
  return frame
}
