//! Analytics over sensor series: statistics, anomaly detection, downsampling.
//! Napi-free: usable from `cargo test` and other crates. The TypeScript twins in api/analytics/ implement
//! the same definitions and are the reference the property tests compare with (see docs/analytics.md).
pub mod anomaly;
pub mod downsample;
pub mod error;
pub mod numeric;
pub mod series;
pub mod stats;

pub use anomaly::{
    ewma, robust_zscore, rolling_zscore, Anomalies, EwmaParams, RobustZScoreParams,
    RollingZScoreParams,
};
pub use downsample::{downsample_buckets, lttb, BucketParams, Buckets, SampledPoints};
pub use error::{AnalyticsError, ErrorCode};
pub use series::{Series, TimeOrder};
pub use stats::{window_stats, Point, WindowStats};
