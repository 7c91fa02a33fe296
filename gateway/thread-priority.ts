// On a small box the broker thread shares the cores with the process's other threads: the writer (commits,
// compaction), the checkpoint thread, V8's helper threads (concurrent marking, parallel scavenges) and
// libuv's pool. At the same priority any of them can hold a core while the broker's event loop waits for
// one. All of them run slightly below it (nice 5), so the event loop gets a core first; the others still
// get every idle cycle. (docs/performance.md, "Event-loop delay (P7)")
import { readdirSync } from 'node:fs'
import { getPriority, setPriority } from 'node:os'

/** The scheduling priority (nice) of every thread but the broker's. */
export const OTHER_THREADS_NICE = 5
/** Threads can start later (libuv's pool grows on first use), so the pass is repeated this often. */
export const LOWER_AGAIN_MS = 60_000

/**
 * Lowers every other thread of this process to at least `nice`; call it on the main thread. Linux only (a
 * thread's id is its /proc/self/task entry, and setpriority applies to that one thread); elsewhere, or
 * where not permitted, nothing changes. Returns how many threads it lowered.
 */
export function lowerOtherThreads(nice = OTHER_THREADS_NICE): number {
  let tasks: string[]
  try {
    tasks = readdirSync('/proc/self/task')
  } catch {
    return 0
  }
  let lowered = 0
  for (const task of tasks) {
    const tid = Number(task)
    if (tid === process.pid) continue
    try {
      if (getPriority(tid) < nice) {
        setPriority(tid, nice)
        lowered++
      }
    } catch {
      // the thread ended meanwhile, or changing it is not permitted
    }
  }
  return lowered
}
