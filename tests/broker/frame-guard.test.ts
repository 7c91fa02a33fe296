// The frame scanner finds the PUBACKs lying wholly within a read, and guardFrames drops them from what
// Aedes reads while the filter is active, counting them.
import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { createFrameScanner, guardFrames } from '../../broker/frame-guard.ts'

const puback = (id: number) => Buffer.from([0x40, 2, id >> 8, id & 0xff])
const pingreq = Buffer.from([0xc0, 0])
const publish = Buffer.from([0x30, 5, 0, 1, 0x74, 0x68, 0x69])

describe('createFrameScanner', () => {
  it('collects the PUBACKs that start and end within the chunk', () => {
    const scan = createFrameScanner(1024)
    const first: number[] = []
    const stream = Buffer.concat([puback(1), pingreq, publish, puback(2), puback(3)])
    // The last PUBACK is split across two reads: found in neither.
    expect(scan(stream.subarray(0, 19), first)).toBe(true)
    const second: number[] = []
    expect(scan(stream.subarray(19), second)).toBe(true)
    expect({ first, second }).toEqual({ first: [0, 4, 13, 17], second: [] })
  })
})

describe('guardFrames with an ack filter', () => {
  it('drops the PUBACKs while active and reports how many', () => {
    const socket = new PassThrough()
    let active = true
    const dropped: number[] = []
    guardFrames(socket, 1024, () => {}, { active: () => active, dropped: (n) => dropped.push(n) })
    const reads: (string | null)[] = []
    for (const chunk of [
      Buffer.concat([puback(1), pingreq, puback(2)]),
      Buffer.concat([puback(3), puback(4)]),
      pingreq,
    ]) {
      socket.write(chunk)
      reads.push((socket.read() as Buffer | null)?.toString('hex') ?? null)
    }
    active = false
    socket.write(puback(5))
    reads.push((socket.read() as Buffer).toString('hex'))
    expect({ reads, dropped }).toEqual({ reads: ['c000', null, 'c000', '40020005'], dropped: [2, 2] })
  })
})
