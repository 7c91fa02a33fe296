// The seeded generator: same seed, same stream; forks independent of consumption.
import { describe, expect, it } from 'vitest'
import { createPrng, hashString } from '../../simulators/prng.ts'

const take = (next: () => number, n: number) => Array.from({ length: n }, next)

describe('createPrng', () => {
  it('yields the same sequence for the same seed and a different one for another seed', () => {
    const a = createPrng(42)
    const b = createPrng(42)
    const c = createPrng(43)
    const first = take(a.next, 20)
    expect(take(b.next, 20)).toEqual(first)
    expect(take(c.next, 20)).not.toEqual(first)
  })

  it('stays in [0, 1) with a mean near one half', () => {
    const values = take(createPrng('range').next, 10_000)
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true)
    const mean = values.reduce((s, v) => s + v, 0) / values.length
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02)
  })

  it('forks streams that depend on the label only, not on what the parent consumed', () => {
    const fresh = createPrng(7)
    const used = createPrng(7)
    take(used.next, 100)
    expect(take(used.fork('sensor/a').next, 10)).toEqual(take(fresh.fork('sensor/a').next, 10))
    expect(take(fresh.fork('sensor/b').next, 10)).not.toEqual(take(fresh.fork('sensor/a').next, 10))
  })

  it('draws integers below the bound and normals centred on zero', () => {
    const prng = createPrng(3)
    const ints = take(() => prng.int(5), 1000)
    expect(new Set(ints)).toEqual(new Set([0, 1, 2, 3, 4]))
    const normals = take(prng.normal, 10_000)
    const mean = normals.reduce((s, v) => s + v, 0) / normals.length
    const variance = normals.reduce((s, v) => s + (v - mean) ** 2, 0) / normals.length
    expect(Math.abs(mean)).toBeLessThan(0.05)
    expect(Math.abs(variance - 1)).toBeLessThan(0.1)
  })

  it('hashes strings with FNV-1a', () => {
    expect(hashString('')).toBe(0x811c9dc5)
    expect(hashString('a')).toBe(0xe40c292c)
  })
})
