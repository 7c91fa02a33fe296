// Time-bucketed downsampling, the TypeScript twin of downsample_buckets in the Rust core's downsample.rs.
import { paramError } from './errors.ts'
import { NeumaierSum } from './numeric.ts'
import { checkSeries, timeOrder } from './series.ts'
import type { BucketParams, Buckets, Series } from './types.ts'

/** min/max/avg/count/first/last per non-empty bucket [originMs + k·bucketMs, originMs + (k+1)·bucketMs). */
export function downsampleBuckets(series: Series, params: BucketParams): Buckets {
  const { bucketMs } = params
  const originMs = params.originMs ?? 0
  checkSeries(series)
  if (!(Number.isFinite(bucketMs) && bucketMs > 0)) {
    throw paramError('bucketMs', `must be a finite number > 0, got ${bucketMs}`)
  }
  if (!Number.isFinite(originMs)) throw paramError('originMs', `must be finite, got ${originMs}`)
  const { tsMs, values } = series
  const n = values.length
  const order = timeOrder(tsMs)
  const at = (k: number) => (order === null ? k : order[k]!)
  const startMs: number[] = []
  const count: number[] = []
  const mins: number[] = []
  const maxs: number[] = []
  const avgs: number[] = []
  const firsts: number[] = []
  const lasts: number[] = []
  let k = 0
  while (k < n) {
    const bucket = Math.floor((tsMs[at(k)]! - originMs) / bucketMs)
    const start = k
    const first = values[at(k)]!
    let min = first
    let max = first
    let last = first
    const sum = new NeumaierSum()
    while (k < n) {
      const i = at(k)
      if (Math.floor((tsMs[i]! - originMs) / bucketMs) !== bucket) break
      const x = values[i]!
      if (x < min) min = x
      if (x > max) max = x
      sum.add(x)
      last = x
      k++
    }
    const size = k - start
    const total = sum.value()
    let avg = total / size
    if (!Number.isFinite(total)) {
      const scaled = new NeumaierSum()
      for (let j = start; j < k; j++) scaled.add(values[at(j)]! / size)
      avg = scaled.value()
    }
    startMs.push(originMs + bucket * bucketMs)
    count.push(size)
    mins.push(min)
    maxs.push(max)
    avgs.push(avg)
    firsts.push(first)
    lasts.push(last)
  }
  return {
    startMs: Float64Array.from(startMs),
    count: Uint32Array.from(count),
    min: Float64Array.from(mins),
    max: Float64Array.from(maxs),
    avg: Float64Array.from(avgs),
    first: Float64Array.from(firsts),
    last: Float64Array.from(lasts),
  }
}
