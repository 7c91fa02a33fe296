// Loads chart data: raw readings for the live window, server-side buckets for long ranges, and anomalies.
import { apiGet } from './api.js'

/** Long ranges are cut into about this many buckets (a point per couple of pixels). */
const TARGET_BUCKETS = 400
/** Without the downsampling endpoint, at most this many raw readings are fetched and bucketed here. */
const MAX_RAW_READINGS = 50_000
const PAGE_LIMIT = 10_000

async function rawReadings(sensorId, fromMs, toMs, maxReadings) {
  const readings = []
  let cursor = null
  do {
    const query = cursor ? `cursor=${cursor}` : `from=${fromMs}`
    const page = await apiGet(`/api/v1/sensors/${sensorId}/readings?${query}&to=${toMs}&limit=${PAGE_LIMIT}`)
    readings.push(...page.readings)
    cursor = page.nextCursor
  } while (cursor && readings.length < maxReadings)
  return { readings, truncated: cursor !== null }
}

/** Buckets computed in the browser: the fallback when the server offers no downsampling. */
function bucketLocally(readings, fromMs, bucketMs) {
  const out = { xsMs: [], avg: [], min: [], max: [] }
  let start = null
  let sum = 0
  let n = 0
  let lo = 0
  let hi = 0
  const flush = () => {
    if (n === 0) return
    out.xsMs.push(start)
    out.avg.push(sum / n)
    out.min.push(lo)
    out.max.push(hi)
  }
  for (const r of readings) {
    const bucket = fromMs + Math.floor((r.tsMs - fromMs) / bucketMs) * bucketMs
    if (bucket !== start) {
      flush()
      start = bucket
      sum = 0
      n = 0
      lo = r.value
      hi = r.value
    }
    sum += r.value
    n++
    if (r.value < lo) lo = r.value
    if (r.value > hi) hi = r.value
  }
  flush()
  return out
}

/** A whole number of seconds, so bucket edges stay put between reloads. */
const bucketMsFor = (spanMs) => Math.max(1000, Math.ceil(spanMs / TARGET_BUCKETS / 1000) * 1000)

/** Whole minutes, so the stored 1-minute and 1-hour rollups answer the query instead of raw readings. */
const bucketMinutesFor = (spanMs) => Math.max(1, Math.ceil(spanMs / TARGET_BUCKETS / 60_000))

/** `capabilities`: { series, downsampled, anomalies: boolean } from the server's OpenAPI document. */
export function createHistoryLoader(capabilities) {
  return {
    async loadHistory(sensor, range, nowMs) {
      const fromMs = nowMs - range.spanMs
      if (range.live) {
        const { readings } = await rawReadings(sensor.id, fromMs, nowMs + 60_000, PAGE_LIMIT * 2)
        return { xsMs: readings.map((r) => r.tsMs), ys: readings.map((r) => r.value) }
      }
      if (capabilities.series) {
        const minutes = bucketMinutesFor(range.spanMs)
        const res = await apiGet(
          `/api/v1/sensors/${sensor.id}/series?from=${fromMs}&to=${nowMs + 1}&bucket=${minutes}m`,
        )
        return {
          xsMs: res.buckets.map((b) => b.startMs),
          avg: res.buckets.map((b) => b.avg),
          min: res.buckets.map((b) => b.min),
          max: res.buckets.map((b) => b.max),
          note: `Average with min–max band, ${minutes} min buckets from the stored rollups`,
        }
      }
      const bucketMs = bucketMsFor(range.spanMs)
      const originMs = Math.floor(fromMs / bucketMs) * bucketMs
      if (capabilities.downsampled) {
        const res = await apiGet(
          `/api/v1/sensors/${sensor.id}/downsampled?from=${originMs}&to=${nowMs + 1}&bucketMs=${bucketMs}&originMs=${originMs}`,
        )
        return {
          xsMs: res.buckets.map((b) => b.startMs),
          avg: res.buckets.map((b) => b.avg),
          min: res.buckets.map((b) => b.min),
          max: res.buckets.map((b) => b.max),
          note: `Average with min–max band, ${bucketMs / 1000} s buckets`,
        }
      }
      const { readings, truncated } = await rawReadings(sensor.id, originMs, nowMs + 1, MAX_RAW_READINGS)
      const buckets = bucketLocally(readings, originMs, bucketMs)
      return {
        ...buckets,
        note: truncated
          ? `Only the oldest ${readings.length} readings are shown: the server offers no downsampling`
          : `Average with min–max band, ${bucketMs / 1000} s buckets`,
      }
    },

    /** Rolling z-score: a spike stands out against its recent neighbours, whatever the overall swing. */
    async loadAnomalies(sensor, fromMs, toMs) {
      if (!capabilities.anomalies) return null
      const res = await apiGet(
        `/api/v1/sensors/${sensor.id}/anomalies?method=rolling-zscore&from=${fromMs}&to=${toMs + 1}`,
      )
      return res.anomalies.map((a) => ({ tsMs: a.tsMs, value: a.value }))
    },
  }
}
