//! Telemetry payload validation: payload bytes in, columnar accepted readings and coded rejects out.
//!
//! A message is one JSON snapshot `{ "ts"?, "values": { key: number } }` or an array of them; see
//! `docs/protocol.md` for the contract and `RejectCode` for every reason a reading is refused.

mod codes;
mod iso;
mod message;
mod registry;
mod scan;

pub use codes::{reject_code_names, RejectCode};
pub use registry::SensorSpec;
pub use scan::MAX_DEPTH;

use message::{validate_message, Scratch};
use registry::Registry;

/// Limits applied to every message.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ValidatorOptions {
    /// A message with more readings than this is rejected whole with `PAYLOAD_BATCH_TOO_LARGE`.
    pub max_readings_per_message: u32,
    /// Readings up to this many ms ahead of `now_ms` are accepted (device clocks drift).
    pub future_tolerance_ms: f64,
    /// Readings up to this many ms before `now_ms` are accepted (devices replay buffered data).
    pub backfill_window_ms: f64,
}

/// One message to validate: its body, the machine that published it, and when it arrived
/// (the timestamp of snapshots without `ts`).
#[derive(Clone, Copy, Debug)]
pub struct MessageRef<'a> {
    pub payload: &'a [u8],
    pub machine_id: i32,
    pub received_ms: f64,
}

/// Results of a batch, columnar. Rows of the accepted columns share an index, and so do rows of
/// the reject columns. Rejects carry `NaN` for a ts or value that does not apply and an empty key
/// for message- and snapshot-level rejects.
#[derive(Clone, Debug, Default)]
pub struct ValidationOutput {
    pub msg_index: Vec<u32>,
    pub sensor_id: Vec<i32>,
    pub ts_ms: Vec<f64>,
    pub value: Vec<f64>,
    pub reject_msg_index: Vec<u32>,
    pub reject_code: Vec<u8>,
    pub reject_key: Vec<String>,
    pub reject_detail: Vec<String>,
    pub reject_ts_ms: Vec<f64>,
    pub reject_value: Vec<f64>,
}

impl ValidationOutput {
    fn push_reject(
        &mut self,
        msg_index: u32,
        code: RejectCode,
        key: String,
        detail: String,
        ts_ms: f64,
        value: f64,
    ) {
        self.reject_msg_index.push(msg_index);
        self.reject_code.push(code as u8);
        self.reject_key.push(key);
        self.reject_detail.push(detail);
        self.reject_ts_ms.push(ts_ms);
        self.reject_value.push(value);
    }

    fn truncate(&mut self, accepted: usize, rejected: usize) {
        self.msg_index.truncate(accepted);
        self.sensor_id.truncate(accepted);
        self.ts_ms.truncate(accepted);
        self.value.truncate(accepted);
        self.reject_msg_index.truncate(rejected);
        self.reject_code.truncate(rejected);
        self.reject_key.truncate(rejected);
        self.reject_detail.truncate(rejected);
        self.reject_ts_ms.truncate(rejected);
        self.reject_value.truncate(rejected);
    }
}

/// Validates telemetry against the registered sensors. Cheap to query from many batches; sensor
/// updates need `&mut self`.
pub struct Validator {
    options: ValidatorOptions,
    registry: Registry,
}

impl Validator {
    /// Checks the options once; the error names the offending option.
    pub fn new(options: ValidatorOptions) -> Result<Validator, String> {
        for (name, value) in [
            ("futureToleranceMs", options.future_tolerance_ms),
            ("backfillWindowMs", options.backfill_window_ms),
        ] {
            if value.is_nan() || value < 0.0 {
                return Err(format!("{name} must be a number >= 0, got {value}"));
            }
        }
        Ok(Validator {
            options,
            registry: Registry::new(),
        })
    }

    pub fn options(&self) -> ValidatorOptions {
        self.options
    }

    /// How many sensors are registered.
    pub fn sensor_count(&self) -> usize {
        self.registry.len()
    }

    /// Registers a sensor or replaces the one with the same `sensor_id`.
    pub fn upsert_sensor(&mut self, sensor: &SensorSpec) {
        self.registry.upsert(sensor);
    }

    /// Forgets a sensor; unknown ids are ignored.
    pub fn remove_sensor(&mut self, sensor_id: i32) {
        self.registry.remove(sensor_id);
    }

    /// Validates a batch. `now_ms` is the reference for the future tolerance and backfill window.
    /// Never panics, whatever the payload bytes.
    pub fn validate(&self, messages: &[MessageRef], now_ms: f64) -> ValidationOutput {
        let mut out = ValidationOutput::default();
        let mut scratch = Scratch::default();
        for (index, message) in messages.iter().enumerate() {
            validate_message(self, &mut scratch, message, index as u32, now_ms, &mut out);
        }
        out
    }
}
