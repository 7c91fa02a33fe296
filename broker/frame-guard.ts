// Caps MQTT packet size before Aedes buffers anything: scans fixed headers as bytes are read off the socket
// and destroys the connection as soon as a declared remaining length exceeds the limit. The same scan can
// drop PUBACKs that would change nothing (see AckFilter) before Aedes parses them.
import type { Duplex } from 'node:stream'

const EXPECT_HEADER = 0
const READ_LENGTH = 1
const SKIP_BODY = 2
const PUBACK = 0x40

/**
 * Returns a scanner over a byte stream; it answers false once a frame is oversized or malformed. With
 * `acks`, it collects the [start, end) offsets of the PUBACK frames that lie wholly within the chunk.
 */
export function createFrameScanner(maxPacketBytes: number) {
  let state = EXPECT_HEADER
  let remaining = 0
  let multiplier = 1
  let lengthBytes = 0
  let header = 0
  let bodyBytes = 0
  // A function of the scanner, not of each call: one closure per socket read was garbage on the hot path.
  const complete = (start: number, end: number, acks: number[] | undefined) => {
    state = EXPECT_HEADER
    if (acks && start >= 0 && header === PUBACK && bodyBytes === 2) acks.push(start, end)
  }
  return (chunk: Uint8Array, acks?: number[]): boolean => {
    let i = 0
    // Where the current frame started in this chunk; -1 when it began in an earlier one.
    let start = -1
    while (i < chunk.length) {
      if (state === EXPECT_HEADER) {
        start = i
        header = chunk[i++]!
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
          bodyBytes = remaining
          if (remaining > 0) state = SKIP_BODY
          else complete(start, i, acks)
        }
      } else {
        const skip = Math.min(remaining, chunk.length - i)
        i += skip
        remaining -= skip
        if (remaining === 0) complete(start, i, acks)
      }
    }
    return true
  }
}

/**
 * PUBACKs a connection's session has no use for. Aedes keeps no outgoing state for a clean session (it
 * never stores what it sends one), so each PUBACK from such a subscriber only cost a parse, a promise and
 * an 'ack' event: with a subscriber on factories/# that is one per ingested message.
 */
export interface AckFilter {
  /** Whether PUBACKs read now may be dropped (asked once per socket read). */
  active(): boolean
  /** `count` were dropped from the read just made: the client was heard from (keep-alive). */
  dropped(count: number): void
}

/** The chunk without the given [start, end) ranges, or null when nothing is left. */
function without(chunk: Buffer, ranges: number[]): Buffer | null {
  let kept = chunk.length
  for (let r = 0; r < ranges.length; r += 2) kept -= ranges[r + 1]! - ranges[r]!
  if (kept === 0) return null
  const out = Buffer.allocUnsafe(kept)
  let from = 0
  let at = 0
  for (let r = 0; r < ranges.length; r += 2) {
    at += chunk.copy(out, at, from, ranges[r])
    from = ranges[r + 1]!
  }
  chunk.copy(out, at, from)
  return out
}

/**
 * Aedes pulls bytes with socket.read(); checking each chunk there costs no extra stream or copy.
 * `onReject` runs once, just before the socket is destroyed.
 */
export function guardFrames(
  socket: Duplex,
  maxPacketBytes: number,
  onReject: () => void,
  acks: AckFilter | null = null,
): void {
  const scan = createFrameScanner(maxPacketBytes)
  const found: number[] = []
  const read = socket.read.bind(socket)
  let rejected = false
  socket.read = (size?: number) => {
    if (rejected) return null
    const chunk = read(size) as Buffer | null
    if (!chunk) return chunk
    // Reused across reads: a publishing device's reads rarely hold a PUBACK.
    found.length = 0
    const dropping = acks?.active() ? found : undefined
    if (!scan(chunk, dropping)) {
      rejected = true
      onReject()
      socket.destroy()
      return null
    }
    if (!dropping || dropping.length === 0) return chunk
    acks!.dropped(dropping.length / 2)
    return without(chunk, dropping)
  }
}
