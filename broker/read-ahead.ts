// Aedes reads a connection's next chunk only once every packet of the previous one is done, and a QoS 1
// telemetry publish is done only after its commit and PUBACK: a pipelining device had one socket read's worth
// of messages in the group commit at a time, and each connection waited a whole commit cycle between reads.
// A message waiting for its commit may instead hand back its read slot, up to a limit per connection, so
// the next chunk is read (and joins the next group commit) meanwhile; PUBACKs still leave in order, each
// after its commit. Past the limit Aedes' own pacing applies again, which is what stops reading a socket
// (and with it the publisher) when commits fall behind.
import type { Client } from 'aedes'

/** The part of an Aedes client (lib/client.js) that paces its reads. */
interface PacedClient {
  /** Packets of the current read still being handled; the socket is read again when it reaches 0. */
  _parsingBatch: number
  /** Counts one packet done and reads the next chunk when none is left. */
  _nextBatch(): void
}

export interface ReadAhead {
  /** Hands back the read slot of a message now waiting for its commit; false past the connection's limit. */
  hold(client: Client): boolean
  /** Takes the slot again just before the held message's callback gives it back to Aedes. */
  settle(client: Client): void
}

export function createReadAhead(maxPerConnection: number): ReadAhead {
  const held = new WeakMap<Client, number>()
  // Connections whose chunk's last packet now waits for its commit read on in the next turn, after this
  // read's packets are all queued; one Immediate for all of them (one each was ~4% of what the broker
  // thread allocated under the 1,000-machine flood).
  let readOn: Client[] = []
  const readAll = () => {
    const clients = readOn
    readOn = []
    for (const client of clients) {
      const paced = client as unknown as PacedClient
      if (paced._parsingBatch !== 0 || client.closed) continue
      paced._parsingBatch = 1
      paced._nextBatch()
    }
  }
  return {
    hold(client) {
      const n = held.get(client) ?? 0
      if (n >= maxPerConnection) return false
      held.set(client, n + 1)
      const paced = client as unknown as PacedClient
      paced._parsingBatch--
      if (paced._parsingBatch === 0 && readOn.push(client) === 1) setImmediate(readAll)
      return true
    },
    settle(client) {
      held.set(client, (held.get(client) ?? 1) - 1)
      ;(client as unknown as PacedClient)._parsingBatch++
    },
  }
}
