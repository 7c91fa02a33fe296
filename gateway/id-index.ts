// A map from machine ids to small integers for the span of one batch, reused batch after batch. The two
// per-batch Maps it replaces (a batch's devices, and each device's client id and topic) grew to ~1,000
// entries forty times a second under the 1,000-machine flood: ~6% of what the broker thread allocated.
// Open addressing in typed arrays; `clear` only moves a generation stamp, so nothing is allocated once
// the table has grown to the largest batch.

export interface IdIndex {
  /** The value set for `id` since the last clear, or -1. */
  get(id: number): number
  /** `value` must be ≥ 0. */
  set(id: number, value: number): void
  clear(): void
}

/** Ids are non-negative 32-bit integers (SQLite row ids of machines). */
export function createIdIndex(initialCapacity = 1024): IdIndex {
  let capacity = 1 << Math.ceil(Math.log2(Math.max(16, initialCapacity)))
  let keys = new Int32Array(capacity)
  let values = new Int32Array(capacity)
  // A slot is in use when its stamp equals the current generation.
  let stamps = new Uint32Array(capacity)
  let generation = 1
  let size = 0

  const slotOf = (id: number): number => {
    const mask = capacity - 1
    let slot = Math.imul(id, 0x9e3779b1) & mask
    while (stamps[slot] === generation && keys[slot] !== id) slot = (slot + 1) & mask
    return slot
  }

  const grow = () => {
    const [oldKeys, oldValues, oldStamps, oldGeneration] = [keys, values, stamps, generation]
    capacity *= 2
    keys = new Int32Array(capacity)
    values = new Int32Array(capacity)
    stamps = new Uint32Array(capacity)
    generation = 1
    for (let i = 0; i < oldKeys.length; i++) {
      if (oldStamps[i] !== oldGeneration) continue
      const slot = slotOf(oldKeys[i]!)
      keys[slot] = oldKeys[i]!
      values[slot] = oldValues[i]!
      stamps[slot] = generation
    }
  }

  return {
    get(id) {
      const slot = slotOf(id)
      return stamps[slot] === generation ? values[slot]! : -1
    },
    set(id, value) {
      let slot = slotOf(id)
      if (stamps[slot] !== generation) {
        // At most half full, so a probe always ends at a free slot.
        if (2 * (size + 1) > capacity) {
          grow()
          slot = slotOf(id)
        }
        size++
        keys[slot] = id
        stamps[slot] = generation
      }
      values[slot] = value
    },
    clear() {
      size = 0
      if (++generation === 0xffffffff) {
        stamps.fill(0)
        generation = 1
      }
    },
  }
}
