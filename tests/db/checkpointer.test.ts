// The checkpoint connection: copies the writer's WAL into the database without the writer's help, and once
// everything is copied lets the WAL start over, so the writer's next commit trims the file to its limit.
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openCheckpointer, openConnection } from '../../db/index.ts'

let dir = ''
afterEach(() => rmSync(dir, { recursive: true, force: true }))

describe('checkpointer', () => {
  it('checkpoints the writer’s frames, restarts a long WAL and leaves a short one alone', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'fm-ckpt-'))
    const file = path.join(dir, 'db.sqlite')
    const limit = 64 * 1024
    const writer = openConnection({
      file,
      synchronous: 'NORMAL',
      busyTimeoutMs: 1000,
      walSizeLimitBytes: limit,
    })
    writer.pragma('wal_autocheckpoint = 0')
    writer.exec('CREATE TABLE t (v BLOB)')
    const insert = writer.prepare('INSERT INTO t VALUES (randomblob(3000))')
    const checkpointer = openCheckpointer({ file, synchronous: 'NORMAL', walSizeLimitBytes: limit })

    insert.run()
    const short = checkpointer.checkpoint()
    expect(short).toEqual({ walFrames: short.walFrames, checkpointed: short.walFrames, restarted: false })
    expect(short.walFrames).toBeLessThan(limit / 4096)

    for (let i = 0; i < 200; i++) insert.run()
    const long = checkpointer.checkpoint()
    expect(long).toEqual({ walFrames: long.walFrames, checkpointed: long.walFrames, restarted: true })
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(limit)
    insert.run()
    expect(statSync(`${file}-wal`).size).toBeLessThanOrEqual(limit)
    expect(writer.prepare('SELECT count(*) FROM t').pluck().get()).toBe(202)
    checkpointer.close()
    writer.close()
  })
})
