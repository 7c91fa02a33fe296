import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeChunk, encodeChunk } from '../../db/chunks.ts'

describe('chunk codec', () => {
  it('round-trips any sorted integer timestamps and any doubles bit for bit', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: -(2 ** 45), max: 2 ** 45 }), { maxLength: 300 }),
        fc.array(
          fc.oneof(
            fc.double(),
            fc.integer({ min: -1e6, max: 1e6 }).map((n) => n / 100),
          ),
          { maxLength: 300 },
        ),
        fc.constantFrom(null, 0.01, 0.5, 5, 0.3),
        (ts, raw, resolution) => {
          ts.sort((x, y) => x - y)
          const values = Float64Array.from(ts, (_, i) => raw[i % Math.max(raw.length, 1)] ?? 0)
          const decoded = decodeChunk(encodeChunk(Float64Array.from(ts), values, resolution))
          expect(Array.from(decoded.tsMs)).toEqual(ts)
          expect(new Uint8Array(decoded.values.buffer)).toEqual(new Uint8Array(values.buffer))
        },
      ),
    )
  })

  it('reports corrupt input as an error with a code', () => {
    expect(() => decodeChunk(Uint8Array.of(9, 1))).toThrow(/CODEC_CHUNK_CORRUPT/)
    expect(() => encodeChunk(Float64Array.of(2, 1), Float64Array.of(0, 0), null)).toThrow(
      /CODEC_TIMESTAMP_INVALID/,
    )
  })
})
