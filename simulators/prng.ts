// Seeded pseudo-random numbers (mulberry32) so the same seed always yields the same readings.

export interface Prng {
  /** Uniform in [0, 1). */
  next(): number
  /** Standard normal (mean 0, deviation 1). */
  normal(): number
  /** Integer in [0, maxExclusive). */
  int(maxExclusive: number): number
  /** An independent stream named `label`; it depends on the seed and label only, never on how much of
   * this stream was consumed, so adding a sensor does not change another sensor's values. */
  fork(label: string): Prng
}

/** 32-bit FNV-1a hash of a string, used to turn seeds and labels into generator states. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

export function createPrng(seed: number | string): Prng {
  const key = String(seed)
  let state = hashString(key)
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    normal() {
      // Box–Muller; 1 - u keeps the logarithm finite.
      const u = 1 - next()
      const v = next()
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
    },
    int(maxExclusive) {
      return Math.floor(next() * maxExclusive)
    },
    fork(label) {
      return createPrng(`${key}/${label}`)
    },
  }
}
