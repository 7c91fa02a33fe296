//! Window statistics: count, extremes, sum, mean, population standard deviation, first/last by time,
//! exact percentiles p50/p90/p95/p99.
use super::numeric::{
    mean_from_sum, percentiles_in_place, population_std, NeumaierSum, STATS_PERCENTILES,
};
use super::series::Series;

/// A point of the series, with its position in the input arrays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub index: u32,
    pub ts_ms: f64,
    pub value: f64,
}

/// Statistics of a whole series. For an empty series count and sum are 0, `first`/`last` are None
/// and every other field is NaN.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowStats {
    pub count: u32,
    pub min: f64,
    pub max: f64,
    /// Neumaier-compensated sum; overflows to ±infinity only if the exact sum does.
    pub sum: f64,
    pub mean: f64,
    /// Population standard deviation (divides by n, not n - 1).
    pub std: f64,
    /// Earliest point; among equal timestamps the one first in input order.
    pub first: Option<Point>,
    /// Latest point; among equal timestamps the one last in input order.
    pub last: Option<Point>,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
}

/// One pass for count, extremes, sum, first/last (and the copy percentile selection needs), a second
/// pass for the deviations (the two-pass form is the stable one), then O(n) selections for percentiles.
pub fn window_stats(series: Series<'_>) -> WindowStats {
    let ts = series.ts_ms();
    let values = series.values();
    let n = values.len();
    if n == 0 {
        return WindowStats {
            count: 0,
            min: f64::NAN,
            max: f64::NAN,
            sum: 0.0,
            mean: f64::NAN,
            std: f64::NAN,
            first: None,
            last: None,
            p50: f64::NAN,
            p90: f64::NAN,
            p95: f64::NAN,
            p99: f64::NAN,
        };
    }
    let mut min = values[0];
    let mut max = values[0];
    let mut sum = NeumaierSum::default();
    let (mut first, mut last) = (0usize, 0usize);
    for (i, (&t, &x)) in ts.iter().zip(values).enumerate() {
        // Plain comparisons (not f64::min) so that -0/0 ties resolve as in the TypeScript twin.
        if x < min {
            min = x;
        }
        if x > max {
            max = x;
        }
        sum.add(x);
        // Strict `<` keeps the earliest input position on ties for first, `>=` the latest for last.
        if t < ts[first] {
            first = i;
        }
        if t >= ts[last] {
            last = i;
        }
    }
    let sum = sum.value();
    let mean = mean_from_sum(values, sum);
    let std = population_std(values, mean, min, max);
    let mut scratch = values.to_vec();
    let p = percentiles_in_place(&mut scratch, &STATS_PERCENTILES);
    let point = |i: usize| Point {
        index: i as u32,
        ts_ms: ts[i],
        value: values[i],
    };
    WindowStats {
        count: n as u32,
        min,
        max,
        sum,
        mean,
        std,
        first: Some(point(first)),
        last: Some(point(last)),
        p50: p[0],
        p90: p[1],
        p95: p[2],
        p99: p[3],
    }
}
