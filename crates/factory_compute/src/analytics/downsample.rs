//! Downsampling: origin-aligned time buckets with aggregates, and Largest-Triangle-Three-Buckets.
use super::error::AnalyticsError;
use super::numeric::NeumaierSum;
use super::series::Series;

/// Non-empty buckets in time order, as columns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Buckets {
    /// Bucket start: origin + k·bucket width, the bucket covering [start, start + width).
    pub start_ms: Vec<f64>,
    pub count: Vec<u32>,
    pub min: Vec<f64>,
    pub max: Vec<f64>,
    /// Compensated sum over count (sum of x/count if the sum overflows).
    pub avg: Vec<f64>,
    /// Value of the earliest point (ties: first in input order).
    pub first: Vec<f64>,
    /// Value of the latest point (ties: last in input order).
    pub last: Vec<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketParams {
    /// Bucket width in ms; any finite value > 0.
    pub bucket_ms: f64,
    /// Buckets start at origin + k·width for integer k (default 0, the Unix epoch).
    pub origin_ms: f64,
}

/// Aggregates per bucket; bucket of t = ⌊(t - origin) / width⌋. O(n) on sorted input, O(n log n) otherwise.
pub fn downsample_buckets(
    series: Series<'_>,
    params: BucketParams,
) -> Result<Buckets, AnalyticsError> {
    if !(params.bucket_ms.is_finite() && params.bucket_ms > 0.0) {
        return Err(AnalyticsError::param(
            "bucketMs",
            format!("must be a finite number > 0, got {}", params.bucket_ms),
        ));
    }
    if !params.origin_ms.is_finite() {
        return Err(AnalyticsError::param(
            "originMs",
            format!("must be finite, got {}", params.origin_ms),
        ));
    }
    let mut out = Buckets::default();
    let ts = series.ts_ms();
    let values = series.values();
    let order = series.time_order();
    let n = series.len();
    let mut k = 0;
    while k < n {
        let bucket = ((ts[order.at(k)] - params.origin_ms) / params.bucket_ms).floor();
        let start = k;
        let first = values[order.at(k)];
        let (mut min, mut max, mut last) = (first, first, first);
        let mut sum = NeumaierSum::default();
        while k < n {
            let i = order.at(k);
            if ((ts[i] - params.origin_ms) / params.bucket_ms).floor() != bucket {
                break;
            }
            let x = values[i];
            if x < min {
                min = x;
            }
            if x > max {
                max = x;
            }
            sum.add(x);
            last = x;
            k += 1;
        }
        let count = k - start;
        let sum = sum.value();
        let avg = if sum.is_finite() {
            sum / count as f64
        } else {
            let mut scaled = NeumaierSum::default();
            for j in start..k {
                scaled.add(values[order.at(j)] / count as f64);
            }
            scaled.value()
        };
        out.start_ms
            .push(params.origin_ms + bucket * params.bucket_ms);
        out.count.push(count as u32);
        out.min.push(min);
        out.max.push(max);
        out.avg.push(avg);
        out.first.push(first);
        out.last.push(last);
    }
    Ok(out)
}

/// Selected points as columns, in time order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SampledPoints {
    pub index: Vec<u32>,
    pub ts_ms: Vec<f64>,
    pub value: Vec<f64>,
}

/// Values above this magnitude are divided by the largest one before triangle areas are compared,
/// so that products of time and value spans cannot overflow (areas compare the same after scaling).
const LTTB_SCALE_ABOVE: f64 = 1e100;

/// Largest-Triangle-Three-Buckets (Steinarsson 2013) down to `points` points (≥ 2), over the series in
/// time order. Keeps the first and last point; returns every point when the series has at most `points`.
/// Among equal areas the earliest point wins.
pub fn lttb(series: Series<'_>, points: u32) -> Result<SampledPoints, AnalyticsError> {
    if points < 2 {
        return Err(AnalyticsError::param(
            "points",
            format!("must be an integer ≥ 2, got {points}"),
        ));
    }
    let order = series.time_order();
    let ts = series.ts_ms();
    let values = series.values();
    let n = series.len();
    let target = points as usize;
    let mut out = SampledPoints::default();
    let mut take = |i: usize| {
        out.index.push(i as u32);
        out.ts_ms.push(ts[i]);
        out.value.push(values[i]);
    };
    if n <= target {
        (0..n).for_each(|k| take(order.at(k)));
        return Ok(out);
    }
    let max_abs = values
        .iter()
        .fold(0.0f64, |m, &x| if x.abs() > m { x.abs() } else { m });
    let scale = if max_abs > LTTB_SCALE_ABOVE {
        max_abs
    } else {
        1.0
    };
    let t = |k: usize| ts[order.at(k)];
    let y = |k: usize| values[order.at(k)] / scale;
    take(order.at(0));
    let every = (n - 2) as f64 / (target - 2) as f64;
    let mut a = 0usize;
    for bucket in 0..target - 2 {
        let avg_start = ((bucket + 1) as f64 * every).floor() as usize + 1;
        let avg_end = (((bucket + 2) as f64 * every).floor() as usize + 1).min(n);
        let (mut avg_t, mut avg_y) = (0.0, 0.0);
        for k in avg_start..avg_end {
            avg_t += t(k);
            avg_y += y(k);
        }
        let avg_len = (avg_end - avg_start) as f64;
        avg_t /= avg_len;
        avg_y /= avg_len;
        let range_start = (bucket as f64 * every).floor() as usize + 1;
        let range_end = ((bucket + 1) as f64 * every).floor() as usize + 1;
        let (a_t, a_y) = (t(a), y(a));
        let mut best = range_start;
        let mut best_area = -1.0;
        for k in range_start..range_end {
            // Twice the triangle area; the factor 1/2 does not change which point wins.
            let area = ((a_t - avg_t) * (y(k) - a_y) - (a_t - t(k)) * (avg_y - a_y)).abs();
            if area > best_area {
                best_area = area;
                best = k;
            }
        }
        take(order.at(best));
        a = best;
    }
    take(order.at(n - 1));
    Ok(out)
}
