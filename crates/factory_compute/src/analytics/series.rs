//! A validated series (timestamps in ms + values) and its time order.
use super::error::{AnalyticsError, ErrorCode};
use std::cmp::Ordering;

/// A borrowed series: parallel arrays, every entry finite, at most `u32::MAX` points.
/// Order is free: timestamps may be unsorted and repeat.
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    ts_ms: &'a [f64],
    values: &'a [f64],
}

impl<'a> Series<'a> {
    /// Checks lengths and finiteness once, so the algorithms never see NaN or infinities.
    pub fn new(ts_ms: &'a [f64], values: &'a [f64]) -> Result<Self, AnalyticsError> {
        if ts_ms.len() != values.len() {
            return Err(AnalyticsError::new(
                ErrorCode::SeriesLengthMismatch,
                "values",
                format!("has {} entries but tsMs has {}", values.len(), ts_ms.len()),
            ));
        }
        if u32::try_from(values.len()).is_err() {
            return Err(AnalyticsError::new(
                ErrorCode::SeriesTooLong,
                "values",
                format!("has {} entries, more than {}", values.len(), u32::MAX),
            ));
        }
        // `all` on a plain slice is cheap next to any algorithm here; finding the index is the rare path.
        for (field, column) in [("tsMs", ts_ms), ("values", values)] {
            if !column.iter().all(|x| x.is_finite()) {
                let at = column.iter().position(|x| !x.is_finite()).unwrap_or(0);
                return Err(AnalyticsError::new(
                    ErrorCode::SeriesNotFinite,
                    field,
                    format!("entry {at} is {}", column[at]),
                ));
            }
        }
        Ok(Self { ts_ms, values })
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn ts_ms(&self) -> &'a [f64] {
        self.ts_ms
    }

    pub fn values(&self) -> &'a [f64] {
        self.values
    }

    /// Input positions in time order; points with equal timestamps keep their input order.
    pub fn time_order(&self) -> TimeOrder {
        let ts = self.ts_ms;
        if ts.windows(2).all(|w| w[0] <= w[1]) {
            return TimeOrder::Sorted;
        }
        let mut order: Vec<u32> = (0..ts.len() as u32).collect();
        // Stable sort: ties keep input order. partial_cmp (not total_cmp) so that -0 and 0 tie, as in JS.
        order.sort_by(|&a, &b| {
            ts[a as usize]
                .partial_cmp(&ts[b as usize])
                .unwrap_or(Ordering::Equal)
        });
        TimeOrder::Permuted(order)
    }

    /// Values in time order, borrowed when the input is already sorted.
    pub fn values_in_order<'o>(&self, order: &'o TimeOrder) -> std::borrow::Cow<'a, [f64]> {
        match order {
            TimeOrder::Sorted => std::borrow::Cow::Borrowed(self.values),
            TimeOrder::Permuted(p) => {
                std::borrow::Cow::Owned(p.iter().map(|&i| self.values[i as usize]).collect())
            }
        }
    }
}

/// Time order of a series: the identity when the timestamps are already non-decreasing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeOrder {
    Sorted,
    Permuted(Vec<u32>),
}

impl TimeOrder {
    /// Input position of the `k`-th point in time order.
    #[inline]
    pub fn at(&self, k: usize) -> usize {
        match self {
            TimeOrder::Sorted => k,
            TimeOrder::Permuted(p) => p[k] as usize,
        }
    }
}
