// The writer's in-memory index of stored timestamps per sensor, so the hot tier needs no (sensor, ts)
// B-tree index (which would rewrite a page per sensor on every commit). Only the writer thread uses it.

interface SensorState {
  /** Newest timestamp stored anywhere (hot or chunks): a later reading is new without any lookup. */
  maxTsMs: number
  /** Newest timestamp in chunks: an older reading not in the hot tier may still be in a chunk. */
  chunkMaxTsMs: number
  /** Timestamps in hot blocks, in the order of their blocks (compaction moves a prefix of them). */
  hotTsMs: number[]
  /** Whether hotTsMs is ascending (readings arrived in order), so it can be binary-searched. */
  hotSorted: boolean
  /** Newest timestamp accepted so far in the batch being filtered (valid while batchEpoch matches). */
  batchEpoch: number
  batchMaxTsMs: number
}

export interface BatchRows {
  count: number
  sensorId: Int32Array
  tsMs: Float64Array
}

/** Appends a hot timestamp, noting when it breaks ascending order. */
function pushHot(s: SensorState, tsMs: number): void {
  const n = s.hotTsMs.length
  if (n > 0 && tsMs < s.hotTsMs[n - 1]!) s.hotSorted = false
  s.hotTsMs.push(tsMs)
}

/** Whether the sensor's hot tier holds tsMs: a binary search while in order, else a scan. */
function hasHot(s: SensorState, tsMs: number): boolean {
  if (!s.hotSorted) return s.hotTsMs.includes(tsMs)
  let lo = 0
  let hi = s.hotTsMs.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const t = s.hotTsMs[mid]!
    if (t === tsMs) return true
    if (t < tsMs) lo = mid + 1
    else hi = mid - 1
  }
  return false
}

export function createHotIndex() {
  const sensors = new Map<number, SensorState>()
  let epoch = 0
  /** The state of each row the last filterNew accepted, in order, for noteAccepted. */
  let acceptedStates: SensorState[] = []
  const state = (sensorId: number): SensorState => {
    let s = sensors.get(sensorId)
    if (!s) {
      s = {
        maxTsMs: Number.NEGATIVE_INFINITY,
        chunkMaxTsMs: Number.NEGATIVE_INFINITY,
        hotTsMs: [],
        hotSorted: true,
        batchEpoch: 0,
        batchMaxTsMs: Number.NEGATIVE_INFINITY,
      }
      sensors.set(sensorId, s)
    }
    return s
  }

  return {
    has: (sensorId: number) => sensors.has(sensorId),
    /** Records that chunks hold readings of this sensor up to `tsMs`. */
    noteChunk(sensorId: number, tsMs: number): void {
      const s = state(sensorId)
      if (tsMs > s.chunkMaxTsMs) s.chunkMaxTsMs = tsMs
      if (tsMs > s.maxTsMs) s.maxTsMs = tsMs
    },
    /** Learns a hot reading; a sensor's readings must come in the order of their blocks. */
    noteHot(sensorId: number, tsMs: number): void {
      const s = state(sensorId)
      pushHot(s, tsMs)
      if (tsMs > s.maxTsMs) s.maxTsMs = tsMs
    },

    /**
     * Indices of the rows of a batch not yet stored (nor repeated earlier in the batch), in batch order.
     * `inChunks` answers for readings at or below a sensor's chunk bound that the hot tier does not hold.
     */
    filterNew(rows: BatchRows, inChunks: (sensorId: number, tsMs: number) => boolean): Uint32Array {
      epoch++
      const accepted = new Uint32Array(rows.count)
      const states = new Array<SensorState>(rows.count)
      acceptedStates = states
      let n = 0
      let seen: Set<string> | null = null
      for (let i = 0; i < rows.count; i++) {
        const sensorId = rows.sensorId[i]!
        const tsMs = rows.tsMs[i]!
        const s = state(sensorId)
        if (s.batchEpoch !== epoch) {
          s.batchEpoch = epoch
          s.batchMaxTsMs = Number.NEGATIVE_INFINITY
        }
        const stored =
          tsMs <= s.maxTsMs && (hasHot(s, tsMs) || (tsMs <= s.chunkMaxTsMs && inChunks(sensorId, tsMs)))
        if (stored) continue
        if (tsMs > s.batchMaxTsMs) {
          s.batchMaxTsMs = tsMs
          if (seen) seen.add(`${sensorId}:${tsMs}`)
          states[n] = s
          accepted[n++] = i
          continue
        }
        // Out of order within the batch: rare, so only now pay for an exact set.
        if (!seen) {
          seen = new Set()
          for (let k = 0; k < n; k++) seen.add(`${rows.sensorId[accepted[k]!]}:${rows.tsMs[accepted[k]!]}`)
        }
        const key = `${sensorId}:${tsMs}`
        if (seen.has(key)) continue
        seen.add(key)
        states[n] = s
        accepted[n++] = i
      }
      return accepted.subarray(0, n)
    },

    /** Learns the rows the last filterNew accepted, once committed (one block per sensor group). */
    noteAccepted(rows: BatchRows, accepted: Uint32Array): void {
      const states = acceptedStates
      for (let k = 0; k < accepted.length; k++) {
        const s = states[k]!
        const tsMs = rows.tsMs[accepted[k]!]!
        pushHot(s, tsMs)
        if (tsMs > s.maxTsMs) s.maxTsMs = tsMs
      }
      acceptedStates = []
    },

    /**
     * Compaction moved `counts[k]` readings of sensor `sensorIds[k]` into chunks: its oldest blocks, so the
     * first that many of its hot timestamps. (Counting instead of keeping each reading's block id halves the
     * index's memory, which grows with the hot tier.)
     */
    compacted(sensorIds: ArrayLike<number>, counts: ArrayLike<number>): void {
      for (let k = 0; k < sensorIds.length; k++) {
        const s = sensors.get(sensorIds[k]!)
        if (!s) continue
        if (counts[k]! >= s.hotTsMs.length) {
          s.hotTsMs = []
          s.hotSorted = true
        } else s.hotTsMs.splice(0, counts[k]!)
      }
    },
    forget(sensorId: number): void {
      sensors.delete(sensorId)
    },
  }
}

export type HotIndex = ReturnType<typeof createHotIndex>
