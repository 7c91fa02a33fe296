//! Validates one telemetry message: walks its snapshots with the scanner, buffers each snapshot's
//! readings (its `ts` may come after `values`), then emits accepted readings and rejects.

use super::iso::parse_iso_ms;
use super::scan::{decode_string, ScanError, ScanResult, Scanner, StrSpan, ValueKind};
use super::{MessageRef, RejectCode, ValidationOutput, Validator};

/// A reading's value as far as validation cares.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Reading {
    Number(f64),
    String,
    Bool,
    Null,
    Object,
    Array,
}

/// One `"key": value` entry of a snapshot's `values` object.
struct Entry {
    key_start: usize,
    key_end: usize,
    /// The key was escaped and its decoded bytes live in `Scratch::keys`.
    in_arena: bool,
    hash: u64,
    reading: Reading,
    /// False when a later entry with the same key replaced this one (JSON.parse semantics).
    alive: bool,
}

#[derive(Clone, Copy)]
enum SnapshotTs {
    Absent,
    Ms(f64),
    Invalid,
}

/// Buffers reused across messages so that a batch allocates only for its output.
#[derive(Default)]
pub(crate) struct Scratch {
    entries: Vec<Entry>,
    keys: Vec<u8>,
    text: Vec<u8>,
    slots: Vec<u32>,
}

enum Outcome {
    Done,
    NotContainer,
    TooLarge,
}

/// Per-message state shared by the snapshot walk.
struct MessageRun<'v, 's, 'o> {
    validator: &'v Validator,
    scratch: &'s mut Scratch,
    out: &'o mut ValidationOutput,
    msg_index: u32,
    machine_id: i32,
    received_ms: f64,
    future_limit_ms: f64,
    past_limit_ms: f64,
    readings: usize,
    too_large: bool,
}

/// Appends the results of one message to `out`. A message-level problem discards everything the
/// message had produced so far and leaves a single reject with an empty key.
pub(crate) fn validate_message(
    validator: &Validator,
    scratch: &mut Scratch,
    message: &MessageRef,
    msg_index: u32,
    now_ms: f64,
    out: &mut ValidationOutput,
) {
    let accepted_mark = out.msg_index.len();
    let rejected_mark = out.reject_msg_index.len();
    let mut run = MessageRun {
        validator,
        scratch,
        out,
        msg_index,
        machine_id: message.machine_id,
        received_ms: message.received_ms,
        future_limit_ms: now_ms + validator.options.future_tolerance_ms,
        past_limit_ms: now_ms - validator.options.backfill_window_ms,
        readings: 0,
        too_large: false,
    };
    let failure = match run.walk(message.payload) {
        Ok(Outcome::Done) => return,
        Ok(Outcome::NotContainer) => (
            RejectCode::PayloadShapeInvalid,
            "top-level JSON value is not an object or an array".to_owned(),
        ),
        Ok(Outcome::TooLarge) => (
            RejectCode::PayloadBatchTooLarge,
            format!(
                "more than {} readings in one message (maxReadingsPerMessage)",
                validator.options.max_readings_per_message
            ),
        ),
        Err(ScanError { offset, reason }) => (
            RejectCode::PayloadJsonMalformed,
            format!("{reason} at byte {offset}"),
        ),
    };
    out.truncate(accepted_mark, rejected_mark);
    out.push_reject(
        msg_index,
        failure.0,
        String::new(),
        failure.1,
        f64::NAN,
        f64::NAN,
    );
}

impl MessageRun<'_, '_, '_> {
    fn walk(&mut self, payload: &[u8]) -> ScanResult<Outcome> {
        if let Err(error) = std::str::from_utf8(payload) {
            return Err(ScanError {
                offset: error.valid_up_to(),
                reason: "invalid UTF-8",
            });
        }
        let mut scanner = Scanner::new(payload);
        scanner.skip_ws();
        match scanner.peek() {
            Some(b'[') => {
                scanner.enter(1)?;
                let mut index = 0;
                while scanner.next_element(index == 0)? {
                    if scanner.peek() == Some(b'{') {
                        self.snapshot(&mut scanner, 2, index)?;
                    } else {
                        scanner.value(2)?;
                        self.snapshot_reject(format!("snapshot {index} is not an object"));
                    }
                    index += 1;
                }
            }
            Some(b'{') => self.snapshot(&mut scanner, 1, 0)?,
            _ => {
                scanner.value(1)?;
                scanner.finish()?;
                return Ok(Outcome::NotContainer);
            }
        }
        scanner.finish()?;
        Ok(if self.too_large {
            Outcome::TooLarge
        } else {
            Outcome::Done
        })
    }

    fn snapshot_reject(&mut self, detail: String) {
        if !self.too_large {
            let code = RejectCode::PayloadShapeInvalid;
            self.out.push_reject(
                self.msg_index,
                code,
                String::new(),
                detail,
                f64::NAN,
                f64::NAN,
            );
        }
    }

    /// Walks the snapshot object at the cursor (nesting `depth`), then emits its readings.
    fn snapshot(&mut self, scanner: &mut Scanner, depth: u32, index: usize) -> ScanResult<()> {
        scanner.enter(depth)?;
        let mut ts = SnapshotTs::Absent;
        let mut has_values = false;
        self.scratch.entries.clear();
        self.scratch.keys.clear();
        let mut first = true;
        while let Some(key) = scanner.next_member(first)? {
            first = false;
            let name = decoded(&mut self.scratch.text, scanner.bytes(), key);
            if name == b"values" {
                self.scratch.entries.clear();
                self.scratch.keys.clear();
                has_values = scanner.peek() == Some(b'{');
                if has_values && !self.too_large {
                    self.values(scanner, depth + 1)?;
                } else {
                    scanner.value(depth + 1)?;
                }
            } else if name == b"ts" {
                ts = self.ts(scanner, depth + 1)?;
            } else {
                scanner.value(depth + 1)?;
            }
        }
        if self.too_large {
            return Ok(());
        }
        if !has_values {
            self.snapshot_reject(format!("snapshot {index} has no values object"));
            return Ok(());
        }
        self.emit(ts, scanner.bytes());
        Ok(())
    }

    fn ts(&mut self, scanner: &mut Scanner, depth: u32) -> ScanResult<SnapshotTs> {
        Ok(match scanner.value(depth)? {
            ValueKind::Number(ms) if ms.is_finite() => SnapshotTs::Ms(ms.floor()),
            ValueKind::String(span) => {
                let text = decoded(&mut self.scratch.text, scanner.bytes(), span);
                parse_iso_ms(text).map_or(SnapshotTs::Invalid, SnapshotTs::Ms)
            }
            _ => SnapshotTs::Invalid,
        })
    }

    /// Buffers the entries of the `values` object at the cursor.
    fn values(&mut self, scanner: &mut Scanner, depth: u32) -> ScanResult<()> {
        scanner.enter(depth)?;
        let payload = scanner.bytes();
        let registry = &self.validator.registry;
        let scratch = &mut *self.scratch;
        let mut first = true;
        while let Some(key) = scanner.next_member(first)? {
            first = false;
            let raw = &payload[key.start..key.end];
            let (key_start, key_end, in_arena, hash) = if key.escaped {
                let start = scratch.keys.len();
                decode_string(raw, &mut scratch.keys);
                let hash = registry.hash_key(self.machine_id, &scratch.keys[start..]);
                (start, scratch.keys.len(), true, hash)
            } else {
                (
                    key.start,
                    key.end,
                    false,
                    registry.hash_key(self.machine_id, raw),
                )
            };
            let reading = match scanner.value(depth + 1)? {
                ValueKind::Number(value) => Reading::Number(value),
                ValueKind::String(_) => Reading::String,
                ValueKind::Bool => Reading::Bool,
                ValueKind::Null => Reading::Null,
                ValueKind::Object => Reading::Object,
                ValueKind::Array => Reading::Array,
            };
            scratch.entries.push(Entry {
                key_start,
                key_end,
                in_arena,
                hash,
                reading,
                alive: true,
            });
        }
        Ok(())
    }

    /// Emits the buffered readings of a snapshot with a `values` object.
    fn emit(&mut self, ts: SnapshotTs, payload: &[u8]) {
        let alive = self.scratch.dedupe(payload);
        self.readings += alive;
        if self.readings > self.validator.options.max_readings_per_message as usize {
            self.too_large = true;
            return;
        }
        let ts_ms = match ts {
            SnapshotTs::Ms(ms) => Some(ms),
            SnapshotTs::Absent if self.received_ms.is_finite() => Some(self.received_ms.floor()),
            _ => None,
        };
        let scratch = &*self.scratch;
        let out = &mut *self.out;
        let registry = &self.validator.registry;
        for entry in scratch.entries.iter().filter(|entry| entry.alive) {
            let number = match entry.reading {
                Reading::Number(value) => value,
                _ => f64::NAN,
            };
            let (code, detail) = match ts_ms {
                None => (RejectCode::ReadingTsInvalid, TS_INVALID_DETAIL),
                Some(ms) if ms > self.future_limit_ms => (
                    RejectCode::ReadingTsInFuture,
                    "ts is after nowMs + futureToleranceMs",
                ),
                Some(ms) if ms < self.past_limit_ms => (
                    RejectCode::ReadingTsTooOld,
                    "ts is before nowMs - backfillWindowMs",
                ),
                Some(ms) => match entry.reading {
                    Reading::Number(value) if value.is_finite() => {
                        let key = scratch.key(entry, payload);
                        match registry.find(entry.hash, self.machine_id, key) {
                            None => (RejectCode::ReadingSensorUnknown, ""),
                            Some(bounds)
                                if value < bounds.min_value || value > bounds.max_value =>
                            {
                                (
                                    RejectCode::ReadingValueOutOfRange,
                                    "value is outside the sensor's [minValue, maxValue]",
                                )
                            }
                            Some(bounds) => {
                                out.msg_index.push(self.msg_index);
                                out.sensor_id.push(bounds.sensor_id);
                                out.ts_ms.push(ms);
                                out.value.push(value);
                                continue;
                            }
                        }
                    }
                    Reading::Number(_) => {
                        (RejectCode::ReadingValueNotFinite, "value is not finite")
                    }
                    Reading::String => (RejectCode::ReadingValueIsString, "value is a string"),
                    Reading::Bool => (RejectCode::ReadingValueNotNumber, "value is a boolean"),
                    Reading::Null => (RejectCode::ReadingValueNotNumber, "value is null"),
                    Reading::Object => (RejectCode::ReadingValueNotNumber, "value is an object"),
                    Reading::Array => (RejectCode::ReadingValueNotNumber, "value is an array"),
                },
            };
            let key = String::from_utf8_lossy(scratch.key(entry, payload)).into_owned();
            let detail = if code == RejectCode::ReadingSensorUnknown {
                format!(
                    "sensor key is not registered for machine {}",
                    self.machine_id
                )
            } else {
                detail.to_owned()
            };
            out.push_reject(
                self.msg_index,
                code,
                key,
                detail,
                ts_ms.unwrap_or(f64::NAN),
                number,
            );
        }
    }
}

/// A string's content, decoded into `text` only when it has escapes (so `"v\u0061lues"` is `values`).
fn decoded<'b>(text: &'b mut Vec<u8>, payload: &'b [u8], span: StrSpan) -> &'b [u8] {
    let raw = &payload[span.start..span.end];
    if !span.escaped {
        return raw;
    }
    text.clear();
    decode_string(raw, text);
    text
}

const TS_INVALID_DETAIL: &str =
    "ts is neither a finite number nor an ISO-8601 date-time with offset";

impl Scratch {
    fn key<'p>(&'p self, entry: &Entry, payload: &'p [u8]) -> &'p [u8] {
        let source = if entry.in_arena {
            &self.keys[..]
        } else {
            payload
        };
        &source[entry.key_start..entry.key_end]
    }

    /// Marks repeated keys dead, moving the last value to the first occurrence as JSON.parse does,
    /// and returns how many entries stay alive. Linear probing over a table twice the entry count.
    fn dedupe(&mut self, payload: &[u8]) -> usize {
        let count = self.entries.len();
        if count < 2 {
            return count;
        }
        let capacity = (count * 2).next_power_of_two();
        let mask = capacity - 1;
        self.slots.clear();
        self.slots.resize(capacity, u32::MAX);
        let mut alive = count;
        for index in 0..count {
            let hash = self.entries[index].hash;
            let mut slot = hash as usize & mask;
            loop {
                let held = self.slots[slot];
                if held == u32::MAX {
                    self.slots[slot] = index as u32;
                    break;
                }
                let earlier = held as usize;
                if self.entries[earlier].hash == hash
                    && self.key(&self.entries[earlier], payload)
                        == self.key(&self.entries[index], payload)
                {
                    self.entries[earlier].reading = self.entries[index].reading;
                    self.entries[index].alive = false;
                    alive -= 1;
                    break;
                }
                slot = (slot + 1) & mask;
            }
        }
        alive
    }
}
