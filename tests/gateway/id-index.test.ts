// The id index answers as a Map would, across clears and growth, for any ids.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createIdIndex } from '../../gateway/id-index.ts'

describe('id index', () => {
  it('answers as a Map for any sequence of sets, gets and clears', () => {
    const op = fc.oneof(
      fc.record({ set: fc.integer({ min: 0, max: 2 ** 31 - 1 }), value: fc.nat() }),
      fc.record({ set: fc.integer({ min: 0, max: 40 }), value: fc.nat() }),
      fc.record({ get: fc.integer({ min: 0, max: 40 }) }),
      fc.constant({ clear: true }),
    )
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const index = createIdIndex(16)
        const model = new Map<number, number>()
        const seen: [number, number][] = []
        for (const o of ops) {
          if ('clear' in o) {
            index.clear()
            model.clear()
          } else if ('get' in o) seen.push([index.get(o.get), model.get(o.get) ?? -1])
          else {
            index.set(o.set, o.value)
            model.set(o.set, o.value)
          }
        }
        for (const [id, value] of model) seen.push([index.get(id), value])
        expect(seen.map(([got]) => got)).toEqual(seen.map(([, want]) => want))
      }),
      { numRuns: 300 },
    )
  })

  it('keeps every entry of a batch larger than its first table', () => {
    const index = createIdIndex(16)
    for (let round = 0; round < 3; round++) {
      index.clear()
      for (let id = 0; id < 5_000; id++) index.set(id * 7919, id + round)
      const values = Array.from({ length: 5_000 }, (_, id) => index.get(id * 7919))
      expect(values).toEqual(Array.from({ length: 5_000 }, (_, id) => id + round))
      expect(index.get(1)).toBe(-1)
    }
  })
})
