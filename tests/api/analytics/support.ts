// Shared test support for analytics: fast-check series generators and a whole-value comparison with tolerance.
import fc from 'fast-check'
import type { Series } from '../../../api/analytics/index.ts'

/** Rust and the TypeScript twins must agree within this relative difference (docs/analytics.md). */
export const RELATIVE_TOLERANCE = 1e-9

const signed = (magnitude: fc.Arbitrary<number>) =>
  fc.tuple(fc.boolean(), magnitude).map(([negative, x]) => (negative ? -x : x))

const VALUE_KINDS = {
  normal: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  huge: signed(fc.double({ min: 1e299, max: 1e301, noNaN: true })),
  tiny: signed(fc.double({ min: 1e-301, max: 1e-299, noNaN: true })),
  mixed: fc.oneof(
    fc.double({ min: -1e6, max: 1e6, noNaN: true }),
    signed(fc.double({ min: 1e299, max: 1e301, noNaN: true })),
    signed(fc.double({ min: 1e-301, max: 1e-299, noNaN: true })),
  ),
  // Few distinct values: ties in percentiles, zero MADs, constant windows.
  integer: fc.integer({ min: -3, max: 3 }),
} as const

const BASE_TS_MS = 1_700_000_000_000

function timestamps(length: number): fc.Arbitrary<number[]> {
  return fc.oneof(
    // Sorted, with gaps and repeats.
    fc.array(fc.nat(2_000), { minLength: length, maxLength: length }).map((steps) => {
      let t = BASE_TS_MS
      return steps.map((step) => (t += step % 3 === 0 ? 0 : step))
    }),
    // Unsorted.
    fc.array(fc.integer({ min: BASE_TS_MS, max: BASE_TS_MS + 3_600_000 }), {
      minLength: length,
      maxLength: length,
    }),
    // Unsorted with many duplicates.
    fc.array(
      fc.integer({ min: 0, max: 5 }).map((k) => BASE_TS_MS + k * 1000),
      { minLength: length, maxLength: length },
    ),
  )
}

/** Series of 0..maxLength points: normal, huge, tiny, mixed, few-valued or constant; sorted or not. */
export function seriesArbitrary(maxLength = 200): fc.Arbitrary<Series> {
  const kind = fc.constantFrom('normal', 'huge', 'tiny', 'mixed', 'integer', 'constant')
  return fc
    .tuple(kind, fc.nat(maxLength))
    .chain(([k, length]) => {
      const values =
        k === 'constant'
          ? fc.double({ min: -1e300, max: 1e300, noNaN: true }).map((x) => new Array<number>(length).fill(x))
          : fc.array(VALUE_KINDS[k], { minLength: length, maxLength: length })
      return fc.tuple(timestamps(length), values)
    })
    .map(([ts, values]) => ({ tsMs: Float64Array.from(ts), values: Float64Array.from(values) }))
}

/** A deterministic long series (sensor-like: drift, noise, spikes; shuffled when `sorted` is false). */
export function longSeries(points: number, seed: number, sorted = true): Series {
  let state = seed >>> 0 || 1
  const random = () => {
    // xorshift32: fast, seedable, good enough for test data.
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return (state >>> 0) / 0x1_0000_0000
  }
  const tsMs = new Float64Array(points)
  const values = new Float64Array(points)
  for (let i = 0; i < points; i++) {
    tsMs[i] = BASE_TS_MS + i * 1000 + (random() < 0.01 ? -1000 : 0)
    values[i] = 20 + i * 1e-4 + random() * 2 + (random() < 0.001 ? 50 : 0)
  }
  if (!sorted) {
    for (let i = points - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1))
      ;[tsMs[i], tsMs[j]] = [tsMs[j]!, tsMs[i]!]
      ;[values[i], values[j]] = [values[j]!, values[i]!]
    }
  }
  return { tsMs, values }
}

function close(a: number, b: number, tolerance: number): boolean {
  if (a === b || (Number.isNaN(a) && Number.isNaN(b))) return true
  return Math.abs(a - b) <= tolerance * Math.max(Math.abs(a), Math.abs(b))
}

/**
 * Every difference between two results (objects of numbers and typed arrays), numbers compared within
 * `tolerance` relative; an empty list means equal. Array types and lengths must match exactly.
 */
export function differences(
  actual: unknown,
  expected: unknown,
  tolerance = RELATIVE_TOLERANCE,
  path = '$',
): string[] {
  if (typeof actual === 'number' && typeof expected === 'number') {
    return close(actual, expected, tolerance) ? [] : [`${path}: ${actual} != ${expected}`]
  }
  if (ArrayBuffer.isView(actual) && ArrayBuffer.isView(expected)) {
    const a = actual as unknown as ArrayLike<number>
    const e = expected as unknown as ArrayLike<number>
    if (actual.constructor !== expected.constructor || a.length !== e.length) {
      return [`${path}: ${actual.constructor.name}(${a.length}) != ${expected.constructor.name}(${e.length})`]
    }
    const out: string[] = []
    for (let i = 0; i < a.length && out.length < 5; i++) {
      out.push(...differences(a[i], e[i], tolerance, `${path}[${i}]`))
    }
    return out
  }
  if (typeof actual === 'object' && actual !== null && typeof expected === 'object' && expected !== null) {
    const keys = [...new Set([...Object.keys(actual), ...Object.keys(expected)])].sort()
    return keys.flatMap((k) =>
      differences(
        (actual as Record<string, unknown>)[k],
        (expected as Record<string, unknown>)[k],
        tolerance,
        `${path}.${k}`,
      ),
    )
  }
  return Object.is(actual, expected) ? [] : [`${path}: ${String(actual)} != ${String(expected)}`]
}

/** The error a call throws, or undefined; lets tests compare errors from both engines as whole values. */
export async function errorOf(call: () => unknown): Promise<{ code: unknown; field: unknown } | undefined> {
  try {
    await call()
    return undefined
  } catch (error) {
    const e = error as { code?: unknown; field?: unknown }
    return { code: e.code, field: e.field }
  }
}
