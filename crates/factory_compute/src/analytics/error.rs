//! The one error type of the analytics core, with stable codes shared with the TypeScript twins.
use std::fmt;

/// What went wrong; each variant maps to one stable `ANALYTICS_*` code (see docs/analytics.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// `ts_ms` and `values` have different lengths.
    SeriesLengthMismatch,
    /// A timestamp or value is NaN or infinite.
    SeriesNotFinite,
    /// The series has more points than a `u32` index can address.
    SeriesTooLong,
    /// A parameter is out of its documented range.
    ParamInvalid,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::SeriesLengthMismatch => "ANALYTICS_SERIES_LENGTH_MISMATCH",
            ErrorCode::SeriesNotFinite => "ANALYTICS_SERIES_NOT_FINITE",
            ErrorCode::SeriesTooLong => "ANALYTICS_SERIES_TOO_LONG",
            ErrorCode::ParamInvalid => "ANALYTICS_PARAM_INVALID",
        }
    }
}

/// An input the analytics core refuses, naming the offending field (`tsMs`, `values` or a parameter).
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyticsError {
    pub code: ErrorCode,
    pub field: &'static str,
    pub message: String,
}

impl AnalyticsError {
    pub fn new(code: ErrorCode, field: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            field,
            message: message.into(),
        }
    }

    pub(crate) fn param(field: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ParamInvalid, field, message)
    }
}

/// `CODE [field]: message` — the bindings pass this text to JavaScript, which parses code and field back out.
impl fmt::Display for AnalyticsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} [{}]: {}",
            self.code.as_str(),
            self.field,
            self.message
        )
    }
}

impl std::error::Error for AnalyticsError {}

/// Result of a core analytics function.
pub type Result<T> = std::result::Result<T, AnalyticsError>;

/// A count parameter given as a JS number: must be a whole number in 0..=u32::MAX (a plain cast would wrap).
pub fn whole_number(field: &'static str, value: f64) -> Result<u32> {
    if value.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&value) {
        Ok(value as u32)
    } else {
        Err(AnalyticsError::param(
            field,
            format!("must be a whole number, got {value}"),
        ))
    }
}
