// coalesceWrites: one turn's writes to a connection leave in one writev, in order, and back-pressure is
// reported only past the buffered limit.
import { Duplex } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { coalesceWrites } from '../../broker/write-coalescing.ts'

function recordingStream() {
  const writes: string[][] = []
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, done) {
      writes.push([chunk.toString()])
      done()
    },
    writev(chunks, done) {
      writes.push(chunks.map((c) => Buffer.from(c.chunk as Buffer).toString()))
      done()
    },
  })
  return { stream, writes }
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

describe('coalesceWrites', () => {
  it('sends the packets written in one turn as one writev, in order, and the next turn separately', async () => {
    const { stream, writes } = recordingStream()
    coalesceWrites(stream)
    for (const p of ['a', 'b', 'c']) stream.write(Buffer.from(p))
    expect(writes).toEqual([])
    await nextTurn()
    stream.write(Buffer.from('d'))
    await nextTurn()
    await nextTurn()
    expect(writes).toEqual([['a', 'b', 'c'], ['d']])
  })

  it('reports back-pressure only once 256 KiB wait in the buffer', async () => {
    const { stream } = recordingStream()
    coalesceWrites(stream)
    const results = Array.from({ length: 5 }, () => stream.write(Buffer.alloc(64 * 1024)))
    expect(results).toEqual([true, true, true, false, false])
    await nextTurn()
    expect(stream.writableLength).toBe(0)
  })
})
