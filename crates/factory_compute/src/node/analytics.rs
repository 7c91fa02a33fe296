//! Node-API bindings for analytics: typed arrays in, columns of typed arrays out, in a synchronous form
//! (borrows the caller's arrays) and an `...Async` form (napi AsyncTask on the libuv pool, returns a
//! Promise; the caller must not mutate the input arrays until it settles). Every export catches panics.
// napi-derive compiles the exports out of unit-test builds, leaving their helpers unused there.
#![cfg_attr(test, allow(dead_code))]
use crate::analytics::{
    self as core, AnalyticsError, Anomalies, BucketParams, Buckets, EwmaParams, RobustZScoreParams,
    RollingZScoreParams, SampledPoints, Series, WindowStats,
};
use napi::bindgen_prelude::{
    panic_to_error, AsyncTask, Float64Array, Float64ArraySlice, ToNapiValue, TypeName, Uint32Array,
};
use napi::{Env, Error, Result, Status, Task};
use napi_derive::napi;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The one mapping from core errors to JS errors: the message carries `CODE [field]: text`.
fn to_js_error(error: AnalyticsError) -> Error {
    Error::new(Status::InvalidArg, error.to_string())
}

fn run<R>(
    ts_ms: &[f64],
    values: &[f64],
    f: impl FnOnce(Series<'_>) -> core::error::Result<R>,
) -> Result<R> {
    Series::new(ts_ms, values).and_then(f).map_err(to_js_error)
}

fn count_param(field: &'static str, value: f64) -> Result<u32> {
    core::error::whole_number(field, value).map_err(to_js_error)
}

/// Statistics of a series; empty series: count 0, sum 0, firstIndex/lastIndex -1, the rest NaN.
#[napi(object)]
pub struct WindowStatsResult {
    pub count: u32,
    pub min: f64,
    pub max: f64,
    pub sum: f64,
    pub mean: f64,
    /// Population standard deviation.
    pub std: f64,
    pub first_index: i64,
    pub first_ts_ms: f64,
    pub first_value: f64,
    pub last_index: i64,
    pub last_ts_ms: f64,
    pub last_value: f64,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
}

impl From<WindowStats> for WindowStatsResult {
    fn from(s: WindowStats) -> Self {
        let point = |p: Option<core::Point>| {
            p.map_or((-1, f64::NAN, f64::NAN), |p| {
                (p.index.into(), p.ts_ms, p.value)
            })
        };
        let (first_index, first_ts_ms, first_value) = point(s.first);
        let (last_index, last_ts_ms, last_value) = point(s.last);
        Self {
            count: s.count,
            min: s.min,
            max: s.max,
            sum: s.sum,
            mean: s.mean,
            std: s.std,
            first_index,
            first_ts_ms,
            first_value,
            last_index,
            last_ts_ms,
            last_value,
            p50: s.p50,
            p90: s.p90,
            p95: s.p95,
            p99: s.p99,
        }
    }
}

/// Anomalous points in time order; |score| > threshold for each.
#[napi(object)]
pub struct AnomaliesResult {
    pub threshold: f64,
    pub index: Uint32Array,
    pub ts_ms: Float64Array,
    pub value: Float64Array,
    pub score: Float64Array,
}

impl From<Anomalies> for AnomaliesResult {
    fn from(a: Anomalies) -> Self {
        Self {
            threshold: a.threshold,
            index: Uint32Array::new(a.index),
            ts_ms: Float64Array::new(a.ts_ms),
            value: Float64Array::new(a.value),
            score: Float64Array::new(a.score),
        }
    }
}

/// Non-empty buckets in time order.
#[napi(object)]
pub struct BucketsResult {
    pub start_ms: Float64Array,
    pub count: Uint32Array,
    pub min: Float64Array,
    pub max: Float64Array,
    pub avg: Float64Array,
    pub first: Float64Array,
    pub last: Float64Array,
}

impl From<Buckets> for BucketsResult {
    fn from(b: Buckets) -> Self {
        Self {
            start_ms: Float64Array::new(b.start_ms),
            count: Uint32Array::new(b.count),
            min: Float64Array::new(b.min),
            max: Float64Array::new(b.max),
            avg: Float64Array::new(b.avg),
            first: Float64Array::new(b.first),
            last: Float64Array::new(b.last),
        }
    }
}

/// Selected points in time order.
#[napi(object)]
pub struct SampledResult {
    pub index: Uint32Array,
    pub ts_ms: Float64Array,
    pub value: Float64Array,
}

impl From<SampledPoints> for SampledResult {
    fn from(s: SampledPoints) -> Self {
        Self {
            index: Uint32Array::new(s.index),
            ts_ms: Float64Array::new(s.ts_ms),
            value: Float64Array::new(s.value),
        }
    }
}

/// Rolling z-score options; omitted fields take the defaults (window 60, threshold 3).
#[napi(object)]
pub struct RollingZScoreOptions {
    pub window: Option<f64>,
    pub threshold: Option<f64>,
}

/// Robust z-score options; omitted threshold is 3.5.
#[napi(object)]
pub struct RobustZScoreOptions {
    pub threshold: Option<f64>,
}

/// EWMA options; omitted fields: alpha 0.3, limitSigmas 3, baselinePoints 0 (= all points).
#[napi(object)]
pub struct EwmaOptions {
    pub alpha: Option<f64>,
    pub limit_sigmas: Option<f64>,
    pub baseline_points: Option<f64>,
}

/// Bucket options: width in ms (> 0) and origin (default 0).
#[napi(object)]
pub struct BucketOptions {
    pub bucket_ms: f64,
    pub origin_ms: Option<f64>,
}

fn rolling_params(o: Option<RollingZScoreOptions>) -> Result<RollingZScoreParams> {
    let d = RollingZScoreParams::default();
    let o = o.unwrap_or(RollingZScoreOptions {
        window: None,
        threshold: None,
    });
    Ok(RollingZScoreParams {
        window: o
            .window
            .map(|w| count_param("window", w))
            .transpose()?
            .unwrap_or(d.window),
        threshold: o.threshold.unwrap_or(d.threshold),
    })
}

fn robust_params(o: Option<RobustZScoreOptions>) -> RobustZScoreParams {
    let d = RobustZScoreParams::default();
    RobustZScoreParams {
        threshold: o.and_then(|o| o.threshold).unwrap_or(d.threshold),
    }
}

fn ewma_params(o: Option<EwmaOptions>) -> Result<EwmaParams> {
    let d = EwmaParams::default();
    let o = o.unwrap_or(EwmaOptions {
        alpha: None,
        limit_sigmas: None,
        baseline_points: None,
    });
    Ok(EwmaParams {
        alpha: o.alpha.unwrap_or(d.alpha),
        limit_sigmas: o.limit_sigmas.unwrap_or(d.limit_sigmas),
        baseline_points: o
            .baseline_points
            .map(|b| count_param("baselinePoints", b))
            .transpose()?
            .unwrap_or(0),
    })
}

fn bucket_params(o: BucketOptions) -> BucketParams {
    BucketParams {
        bucket_ms: o.bucket_ms,
        origin_ms: o.origin_ms.unwrap_or(0.0),
    }
}

type Job<R> = Box<dyn FnOnce(Series<'_>) -> core::error::Result<R> + Send>;

/// Runs one core function on the libuv pool; a panic there becomes a rejected Promise.
pub struct SeriesTask<R> {
    ts_ms: Float64Array,
    values: Float64Array,
    job: Option<Job<R>>,
}

fn task<R>(ts_ms: Float64Array, values: Float64Array, job: Job<R>) -> AsyncTask<SeriesTask<R>>
where
    R: Send + ToNapiValue + TypeName + 'static,
{
    AsyncTask::new(SeriesTask {
        ts_ms,
        values,
        job: Some(job),
    })
}

impl<R: Send + ToNapiValue + TypeName + 'static> Task for SeriesTask<R> {
    type Output = R;
    type JsValue = R;

    fn compute(&mut self) -> Result<R> {
        let job = self
            .job
            .take()
            .ok_or_else(|| Error::from_reason("analytics task computed twice"))?;
        let (ts_ms, values) = (&self.ts_ms[..], &self.values[..]);
        catch_unwind(AssertUnwindSafe(|| run(ts_ms, values, job))).map_err(panic_to_error)?
    }

    fn resolve(&mut self, _env: Env, output: R) -> Result<R> {
        Ok(output)
    }
}

#[napi(catch_unwind)]
pub fn analytics_window_stats(
    ts_ms: Float64ArraySlice,
    values: Float64ArraySlice,
) -> Result<WindowStatsResult> {
    run(&ts_ms, &values, |s| Ok(core::window_stats(s).into()))
}

#[napi(catch_unwind, ts_return_type = "Promise<WindowStatsResult>")]
pub fn analytics_window_stats_async(
    ts_ms: Float64Array,
    values: Float64Array,
) -> Result<AsyncTask<SeriesTask<WindowStatsResult>>> {
    Ok(task(
        ts_ms,
        values,
        Box::new(|s| Ok(core::window_stats(s).into())),
    ))
}

#[napi(catch_unwind)]
pub fn analytics_rolling_zscore(
    ts_ms: Float64ArraySlice,
    values: Float64ArraySlice,
    options: Option<RollingZScoreOptions>,
) -> Result<AnomaliesResult> {
    let p = rolling_params(options)?;
    run(&ts_ms, &values, |s| {
        core::rolling_zscore(s, p).map(Into::into)
    })
}

#[napi(catch_unwind, ts_return_type = "Promise<AnomaliesResult>")]
pub fn analytics_rolling_zscore_async(
    ts_ms: Float64Array,
    values: Float64Array,
    options: Option<RollingZScoreOptions>,
) -> Result<AsyncTask<SeriesTask<AnomaliesResult>>> {
    let p = rolling_params(options)?;
    Ok(task(
        ts_ms,
        values,
        Box::new(move |s| core::rolling_zscore(s, p).map(Into::into)),
    ))
}

#[napi(catch_unwind)]
pub fn analytics_robust_zscore(
    ts_ms: Float64ArraySlice,
    values: Float64ArraySlice,
    options: Option<RobustZScoreOptions>,
) -> Result<AnomaliesResult> {
    let p = robust_params(options);
    run(&ts_ms, &values, |s| {
        core::robust_zscore(s, p).map(Into::into)
    })
}

#[napi(catch_unwind, ts_return_type = "Promise<AnomaliesResult>")]
pub fn analytics_robust_zscore_async(
    ts_ms: Float64Array,
    values: Float64Array,
    options: Option<RobustZScoreOptions>,
) -> Result<AsyncTask<SeriesTask<AnomaliesResult>>> {
    let p = robust_params(options);
    Ok(task(
        ts_ms,
        values,
        Box::new(move |s| core::robust_zscore(s, p).map(Into::into)),
    ))
}

#[napi(catch_unwind)]
pub fn analytics_ewma(
    ts_ms: Float64ArraySlice,
    values: Float64ArraySlice,
    options: Option<EwmaOptions>,
) -> Result<AnomaliesResult> {
    let p = ewma_params(options)?;
    run(&ts_ms, &values, |s| core::ewma(s, p).map(Into::into))
}

#[napi(catch_unwind, ts_return_type = "Promise<AnomaliesResult>")]
pub fn analytics_ewma_async(
    ts_ms: Float64Array,
    values: Float64Array,
    options: Option<EwmaOptions>,
) -> Result<AsyncTask<SeriesTask<AnomaliesResult>>> {
    let p = ewma_params(options)?;
    Ok(task(
        ts_ms,
        values,
        Box::new(move |s| core::ewma(s, p).map(Into::into)),
    ))
}

#[napi(catch_unwind)]
pub fn analytics_downsample_buckets(
    ts_ms: Float64ArraySlice,
    values: Float64ArraySlice,
    options: BucketOptions,
) -> Result<BucketsResult> {
    let p = bucket_params(options);
    run(&ts_ms, &values, |s| {
        core::downsample_buckets(s, p).map(Into::into)
    })
}

#[napi(catch_unwind, ts_return_type = "Promise<BucketsResult>")]
pub fn analytics_downsample_buckets_async(
    ts_ms: Float64Array,
    values: Float64Array,
    options: BucketOptions,
) -> Result<AsyncTask<SeriesTask<BucketsResult>>> {
    let p = bucket_params(options);
    Ok(task(
        ts_ms,
        values,
        Box::new(move |s| core::downsample_buckets(s, p).map(Into::into)),
    ))
}

#[napi(catch_unwind)]
pub fn analytics_lttb(
    ts_ms: Float64ArraySlice,
    values: Float64ArraySlice,
    points: f64,
) -> Result<SampledResult> {
    let points = count_param("points", points)?;
    run(&ts_ms, &values, |s| core::lttb(s, points).map(Into::into))
}

#[napi(catch_unwind, ts_return_type = "Promise<SampledResult>")]
pub fn analytics_lttb_async(
    ts_ms: Float64Array,
    values: Float64Array,
    points: f64,
) -> Result<AsyncTask<SeriesTask<SampledResult>>> {
    let points = count_param("points", points)?;
    Ok(task(
        ts_ms,
        values,
        Box::new(move |s| core::lttb(s, points).map(Into::into)),
    ))
}

/// Default parameters of the core, so the TypeScript twins can be checked against them.
#[napi(object)]
pub struct AnalyticsDefaults {
    pub rolling_window: u32,
    pub rolling_threshold: f64,
    pub rolling_max_window: u32,
    pub robust_threshold: f64,
    pub ewma_alpha: f64,
    pub ewma_limit_sigmas: f64,
}

#[napi(catch_unwind)]
pub fn analytics_defaults() -> Result<AnalyticsDefaults> {
    use core::anomaly::*;
    Ok(AnalyticsDefaults {
        rolling_window: ROLLING_ZSCORE_DEFAULT_WINDOW,
        rolling_threshold: ROLLING_ZSCORE_DEFAULT_THRESHOLD,
        rolling_max_window: ROLLING_ZSCORE_MAX_WINDOW,
        robust_threshold: ROBUST_ZSCORE_DEFAULT_THRESHOLD,
        ewma_alpha: EWMA_DEFAULT_ALPHA,
        ewma_limit_sigmas: EWMA_DEFAULT_LIMIT_SIGMAS,
    })
}

/// Diagnostic: panics with `message`, to show that a panic inside an export surfaces as a JS Error
/// (and the process lives on). Used by tests; harmless to call.
#[napi(catch_unwind)]
pub fn analytics_panic_probe(message: String) -> Result<()> {
    panic!("{message}");
}

/// Diagnostic: like `analyticsPanicProbe`, but the panic happens on the libuv pool and rejects the Promise.
#[napi(catch_unwind, ts_return_type = "Promise<WindowStatsResult>")]
pub fn analytics_panic_probe_async(
    message: String,
) -> Result<AsyncTask<SeriesTask<WindowStatsResult>>> {
    Ok(task(
        Float64Array::new(vec![]),
        Float64Array::new(vec![]),
        Box::new(move |_| panic!("{message}")),
    ))
}
