// writePublish writes the same bytes as mqtt-packet (the encoder Aedes uses) for every topic, payload
// size (all four remaining-length widths), QoS and packet identifier, and exactly publishFrameBytes of them.
import fc from 'fast-check'
import mqttPacket from 'mqtt-packet'
import { describe, expect, it } from 'vitest'
import { publishFrameBytes, writePublish } from '../../broker/publish-frame.ts'

/** The frame written after a byte of something else, so the offset is exercised too. */
function encodePublish(topic: Buffer, payload: Buffer, qos: 0 | 1, messageId: number): Buffer {
  const out = Buffer.alloc(1 + publishFrameBytes(topic, payload, qos))
  const end = writePublish(out, 1, topic, payload, qos, messageId)
  expect(end).toBe(out.length)
  return out.subarray(1)
}

const reference = (topic: string, payload: Buffer, qos: 0 | 1, messageId: number) =>
  mqttPacket.generate({ cmd: 'publish', topic, payload, qos, messageId, dup: false, retain: false })

describe('writePublish', () => {
  it('matches mqtt-packet at each remaining-length width', () => {
    const topic = 'factories/plant-1/machines/press-1/telemetry'
    for (const size of [0, 60, 127 - 48, 200, 16_383 - 48, 20_000, 2_097_151 - 48, 2_100_000])
      for (const qos of [0, 1] as const) {
        const payload = Buffer.alloc(size, 7)
        // As base64: a byte-by-byte deep comparison of 2 MB takes seconds.
        expect(encodePublish(Buffer.from(topic), payload, qos, 65_535).toString('base64')).toBe(
          reference(topic, payload, qos, 65_535).toString('base64'),
        )
      }
  })

  it('matches mqtt-packet for any topic, payload and packet identifier', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 80, unit: 'grapheme' }),
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom(0 as const, 1 as const),
        fc.integer({ min: 1, max: 65_535 }),
        (topic, bytes, qos, id) => {
          const payload = Buffer.from(bytes)
          expect(encodePublish(Buffer.from(topic), payload, qos, id)).toEqual(
            reference(topic, payload, qos, id),
          )
        },
      ),
    )
  })
})
