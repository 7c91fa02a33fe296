// The writer's copy of the hot blocks it committed and compaction has not moved yet, by sensor group.
// Compaction reads a step's blocks from here instead of from SQLite: there every block lives on its own page
// among the other groups' blocks of its commit, and reading them back cost ~10 µs a block, most of a step
// under light load (many small commits, many small blocks). The copy holds exactly what the table holds
// for block ids after `completeAfter` as long as nobody edited hot blocks (the hot_block_edits counter,
// bumped in the transaction of every such edit, on any connection); otherwise compaction reads the table.

/** A block as compaction reads it: id, readings, encoded data. */
export type CachedBlock = [number, number, Buffer]

export function createHotCache(options: { maxBytes: number; newestBlockId: number; edits: number }) {
  let parts = new Map<number, CachedBlock[]>()
  let bytes = 0
  // Every block committed with a larger id is here, unless compaction has moved it.
  let completeAfter = options.newestBlockId
  let edits = options.edits
  let newest = options.newestBlockId

  const reset = (newestBlockId: number, editCount: number) => {
    parts = new Map()
    bytes = 0
    completeAfter = newestBlockId
    edits = editCount
  }

  return {
    /** Records blocks once their commit succeeded. */
    add(part: number, id: number, rows: number, data: Buffer): void {
      newest = Math.max(newest, id)
      if (bytes + data.length > options.maxBytes) {
        // Compaction is far behind: stop copying until it catches up with what is on disk.
        reset(newest, edits)
        return
      }
      const blocks = parts.get(part)
      if (blocks) blocks.push([id, rows, data])
      else parts.set(part, [[id, rows, data]])
      bytes += data.length
    },

    /**
     * The group's blocks with ids in (afterId, upToId], oldest first, at most `limit`; null when the copy
     * cannot answer (it does not reach back to afterId, or hot blocks were edited since: `editCount` is the
     * counter as the caller's transaction sees it).
     */
    blocks(
      part: number,
      afterId: number,
      upToId: number,
      limit: number,
      editCount: number,
    ): CachedBlock[] | null {
      if (editCount !== edits) reset(newest, editCount)
      if (afterId < completeAfter) return null
      const blocks = parts.get(part) ?? []
      const out: CachedBlock[] = []
      for (const b of blocks) {
        if (b[0] <= afterId) continue
        if (b[0] > upToId || out.length === limit) break
        out.push(b)
      }
      return out
    },

    /** Compaction moved the group's blocks up to lastId into chunks (committed). */
    moved(part: number, lastId: number): void {
      const blocks = parts.get(part)
      if (!blocks) return
      let n = 0
      while (n < blocks.length && blocks[n]![0] <= lastId) bytes -= blocks[n++]![2].length
      if (n === blocks.length) parts.delete(part)
      else blocks.splice(0, n)
    },

    bytes: () => bytes,
  }
}

export type HotCache = ReturnType<typeof createHotCache>
