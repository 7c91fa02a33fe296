// Coalesces everything written to one connection during an event-loop turn into a single socket write.
// Aedes writes each packet on its own (a PUBACK per message, a PUBLISH per delivery, each from its own
// setImmediate), which cost one writev system call per packet: a quarter of the broker thread with one
// subscriber on factories/# (measured with --cpu-prof). Corked until the next turn, a turn's packets to
// one client leave together, at most one turn later. Small chunks (PUBACKs, mqtt-packet's header pieces)
// are copied into one buffer rather than queued one by one: each queued chunk cost the stream an entry
// object and the writev an array slot (~10% of what the broker thread allocated under the 1,000-machine
// flood, one PUBACK per message).
import type { Duplex } from 'node:stream'

/** Bytes a connection may hold between turns before a write reports back-pressure. */
export const BUFFERED_LIMIT_BYTES = 256 * 1024
/** Chunks up to this size are copied into the staging buffer. */
const SMALL_CHUNK_BYTES = 256
const STAGING_BYTES = 16 * 1024

type Write = (
  this: Duplex,
  chunk: unknown,
  encoding?: BufferEncoding,
  callback?: (error?: Error | null) => void,
) => boolean

interface Coalesced {
  stream: Duplex
  /** The stream's own write. */
  write: Write
  corked: boolean
}

// One staging buffer for all connections: its bytes belong to `stagedFor`, and are written to that stream
// (still corked) before another stream stages, before any other write to it, and at the end of the turn.
const staging = Buffer.allocUnsafe(STAGING_BYTES)
let staged = 0
let stagedFor: Coalesced | null = null

function writeStaged(): void {
  const owner = stagedFor
  if (owner && staged > 0 && !owner.stream.destroyed)
    owner.write.call(owner.stream, Buffer.from(staging.subarray(0, staged)))
  staged = 0
  stagedFor = null
}

// Connections corked this turn; one Immediate uncorks them all.
let corked: Coalesced[] = []
function uncorkAll(): void {
  writeStaged()
  const streams = corked
  corked = []
  for (const c of streams) {
    c.corked = false
    c.stream.uncork()
  }
}

export function coalesceWrites(stream: Duplex): void {
  const c: Coalesced = { stream, write: stream.write as Write, corked: false }
  // Named parameters, not rest arguments: this runs once per PUBACK and each rest array is garbage.
  stream.write = function coalescedWrite(
    this: Duplex,
    chunk: unknown,
    encoding?: unknown,
    callback?: unknown,
  ) {
    if (!c.corked && !stream.destroyed) {
      c.corked = true
      stream.cork()
      if (corked.push(c) === 1) setImmediate(uncorkAll)
    }
    if (
      c.corked &&
      encoding === undefined &&
      callback === undefined &&
      chunk instanceof Uint8Array &&
      chunk.length <= SMALL_CHUNK_BYTES
    ) {
      if (stagedFor !== c || staged + chunk.length > STAGING_BYTES) writeStaged()
      stagedFor = c
      staging.set(chunk, staged)
      staged += chunk.length
      // False only when the stream itself asked for a drain, so that 'drain' does come.
      return stream.writableLength < BUFFERED_LIMIT_BYTES || !stream.writableNeedDrain
    }
    if (stagedFor === c) writeStaged()
    // While corked, "buffer full" would come after 16 KiB, that is after a fraction of one turn's packets to a
    // busy subscriber, and Aedes would wait for 'drain' before each next delivery. Up to the limit the
    // buffer leaves with the next turn's writev; beyond it Aedes waits (and its drain timeout applies).
    return (
      c.write.call(this, chunk, encoding as BufferEncoding, callback as () => void) ||
      stream.writableLength < BUFFERED_LIMIT_BYTES
    )
  } as Duplex['write']
}
