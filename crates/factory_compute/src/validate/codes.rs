//! Reject reason codes of the telemetry validator, declared once here and exported to JS by `rejectCodes()`.

/// Why a message, a snapshot or a reading was rejected. The numeric value is the code carried in
/// `ValidationOutput::reject_code`; `0` is never used (it reads as "OK" in `reject_code_names()`).
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectCode {
    /// Message-level: not JSON, invalid UTF-8, trailing garbage, or nesting deeper than 32.
    PayloadJsonMalformed = 1,
    /// Message-level when the top-level value is not an object or array; snapshot-level when a
    /// snapshot is not an object or has no `values` object.
    PayloadShapeInvalid = 2,
    /// Message-level: more readings than `max_readings_per_message`.
    PayloadBatchTooLarge = 3,
    /// The snapshot's `ts` is neither a finite number nor an ISO-8601 date-time with offset.
    ReadingTsInvalid = 4,
    /// `ts > now + future_tolerance_ms`.
    ReadingTsInFuture = 5,
    /// `ts < now - backfill_window_ms`.
    ReadingTsTooOld = 6,
    /// The value is a boolean, null, object or array.
    ReadingValueNotNumber = 7,
    /// The value is a string, such as `"12.5"`.
    ReadingValueIsString = 8,
    /// The value is `NaN`, `Infinity`, `-Infinity` or a number that overflows f64.
    ReadingValueNotFinite = 9,
    /// The key is not registered for the message's machine.
    ReadingSensorUnknown = 10,
    /// The value is outside the sensor's `[min_value, max_value]`.
    ReadingValueOutOfRange = 11,
}

impl RejectCode {
    /// Every code, in numeric order.
    pub const ALL: [RejectCode; 11] = [
        RejectCode::PayloadJsonMalformed,
        RejectCode::PayloadShapeInvalid,
        RejectCode::PayloadBatchTooLarge,
        RejectCode::ReadingTsInvalid,
        RejectCode::ReadingTsInFuture,
        RejectCode::ReadingTsTooOld,
        RejectCode::ReadingValueNotNumber,
        RejectCode::ReadingValueIsString,
        RejectCode::ReadingValueNotFinite,
        RejectCode::ReadingSensorUnknown,
        RejectCode::ReadingValueOutOfRange,
    ];

    /// The stable name stored with rejects and listed in `docs/protocol.md`.
    pub fn name(self) -> &'static str {
        match self {
            RejectCode::PayloadJsonMalformed => "PAYLOAD_JSON_MALFORMED",
            RejectCode::PayloadShapeInvalid => "PAYLOAD_SHAPE_INVALID",
            RejectCode::PayloadBatchTooLarge => "PAYLOAD_BATCH_TOO_LARGE",
            RejectCode::ReadingTsInvalid => "READING_TS_INVALID",
            RejectCode::ReadingTsInFuture => "READING_TS_IN_FUTURE",
            RejectCode::ReadingTsTooOld => "READING_TS_TOO_OLD",
            RejectCode::ReadingValueNotNumber => "READING_VALUE_NOT_NUMBER",
            RejectCode::ReadingValueIsString => "READING_VALUE_IS_STRING",
            RejectCode::ReadingValueNotFinite => "READING_VALUE_NOT_FINITE",
            RejectCode::ReadingSensorUnknown => "READING_SENSOR_UNKNOWN",
            RejectCode::ReadingValueOutOfRange => "READING_VALUE_OUT_OF_RANGE",
        }
    }

    /// The code with this numeric value, if any.
    pub fn from_u8(code: u8) -> Option<RejectCode> {
        RejectCode::ALL
            .get(usize::from(code).checked_sub(1)?)
            .copied()
    }

    /// The code with this name, if any.
    pub fn from_name(name: &str) -> Option<RejectCode> {
        RejectCode::ALL.into_iter().find(|code| code.name() == name)
    }
}

/// Code names indexed by numeric code; index 0 is `"OK"`.
pub fn reject_code_names() -> Vec<&'static str> {
    std::iter::once("OK")
        .chain(RejectCode::ALL.iter().map(|code| code.name()))
        .collect()
}
