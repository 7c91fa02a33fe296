//! Numerically careful building blocks: compensated sums, scaled deviations, exact percentiles.
//! The TypeScript twins (api/analytics/numeric.ts) perform the same operations in the same order.

/// Neumaier's compensated sum: error independent of the number of terms for all but pathological inputs.
#[derive(Debug, Default, Clone, Copy)]
pub struct NeumaierSum {
    sum: f64,
    compensation: f64,
}

impl NeumaierSum {
    #[inline]
    pub fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.compensation += (self.sum - t) + x;
        } else {
            self.compensation += (x - t) + self.sum;
        }
        self.sum = t;
    }

    /// The sum; an overflowed running sum is reported as is (the compensation would be NaN).
    pub fn value(&self) -> f64 {
        if self.sum.is_finite() {
            self.sum + self.compensation
        } else {
            self.sum
        }
    }
}

/// Mean of `values` given their sum; when the sum overflowed, averages `x / n` terms instead.
pub fn mean_from_sum(values: &[f64], sum: f64) -> f64 {
    let n = values.len() as f64;
    if sum.is_finite() {
        return sum / n;
    }
    let mut scaled = NeumaierSum::default();
    for &x in values {
        scaled.add(x / n);
    }
    scaled.value()
}

/// Squares of deviations stay within this range without overflow or underflow, so no scaling is needed.
const UNSCALED_RANGE_MIN: f64 = 1e-100;
const UNSCALED_RANGE_MAX: f64 = 1e100;

/// Population standard deviation (divides by n) of `values` around `mean`, `min`/`max` being their extremes.
/// Deviations are divided by the range when squaring them could overflow (|x| ~ 1e300) or underflow
/// (|x| ~ 1e-300), so such series get a finite, accurate result. Supported while max - min is finite.
pub fn population_std(values: &[f64], mean: f64, min: f64, max: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let range = max - min;
    if range == 0.0 {
        return 0.0;
    }
    let n = values.len() as f64;
    if (UNSCALED_RANGE_MIN..=UNSCALED_RANGE_MAX).contains(&range) {
        let mut squares = 0.0;
        for &x in values {
            let d = x - mean;
            squares += d * d;
        }
        return (squares / n).sqrt();
    }
    let mut squares = 0.0;
    for &x in values {
        let d = (x - mean) / range;
        squares += d * d;
    }
    range * (squares / n).sqrt()
}

/// The percentiles reported by window statistics.
pub const STATS_PERCENTILES: [f64; 4] = [0.5, 0.9, 0.95, 0.99];

/// Exact percentiles (p in [0, 1]) by linear interpolation between closest ranks, numpy's default
/// ('linear'): h = (n - 1)·p, result = x[⌊h⌋] + (x[⌊h⌋ + 1] - x[⌊h⌋])·(h - ⌊h⌋) over the sorted values.
/// Reorders `values` (select_nth_unstable, one O(n) selection per distinct rank over a shrinking
/// suffix). NaN for an empty slice.
pub fn percentiles_in_place(values: &mut [f64], ps: &[f64]) -> Vec<f64> {
    let n = values.len();
    if n == 0 {
        return vec![f64::NAN; ps.len()];
    }
    let mut ranks: Vec<usize> = Vec::with_capacity(ps.len() * 2);
    for &p in ps {
        let (lo, frac) = rank_of(n, p);
        ranks.push(lo);
        if frac > 0.0 {
            ranks.push(lo + 1);
        }
    }
    ranks.sort_unstable();
    ranks.dedup();
    // Smallest rank first: selecting rank r leaves every larger rank in the suffix after r, and the
    // reported percentiles sit in the upper half, so each later selection scans a much shorter suffix.
    let mut start = 0;
    for &r in &ranks {
        values[start..].select_nth_unstable_by(r - start, f64::total_cmp);
        start = r + 1;
    }
    ps.iter()
        .map(|&p| {
            let (lo, frac) = rank_of(n, p);
            if frac > 0.0 {
                interpolate(values[lo], values[lo + 1], frac)
            } else {
                values[lo]
            }
        })
        .collect()
}

/// Lower closest rank and interpolation fraction of percentile `p` among `n` sorted values.
pub fn rank_of(n: usize, p: f64) -> (usize, f64) {
    let h = (n - 1) as f64 * p;
    let lo = h.floor();
    let lo_rank = (lo as usize).min(n - 1);
    let frac = if lo_rank == n - 1 { 0.0 } else { h - lo };
    (lo_rank, frac)
}

/// a + (b - a)·t, exact when a == b; falls back to a·(1 - t) + b·t if b - a overflows.
pub fn interpolate(a: f64, b: f64, t: f64) -> f64 {
    let span = b - a;
    if span.is_finite() {
        a + span * t
    } else {
        a * (1.0 - t) + b * t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neumaier_recovers_terms_a_naive_sum_loses() {
        let mut s = NeumaierSum::default();
        for x in [1.0, 1e100, 1.0, -1e100] {
            s.add(x);
        }
        assert_eq!(s.value(), 2.0);
    }

    #[test]
    fn percentiles_match_numpy_linear_on_0_to_100() {
        let mut v: Vec<f64> = (0..=100).rev().map(f64::from).collect();
        assert_eq!(
            percentiles_in_place(&mut v, &STATS_PERCENTILES),
            vec![50.0, 90.0, 95.0, 99.0]
        );
    }

    #[test]
    fn std_of_huge_and_tiny_magnitudes_is_finite_and_scaled() {
        let huge = [1e300, 3e300];
        assert_eq!(population_std(&huge, 2e300, 1e300, 3e300), 1e300);
        let tiny = [1e-300, 3e-300];
        assert_eq!(population_std(&tiny, 2e-300, 1e-300, 3e-300), 1e-300);
    }
}
