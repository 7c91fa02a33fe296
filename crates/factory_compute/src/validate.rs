//! Telemetry payload validation (placeholder module body filled in below).
pub fn version() -> u32 { 1 }
