// Caps MQTT packet size before Aedes buffers anything: scans fixed headers as bytes are read off the socket
// and destroys the connection as soon as a declared remaining length exceeds the limit.
import type { Duplex } from 'node:stream'

const EXPECT_HEADER = 0
const READ_LENGTH = 1
const SKIP_BODY = 2

/** Returns a scanner over a byte stream; it answers false once a frame is oversized or malformed. */
export function createFrameScanner(maxPacketBytes: number) {
  let state = EXPECT_HEADER
  let remaining = 0
  let multiplier = 1
  let lengthBytes = 0
  return (chunk: Uint8Array): boolean => {
    let i = 0
    while (i < chunk.length) {
      if (state === EXPECT_HEADER) {
        i++
        state = READ_LENGTH
        remaining = 0
        multiplier = 1
        lengthBytes = 0
      } else if (state === READ_LENGTH) {
        const byte = chunk[i++]!
        remaining += (byte & 0x7f) * multiplier
        multiplier *= 128
        lengthBytes++
        // Fixed header (1 byte + length bytes) counts toward the packet size. [MQTT-2.2.3]
        if (remaining + 1 + lengthBytes > maxPacketBytes) return false
        if (byte & 0x80) {
          if (lengthBytes >= 4) return false // the length field is at most four bytes long
        } else {
          state = remaining > 0 ? SKIP_BODY : EXPECT_HEADER
        }
      } else {
        const skip = Math.min(remaining, chunk.length - i)
        i += skip
        remaining -= skip
        if (remaining === 0) state = EXPECT_HEADER
      }
    }
    return true
  }
}

/**
 * Aedes pulls bytes with socket.read(); checking each chunk there costs no extra stream or copy.
 * `onReject` runs once, just before the socket is destroyed.
 */
export function guardFrames(socket: Duplex, maxPacketBytes: number, onReject: () => void): void {
  const scan = createFrameScanner(maxPacketBytes)
  const read = socket.read.bind(socket)
  let rejected = false
  socket.read = (size?: number) => {
    if (rejected) return null
    const chunk = read(size) as Buffer | null
    if (chunk && !scan(chunk)) {
      rejected = true
      onReject()
      socket.destroy()
      return null
    }
    return chunk
  }
}
