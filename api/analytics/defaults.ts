// Default parameters of the analytics functions; a test checks they equal the Rust core's.
export const ROLLING_ZSCORE_DEFAULT_WINDOW = 60
export const ROLLING_ZSCORE_DEFAULT_THRESHOLD = 3
/** Each point costs O(window), so the window is bounded to keep a call's cost predictable. */
export const ROLLING_ZSCORE_MAX_WINDOW = 10_000
export const ROBUST_ZSCORE_DEFAULT_THRESHOLD = 3.5
/** Φ⁻¹(0.75): makes MAD-based scores comparable to standard z-scores for normal data. */
export const ROBUST_ZSCORE_MAD_FACTOR = 0.6745
/** √(π/2): mean absolute deviation × this estimates σ for normal data (fallback when MAD is 0). */
export const ROBUST_ZSCORE_MEAN_AD_FACTOR = 1.253314
export const EWMA_DEFAULT_ALPHA = 0.3
export const EWMA_DEFAULT_LIMIT_SIGMAS = 3
