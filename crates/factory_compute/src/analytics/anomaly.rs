//! Anomaly detection: rolling z-score, robust (median/MAD) z-score, EWMA control chart.
//! Each returns the anomalous points in time order (ties: input order) and the threshold used.
use super::error::AnalyticsError;
use super::numeric::{mean_from_sum, percentiles_in_place, population_std, NeumaierSum};
use super::series::Series;

pub const ROLLING_ZSCORE_DEFAULT_WINDOW: u32 = 60;
pub const ROLLING_ZSCORE_DEFAULT_THRESHOLD: f64 = 3.0;
/// Each point costs O(window), so the window is bounded to keep a call's cost predictable.
pub const ROLLING_ZSCORE_MAX_WINDOW: u32 = 10_000;
pub const ROBUST_ZSCORE_DEFAULT_THRESHOLD: f64 = 3.5;
/// 0.6745 = Φ⁻¹(0.75): makes MAD-based scores comparable to standard z-scores for normal data.
pub const ROBUST_ZSCORE_MAD_FACTOR: f64 = 0.6745;
/// √(π/2): the mean absolute deviation times this estimates σ for normal data (fallback when MAD is 0).
pub const ROBUST_ZSCORE_MEAN_AD_FACTOR: f64 = 1.253314;
pub const EWMA_DEFAULT_ALPHA: f64 = 0.3;
pub const EWMA_DEFAULT_LIMIT_SIGMAS: f64 = 3.0;

/// Anomalous points as columns, plus the threshold the scores were compared with (|score| > threshold).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Anomalies {
    pub threshold: f64,
    pub index: Vec<u32>,
    pub ts_ms: Vec<f64>,
    pub value: Vec<f64>,
    pub score: Vec<f64>,
}

impl Anomalies {
    fn new(threshold: f64) -> Self {
        Self {
            threshold,
            ..Self::default()
        }
    }

    fn push_if_anomalous(&mut self, series: &Series<'_>, i: usize, score: f64) {
        if score.abs() > self.threshold {
            self.index.push(i as u32);
            self.ts_ms.push(series.ts_ms()[i]);
            self.value.push(series.values()[i]);
            self.score.push(score);
        }
    }
}

/// Deviation over spread; a deviation from a zero spread scores ±infinity, no deviation scores 0.
#[inline]
fn ratio(deviation: f64, spread: f64) -> f64 {
    if spread > 0.0 {
        deviation / spread
    } else if deviation == 0.0 {
        0.0
    } else {
        deviation.signum() * f64::INFINITY
    }
}

fn check_threshold(field: &'static str, threshold: f64) -> Result<(), AnalyticsError> {
    if threshold.is_finite() && threshold > 0.0 {
        Ok(())
    } else {
        Err(AnalyticsError::param(
            field,
            format!("must be a finite number > 0, got {threshold}"),
        ))
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RollingZScoreParams {
    /// Number of preceding points (in time order) each point is compared with; 2..=10 000.
    pub window: u32,
    /// Flag points with |z| above this.
    pub threshold: f64,
}

impl Default for RollingZScoreParams {
    fn default() -> Self {
        Self {
            window: ROLLING_ZSCORE_DEFAULT_WINDOW,
            threshold: ROLLING_ZSCORE_DEFAULT_THRESHOLD,
        }
    }
}

/// z = (x - mean) / std of the `window` points preceding x in time order (population std, x excluded,
/// so an outlier cannot mask itself). The first `window` points are not scored.
/// Cost O(n·window): each window is summed afresh, which keeps results exact where running sums drift.
pub fn rolling_zscore(
    series: Series<'_>,
    params: RollingZScoreParams,
) -> Result<Anomalies, AnalyticsError> {
    if !(2..=ROLLING_ZSCORE_MAX_WINDOW).contains(&params.window) {
        return Err(AnalyticsError::param(
            "window",
            format!(
                "must be an integer in 2..={ROLLING_ZSCORE_MAX_WINDOW}, got {}",
                params.window
            ),
        ));
    }
    check_threshold("threshold", params.threshold)?;
    let mut out = Anomalies::new(params.threshold);
    let order = series.time_order();
    let sorted = series.values_in_order(&order);
    let w = params.window as usize;
    for k in w..sorted.len() {
        let window = &sorted[k - w..k];
        let (mut sum, mut min, mut max) = (0.0, window[0], window[0]);
        for &x in window {
            sum += x;
            if x < min {
                min = x;
            }
            if x > max {
                max = x;
            }
        }
        let mean = mean_from_sum(window, sum);
        let std = population_std(window, mean, min, max);
        out.push_if_anomalous(&series, order.at(k), ratio(sorted[k] - mean, std));
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RobustZScoreParams {
    /// Flag points with |modified z| above this (Iglewicz & Hoaglin recommend 3.5).
    pub threshold: f64,
}

impl Default for RobustZScoreParams {
    fn default() -> Self {
        Self {
            threshold: ROBUST_ZSCORE_DEFAULT_THRESHOLD,
        }
    }
}

/// Modified z-score over the whole series: 0.6745·(x - median) / MAD, MAD = median |x - median|.
/// When MAD is 0 (over half the points equal), uses (x - median) / (1.253314·mean |x - median|);
/// when that is 0 too, every point equals the median and scores 0. Medians as in window statistics.
pub fn robust_zscore(
    series: Series<'_>,
    params: RobustZScoreParams,
) -> Result<Anomalies, AnalyticsError> {
    check_threshold("threshold", params.threshold)?;
    let mut out = Anomalies::new(params.threshold);
    let values = series.values();
    if values.is_empty() {
        return Ok(out);
    }
    let mut scratch = values.to_vec();
    let median = percentiles_in_place(&mut scratch, &[0.5])[0];
    for (d, &x) in scratch.iter_mut().zip(values) {
        *d = (x - median).abs();
    }
    let mut mean_ad = NeumaierSum::default();
    for &d in &scratch {
        mean_ad.add(d);
    }
    let mean_ad = mean_from_sum(&scratch, mean_ad.value());
    let mad = percentiles_in_place(&mut scratch, &[0.5])[0];
    let order = series.time_order();
    for k in 0..values.len() {
        let i = order.at(k);
        let deviation = values[i] - median;
        let score = if mad > 0.0 {
            ratio(ROBUST_ZSCORE_MAD_FACTOR * deviation, mad)
        } else {
            ratio(deviation, ROBUST_ZSCORE_MEAN_AD_FACTOR * mean_ad)
        };
        out.push_if_anomalous(&series, i, score);
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EwmaParams {
    /// Smoothing factor λ in (0, 1]: weight of the newest point.
    pub alpha: f64,
    /// Control limits at ±L standard deviations of the EWMA statistic.
    pub limit_sigmas: f64,
    /// In-control reference: mean and population std of the first this-many points in time order;
    /// 0 (the default) or more than the series length means all points.
    pub baseline_points: u32,
}

impl Default for EwmaParams {
    fn default() -> Self {
        Self {
            alpha: EWMA_DEFAULT_ALPHA,
            limit_sigmas: EWMA_DEFAULT_LIMIT_SIGMAS,
            baseline_points: 0,
        }
    }
}

/// EWMA control chart: z_t = α·x_t + (1 - α)·z_{t-1}, z_0 = μ; point t is anomalous when
/// |z_t - μ| > L·σ·√(α/(2 - α)·(1 - (1 - α)^(2t))); its score is (z_t - μ) over that σ term.
/// μ, σ: mean and population std of the baseline. Detects small sustained shifts a z-score misses.
pub fn ewma(series: Series<'_>, params: EwmaParams) -> Result<Anomalies, AnalyticsError> {
    if !(params.alpha > 0.0 && params.alpha <= 1.0) {
        return Err(AnalyticsError::param(
            "alpha",
            format!("must be in (0, 1], got {}", params.alpha),
        ));
    }
    check_threshold("limitSigmas", params.limit_sigmas)?;
    let mut out = Anomalies::new(params.limit_sigmas);
    if series.is_empty() {
        return Ok(out);
    }
    let order = series.time_order();
    let sorted = series.values_in_order(&order);
    let baseline_len = match params.baseline_points as usize {
        0 => sorted.len(),
        b => b.min(sorted.len()),
    };
    let baseline = &sorted[..baseline_len];
    let (center, sigma) = mean_and_std(baseline);
    let keep = 1.0 - params.alpha;
    let keep_squared = keep * keep;
    let variance_factor = params.alpha / (2.0 - params.alpha);
    let mut z = center;
    // (1 - α)^(2t), updated by multiplication so both implementations round identically.
    let mut decay = 1.0;
    for (k, &x) in sorted.iter().enumerate() {
        z = params.alpha * x + keep * z;
        decay *= keep_squared;
        let spread = sigma * (variance_factor * (1.0 - decay)).sqrt();
        out.push_if_anomalous(&series, order.at(k), ratio(z - center, spread));
    }
    Ok(out)
}

fn mean_and_std(values: &[f64]) -> (f64, f64) {
    let (mut sum, mut min, mut max) = (NeumaierSum::default(), values[0], values[0]);
    for &x in values {
        sum.add(x);
        if x < min {
            min = x;
        }
        if x > max {
            max = x;
        }
    }
    let mean = mean_from_sum(values, sum.value());
    (mean, population_std(values, mean, min, max))
}
