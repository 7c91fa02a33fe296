// Process-wide memory settings for a gateway that runs for months on a small box: the C allocator gives
// freed memory back instead of keeping it in idle per-thread arenas, and V8 collects before a heap has
// grown to several times what is live. Applied once at start-up by gateway/main.ts (FACTORY_MEMORY_TUNING).
import v8 from 'node:v8'
import { compute } from '../crates/factory_compute/binding.ts'

export const MEMORY_TUNING = {
  /** glibc malloc arenas (default 8 per core): the broker, writer and thread-pool threads share two. */
  allocatorArenas: 2,
  /** Allocations from this size up are mapped and unmapped whole, never kept on an arena's heap. */
  mmapThresholdBytes: 128 * 1024,
  /** A heap may grow to live × 1.5 before the next full collection (V8 otherwise allows up to 4×). */
  heapGrowingPercent: 50,
  /** The writer thread's young generation (V8's default is 48 MiB per isolate). */
  writerYoungGenerationMb: 24,
} as const

/** Applies the allocator and collector settings; returns whether the C allocator accepted its part. */
export function applyMemoryTuning(): { allocator: boolean } {
  const allocator = compute.tuneAllocator(MEMORY_TUNING.allocatorArenas, MEMORY_TUNING.mmapThresholdBytes)
  // A heuristic V8 reads at every full collection, so setting it after start-up takes effect.
  v8.setFlagsFromString(`--heap-growing-percent=${MEMORY_TUNING.heapGrowingPercent}`)
  return { allocator }
}
