//! Node-API bindings for the validator: argument checks and conversions around `crate::validate`.
// napi-derive compiles the exports out of unit-test builds, leaving them unused there.
#![cfg_attr(test, allow(dead_code))]
use napi::bindgen_prelude::{Float64Array, Int32Array, Uint32Array, Uint8Array};
use napi::{Error, Result, Status};
use napi_derive::napi;

use crate::validate::{self as core, reject_code_names, MessageRef, SensorSpec};

/// Limits applied to every message.
#[napi(object)]
pub struct ValidatorOptions {
    /// A message with more readings than this is rejected whole (`PAYLOAD_BATCH_TOO_LARGE`). Integer >= 0.
    pub max_readings_per_message: f64,
    /// Readings up to this many ms ahead of `nowMs` are accepted (`READING_TS_IN_FUTURE` beyond).
    pub future_tolerance_ms: f64,
    /// Readings up to this many ms before `nowMs` are accepted (`READING_TS_TOO_OLD` beyond).
    pub backfill_window_ms: f64,
}

/// Results of one `validate` call. Accepted readings share an index across the first four columns,
/// rejects across the `reject*` columns. `rejectTsMs`/`rejectValue` are NaN where not applicable;
/// `rejectKey` is "" for message- and snapshot-level rejects. `rejectCode` indexes `rejectCodes()`.
#[napi(object)]
pub struct ValidationBatch {
    pub msg_index: Uint32Array,
    pub sensor_id: Int32Array,
    pub ts_ms: Float64Array,
    pub value: Float64Array,
    pub reject_msg_index: Uint32Array,
    pub reject_code: Uint8Array,
    pub reject_key: Vec<String>,
    pub reject_detail: Vec<String>,
    pub reject_ts_ms: Float64Array,
    pub reject_value: Float64Array,
}

/// Validates telemetry payloads in batches against registered sensors.
#[napi]
pub struct Validator {
    inner: core::Validator,
}

#[napi]
impl Validator {
    #[napi(constructor, catch_unwind)]
    pub fn new(options: ValidatorOptions) -> Result<Validator> {
        let max = options.max_readings_per_message;
        if !(max.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&max)) {
            return Err(invalid_arg(format!(
                "maxReadingsPerMessage must be an integer from 0 to {}, got {max}",
                u32::MAX
            )));
        }
        let inner = core::Validator::new(core::ValidatorOptions {
            max_readings_per_message: max as u32,
            future_tolerance_ms: options.future_tolerance_ms,
            backfill_window_ms: options.backfill_window_ms,
        })
        .map_err(invalid_arg)?;
        Ok(Validator { inner })
    }

    /// How many sensors are registered.
    #[napi(getter, catch_unwind)]
    pub fn sensor_count(&self) -> u32 {
        self.inner.sensor_count() as u32
    }

    /// Register or update sensors (same sensorId replaces). minValues/maxValues NaN = no bound.
    #[napi(catch_unwind)]
    pub fn upsert_sensors(
        &mut self,
        machine_ids: &[i32],
        sensor_ids: &[i32],
        keys: Vec<String>,
        min_values: &[f64],
        max_values: &[f64],
    ) -> Result<()> {
        let count = sensor_ids.len();
        let lengths = [
            machine_ids.len(),
            keys.len(),
            min_values.len(),
            max_values.len(),
        ];
        if lengths.iter().any(|&length| length != count) {
            return Err(invalid_arg(
                "upsertSensors: machineIds, sensorIds, keys, minValues and maxValues must have the same length"
                    .to_owned(),
            ));
        }
        for (index, key) in keys.into_iter().enumerate() {
            self.inner.upsert_sensor(&SensorSpec {
                machine_id: machine_ids[index],
                sensor_id: sensor_ids[index],
                key,
                min_value: min_values[index],
                max_value: max_values[index],
            });
        }
        Ok(())
    }

    /// Forget sensors; unknown ids are ignored.
    #[napi(catch_unwind)]
    pub fn remove_sensors(&mut self, sensor_ids: &[i32]) {
        for &sensor_id in sensor_ids {
            self.inner.remove_sensor(sensor_id);
        }
    }

    /// payloads: all message bodies concatenated; offsets has n+1 entries; message i = payloads[offsets[i]..offsets[i+1]].
    #[napi(catch_unwind)]
    pub fn validate(
        &self,
        payloads: &[u8],
        offsets: &[u32],
        machine_ids: &[i32],
        received_ms: &[f64],
        now_ms: f64,
    ) -> Result<ValidationBatch> {
        let messages = messages(payloads, offsets, machine_ids, received_ms)?;
        if !now_ms.is_finite() {
            return Err(invalid_arg(format!(
                "validate: nowMs must be a finite number, got {now_ms}"
            )));
        }
        let out = self.inner.validate(&messages, now_ms);
        Ok(ValidationBatch {
            msg_index: Uint32Array::new(out.msg_index),
            sensor_id: Int32Array::new(out.sensor_id),
            ts_ms: Float64Array::new(out.ts_ms),
            value: Float64Array::new(out.value),
            reject_msg_index: Uint32Array::new(out.reject_msg_index),
            reject_code: Uint8Array::new(out.reject_code),
            reject_key: out.reject_key,
            reject_detail: out.reject_detail,
            reject_ts_ms: Float64Array::new(out.reject_ts_ms),
            reject_value: Float64Array::new(out.reject_value),
        })
    }
}

/// Splits the concatenated payloads, checking every offset before any slicing.
fn messages<'a>(
    payloads: &'a [u8],
    offsets: &[u32],
    machine_ids: &[i32],
    received_ms: &[f64],
) -> Result<Vec<MessageRef<'a>>> {
    let count = machine_ids.len();
    if offsets.len() != count + 1 || received_ms.len() != count {
        return Err(invalid_arg(format!(
            "validate: offsets must have machineIds.length + 1 entries and receivedMs machineIds.length \
             (got {} offsets, {} machineIds, {} receivedMs)",
            offsets.len(),
            count,
            received_ms.len()
        )));
    }
    let mut messages = Vec::with_capacity(count);
    for index in 0..count {
        let start = offsets[index] as usize;
        let end = offsets[index + 1] as usize;
        let Some(payload) = payloads.get(start..end) else {
            return Err(invalid_arg(format!(
                "validate: offsets[{index}]..offsets[{}] = {start}..{end} is not a range within payloads (length {})",
                index + 1,
                payloads.len()
            )));
        };
        messages.push(MessageRef {
            payload,
            machine_id: machine_ids[index],
            received_ms: received_ms[index],
        });
    }
    Ok(messages)
}

fn invalid_arg(message: String) -> Error {
    Error::new(Status::InvalidArg, message)
}

/// Reject code names indexed by the numeric codes in `ValidationBatch.rejectCode`; index 0 is "OK".
#[napi(catch_unwind)]
pub fn reject_codes() -> Vec<&'static str> {
    reject_code_names()
}

/// Diagnostic: panics inside Rust on purpose so a test can prove that panics surface as JS errors
/// instead of aborting the process. Not used by the product.
#[napi(catch_unwind)]
pub fn validator_self_test_panic() {
    panic!("validatorSelfTestPanic: deliberate panic");
}
