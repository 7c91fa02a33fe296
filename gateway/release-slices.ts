// Releases committed (or failed) batches' callbacks in slices, one slice per event-loop turn, oldest batch
// first, a device's messages of a batch together and in their order.
// Each released callback queues its PUBACK and runs the publish chain, and every device released in a turn
// costs a socket write at the end of the turn (its PUBACKs leave together) and, once the device answers, a
// socket read in the next: with 1,000 devices of one or two messages each per batch, most of the broker
// thread's ~30 µs per message. Releasing a whole batch at once held the thread for tens of milliseconds;
// slices of 256 messages in commit order then spanned ~200 such devices (turns of 30-40 ms), and split each of
// 100 pipelining devices' messages over several turns, a write each. Slices by device bound a turn by what it
// costs and write to each device once per batch.

export interface Releasable {
  machineId: number
  done(error: Error | null): void
}

export interface ReleaseSlicesOptions {
  /** Devices whose messages a slice releases. */
  devicesPerSlice: number
  /** A slice takes no further device once it has released this many messages. */
  messagesPerSlice: number
}

export interface ReleaseSlices<T extends Releasable> {
  /**
   * Queues a batch's callbacks, to be called with `error` after every batch queued before it: the first
   * device's messages in the batch's order, then the next device's, devices in order of first appearance.
   */
  release(batch: T[], error: Error | null): void
  /** Callbacks queued and not yet called. */
  waiting(): number
}

interface Releasing<T> {
  batch: T[]
  error: Error | null
  /** Index of each device's first message, in order of first appearance. */
  firsts: number[]
  /** For each message, the index of the same device's next message in the batch, or -1. */
  next: Int32Array
  /** Devices of `firsts` already released. */
  at: number
}

function groupByDevice<T extends Releasable>(batch: T[], error: Error | null): Releasing<T> {
  const firsts: number[] = []
  const next = new Int32Array(batch.length).fill(-1)
  const lastOf = new Map<number, number>()
  for (let i = 0; i < batch.length; i++) {
    const device = batch[i]!.machineId
    const last = lastOf.get(device)
    if (last === undefined) firsts.push(i)
    else next[last] = i
    lastOf.set(device, i)
  }
  return { batch, error, firsts, next, at: 0 }
}

export function createReleaseSlices<T extends Releasable>(options: ReleaseSlicesOptions): ReleaseSlices<T> {
  const releasing: Releasing<T>[] = []
  let waiting = 0
  let scheduled = false

  const releaseSlice = () => {
    // A batch released from one of this slice's callbacks joins this slice or a later one.
    scheduled = true
    let devices = 0
    let released = 0
    while (releasing.length > 0 && devices < options.devicesPerSlice && released < options.messagesPerSlice) {
      const head = releasing[0]!
      const first = head.firsts[head.at++]!
      if (head.at === head.firsts.length) releasing.shift()
      devices++
      for (let i = first; i !== -1; i = head.next[i]!) {
        released++
        waiting--
        head.batch[i]!.done(head.error)
      }
    }
    if (releasing.length > 0) setImmediate(releaseSlice)
    else scheduled = false
  }

  return {
    release(batch, error) {
      if (batch.length === 0) return
      releasing.push(groupByDevice(batch, error))
      waiting += batch.length
      if (!scheduled) releaseSlice()
    },
    waiting: () => waiting,
  }
}
