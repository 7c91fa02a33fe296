import { describe, expect, it } from 'vitest'
import { createReleaseSlices, type Releasable } from '../../gateway/release-slices.ts'

/** Resolves after the release slice scheduled in this turn (queued before it) has run. */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

/** A batch with one callback per entry of `devices`; each logs `<batch>.<index>@<device>:<error or ok>`. */
function batchOf(name: string, devices: number[], log: string[]): Releasable[] {
  return devices.map((machineId, i) => ({
    machineId,
    done: (error: Error | null) => log.push(`${name}.${i}@${machineId}:${error?.message ?? 'ok'}`),
  }))
}

describe('release slices', () => {
  it("releases a device's messages of a batch together and in order, devicesPerSlice devices per turn", async () => {
    const log: string[] = []
    const slices = createReleaseSlices({ devicesPerSlice: 2, messagesPerSlice: 100 })
    slices.release(batchOf('a', [1, 2, 1, 3, 2, 1, 4, 3, 5], log), null)
    expect(log).toEqual(['a.0@1:ok', 'a.2@1:ok', 'a.5@1:ok', 'a.1@2:ok', 'a.4@2:ok'])
    expect(slices.waiting()).toBe(4)
    await nextTurn()
    expect(log.slice(5)).toEqual(['a.3@3:ok', 'a.7@3:ok', 'a.6@4:ok'])
    await nextTurn()
    expect(log.slice(8)).toEqual(['a.8@5:ok'])
    expect(slices.waiting()).toBe(0)
  })

  it('takes no further device into a slice once it has released messagesPerSlice messages', async () => {
    const log: string[] = []
    const slices = createReleaseSlices({ devicesPerSlice: 10, messagesPerSlice: 3 })
    // Device 1's four messages go together, past the bound; device 2 waits for the next turn.
    slices.release(batchOf('a', [1, 1, 1, 1, 2, 3], log), null)
    expect(log).toEqual(['a.0@1:ok', 'a.1@1:ok', 'a.2@1:ok', 'a.3@1:ok'])
    await nextTurn()
    expect(log.slice(4)).toEqual(['a.4@2:ok', 'a.5@3:ok'])
  })

  it('keeps batches in the order they were released, each with its error, a slice running on into the next', async () => {
    const log: string[] = []
    const slices = createReleaseSlices({ devicesPerSlice: 2, messagesPerSlice: 100 })
    slices.release(batchOf('a', [1, 2, 3], log), null)
    expect(log).toEqual(['a.0@1:ok', 'a.1@2:ok'])
    // While a slice is pending, later batches wait for it; the same device in two batches is released twice.
    slices.release(batchOf('b', [3, 4, 3], log), new Error('commit failed'))
    slices.release([], null)
    slices.release(batchOf('c', [5], log), null)
    expect(slices.waiting()).toBe(5)
    await nextTurn()
    expect(log.slice(2)).toEqual(['a.2@3:ok', 'b.0@3:commit failed', 'b.2@3:commit failed'])
    await nextTurn()
    expect(log.slice(5)).toEqual(['b.1@4:commit failed', 'c.0@5:ok'])
    expect(slices.waiting()).toBe(0)
  })

  it('releases a batch queued from inside a callback after the one being released', () => {
    const log: string[] = []
    const slices = createReleaseSlices({ devicesPerSlice: 10, messagesPerSlice: 100 })
    const inner = batchOf('b', [2], log)
    const outer = batchOf('a', [1, 1], log)
    const first = outer[0]!
    outer[0] = {
      ...first,
      done: (error) => {
        first.done(error)
        slices.release(inner, null)
      },
    }
    slices.release(outer, null)
    expect(log).toEqual(['a.0@1:ok', 'a.1@1:ok', 'b.0@2:ok'])
    expect(slices.waiting()).toBe(0)
  })
})
