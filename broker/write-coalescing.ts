// Coalesces everything written to one connection during an event-loop turn into a single socket write.
// Aedes writes each packet on its own (a PUBACK per message, a PUBLISH per delivery, each from its own
// setImmediate), which cost one writev system call per packet: a quarter of the broker thread with one
// subscriber on factories/# (measured with --cpu-prof). Corked until the next turn, a turn's packets to
// one client leave together, at most one turn later.
import type { Duplex } from 'node:stream'

/** Bytes a connection may hold between turns before a write reports back-pressure. */
export const BUFFERED_LIMIT_BYTES = 256 * 1024

export function coalesceWrites(stream: Duplex): void {
  let corked = false
  const uncork = () => {
    corked = false
    stream.uncork()
  }
  const write = stream.write
  // Named parameters, not rest arguments: this runs once per PUBACK and each rest array is garbage.
  stream.write = function coalescedWrite(
    this: Duplex,
    chunk: unknown,
    encoding?: unknown,
    callback?: unknown,
  ) {
    if (!corked && !stream.destroyed) {
      corked = true
      stream.cork()
      setImmediate(uncork)
    }
    // While corked, "buffer full" would come after 16 KiB, that is after a fraction of one turn's packets to a
    // busy subscriber, and Aedes would wait for 'drain' before each next delivery. Up to the limit the
    // buffer leaves with the next turn's writev; beyond it Aedes waits (and its drain timeout applies).
    return (
      write.call(this, chunk, encoding as BufferEncoding, callback as () => void) ||
      stream.writableLength < BUFFERED_LIMIT_BYTES
    )
  } as Duplex['write']
}
