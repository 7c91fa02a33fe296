// Memory tuning: the allocator settings reach glibc, and every connection's page cache follows its option.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openConnection } from '../../db/index.ts'
import { applyMemoryTuning } from '../../gateway/memory.ts'

const dir = mkdtempSync(path.join(tmpdir(), 'fm-memory-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('memory tuning', () => {
  it('sets the C allocator where it is glibc', () => {
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined
    const header = report?.header
    expect(applyMemoryTuning()).toEqual({ allocator: header?.glibcVersionRuntime !== undefined })
  })

  it('sizes each connection page cache in MiB, 16 by default', () => {
    const file = path.join(dir, 'cache.db')
    const sized = openConnection({ file, synchronous: 'NORMAL', busyTimeoutMs: 100, cacheMib: 4 })
    const plain = openConnection({ file, synchronous: 'NORMAL', busyTimeoutMs: 100 })
    expect([
      sized.pragma('cache_size', { simple: true }),
      plain.pragma('cache_size', { simple: true }),
    ]).toEqual([-4096, -16384])
    sized.close()
    plain.close()
  })
})
