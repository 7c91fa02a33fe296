// The writer's in-memory index of stored timestamps per sensor, so the hot log needs no (sensor, ts)
// B-tree index (which would rewrite a page per sensor on every commit). Only the writer thread uses it.

interface SensorState {
  /** Newest timestamp stored anywhere (hot or chunks): a later reading is new without any lookup. */
  maxTsMs: number
  /** Newest timestamp in chunks: an older reading not in the hot log may still be in a chunk. */
  chunkMaxTsMs: number
  hotTsMs: number[]
  hotBatch: number[]
}

export function createHotIndex() {
  const sensors = new Map<number, SensorState>()
  const state = (sensorId: number): SensorState => {
    let s = sensors.get(sensorId)
    if (!s) {
      s = {
        maxTsMs: Number.NEGATIVE_INFINITY,
        chunkMaxTsMs: Number.NEGATIVE_INFINITY,
        hotTsMs: [],
        hotBatch: [],
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
    noteHot(sensorId: number, tsMs: number, batchId: number): void {
      const s = state(sensorId)
      s.hotTsMs.push(tsMs)
      s.hotBatch.push(batchId)
      if (tsMs > s.maxTsMs) s.maxTsMs = tsMs
    },
    /** 'new' (certainly not stored), 'hot' (stored in the hot log) or 'check-chunks' (maybe in a chunk). */
    classify(sensorId: number, tsMs: number): 'new' | 'hot' | 'check-chunks' {
      const s = sensors.get(sensorId)
      if (!s || tsMs > s.maxTsMs) return 'new'
      if (s.hotTsMs.includes(tsMs)) return 'hot'
      return tsMs <= s.chunkMaxTsMs ? 'check-chunks' : 'new'
    },
    /** Forgets hot entries of batches up to `lastBatchId` once compaction has moved them into chunks. */
    compacted(lastBatchId: number): void {
      for (const s of sensors.values()) {
        if (s.hotBatch.length === 0 || s.hotBatch[0]! > lastBatchId) continue
        const keep = s.hotBatch.findIndex((b) => b > lastBatchId)
        if (keep === -1) {
          s.hotTsMs = []
          s.hotBatch = []
        } else {
          s.hotTsMs = s.hotTsMs.slice(keep)
          s.hotBatch = s.hotBatch.slice(keep)
        }
      }
    },
    forget(sensorId: number): void {
      sensors.delete(sensorId)
    },
  }
}

export type HotIndex = ReturnType<typeof createHotIndex>
