//! Chunk codec for stored readings: delta-of-delta timestamps and values as scaled integers
//! (delta + zigzag varint) when every value is an exact multiple of a decimal step, XOR floats otherwise.
//! Lossless: `decode(encode(ts, v))` returns the same bits.
pub mod block;
pub mod compact;
mod varint;

use std::fmt;
use varint::{read_varint, unzigzag, write_varint, zigzag};

/// Why a chunk could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodecError {
    /// Input columns differ in length.
    LengthMismatch,
    /// A timestamp is not an integer within ±2^53, or timestamps are not strictly increasing.
    BadTimestamp(usize),
    /// The bytes are not a chunk this codec wrote (truncated, unknown format or trailing data).
    Corrupt(&'static str),
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodecError::LengthMismatch => write!(f, "CODEC_LENGTH_MISMATCH: tsMs and values differ in length"),
            CodecError::BadTimestamp(i) => write!(
                f,
                "CODEC_TIMESTAMP_INVALID: tsMs[{i}] is not an integer above the previous one within ±2^53"
            ),
            CodecError::Corrupt(why) => write!(f, "CODEC_CHUNK_CORRUPT: {why}"),
        }
    }
}

impl std::error::Error for CodecError {}

const FORMAT_EMPTY: u8 = 0;
/// value = q / scale (scale = 10^k or 1/resolution).
const FORMAT_DIV: u8 = 1;
/// value = q * scale (integral resolution such as 5).
const FORMAT_MUL: u8 = 2;
const FORMAT_XOR: u8 = 3;
pub(crate) const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
/// Decimal steps tried when the sensor's resolution does not fit every value.
pub(crate) const DECIMAL_SCALES: [u64; 7] = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000];

#[derive(Clone, Copy)]
enum Scale {
    Div(u64),
    Mul(u64),
}

impl Scale {
    fn quantize(self, value: f64) -> Option<i64> {
        let q = match self {
            Scale::Div(k) => (value * k as f64).round(),
            Scale::Mul(m) => (value / m as f64).round(),
        };
        if q.is_nan() || q.abs() > MAX_SAFE {
            return None;
        }
        let back = self.restore(q as i64);
        (back.to_bits() == value.to_bits()).then_some(q as i64)
    }

    fn restore(self, q: i64) -> f64 {
        match self {
            Scale::Div(k) => q as f64 / k as f64,
            Scale::Mul(m) => q as f64 * m as f64,
        }
    }
}

/// The scale a resolution suggests: 0.01 -> divide by 100, 5 -> multiply by 5; None when it suggests none.
fn scale_of_resolution(resolution: f64) -> Option<Scale> {
    if !(resolution.is_finite() && resolution > 0.0) {
        return None;
    }
    if resolution >= 1.0 && resolution.fract() == 0.0 && resolution <= MAX_SAFE {
        return Some(Scale::Mul(resolution as u64));
    }
    let inverse = (1.0 / resolution).round();
    if (1.0..=1e9).contains(&inverse) && ((1.0 / resolution) - inverse).abs() < 1e-6 * inverse {
        return Some(Scale::Div(inverse as u64));
    }
    None
}

fn quantize_all(values: &[f64], scale: Scale) -> Option<Vec<i64>> {
    values.iter().map(|&v| scale.quantize(v)).collect()
}

/// Encodes one sensor's readings (timestamps strictly increasing integers). `resolution` (NaN = none)
/// is tried first as the value step; decimal steps and XOR floats are the fallbacks.
pub fn encode(ts_ms: &[f64], values: &[f64], resolution: f64) -> Result<Vec<u8>, CodecError> {
    if ts_ms.len() != values.len() {
        return Err(CodecError::LengthMismatch);
    }
    let mut out = Vec::with_capacity(8 + ts_ms.len() * 3);
    if ts_ms.is_empty() {
        out.push(FORMAT_EMPTY);
        return Ok(out);
    }
    let mut ts = Vec::with_capacity(ts_ms.len());
    for (i, &t) in ts_ms.iter().enumerate() {
        let valid = t.fract() == 0.0
            && t.abs() <= MAX_SAFE
            && ts.last().is_none_or(|&p: &i64| (t as i64) > p);
        if !valid {
            return Err(CodecError::BadTimestamp(i));
        }
        ts.push(t as i64);
    }
    let candidates = scale_of_resolution(resolution)
        .into_iter()
        .chain(DECIMAL_SCALES.iter().map(|&k| Scale::Div(k)));
    let quantized = candidates
        .into_iter()
        .find_map(|s| quantize_all(values, s).map(|q| (s, q)));
    match quantized {
        Some((scale, q)) => {
            let (format, factor) = match scale {
                Scale::Div(k) => (FORMAT_DIV, k),
                Scale::Mul(m) => (FORMAT_MUL, m),
            };
            out.push(format);
            write_varint(&mut out, ts.len() as u64);
            write_varint(&mut out, factor);
            write_timestamps(&mut out, &ts);
            let mut previous = 0i64;
            for &v in &q {
                write_varint(&mut out, zigzag(v.wrapping_sub(previous)));
                previous = v;
            }
        }
        None => {
            out.push(FORMAT_XOR);
            write_varint(&mut out, ts.len() as u64);
            write_timestamps(&mut out, &ts);
            let mut previous = 0u64;
            for &v in values {
                let bits = v.to_bits();
                // Neighbouring readings share sign, exponent and top mantissa bits: the XOR is small.
                write_varint(&mut out, (bits ^ previous).swap_bytes());
                previous = bits;
            }
        }
    }
    Ok(out)
}

fn write_timestamps(out: &mut Vec<u8>, ts: &[i64]) {
    let mut previous = 0i64;
    let mut previous_delta = 0i64;
    for (i, &t) in ts.iter().enumerate() {
        if i == 0 {
            write_varint(out, zigzag(t));
        } else {
            let delta = t - previous;
            write_varint(out, zigzag(delta - previous_delta));
            previous_delta = delta;
        }
        previous = t;
    }
}

/// Decoded columns of one chunk.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Decoded {
    pub ts_ms: Vec<f64>,
    pub values: Vec<f64>,
}

/// Decodes a chunk written by `encode`; never panics on malformed input.
pub fn decode(bytes: &[u8]) -> Result<Decoded, CodecError> {
    let (&format, mut rest) = bytes
        .split_first()
        .ok_or(CodecError::Corrupt("empty input"))?;
    if format == FORMAT_EMPTY {
        return if rest.is_empty() {
            Ok(Decoded::default())
        } else {
            Err(CodecError::Corrupt("trailing bytes"))
        };
    }
    if !(FORMAT_DIV..=FORMAT_XOR).contains(&format) {
        return Err(CodecError::Corrupt("unknown format"));
    }
    let count = read_varint(&mut rest)?;
    // Every reading takes at least two bytes, so a larger count is a lie.
    if count > rest.len() as u64 {
        return Err(CodecError::Corrupt("count exceeds data"));
    }
    let count = count as usize;
    let scale = match format {
        FORMAT_DIV => Some(Scale::Div(read_varint(&mut rest)?.max(1))),
        FORMAT_MUL => Some(Scale::Mul(read_varint(&mut rest)?.max(1))),
        _ => None,
    };
    let mut ts_ms = Vec::with_capacity(count);
    let mut previous = 0i64;
    let mut previous_delta = 0i64;
    for i in 0..count {
        let raw = unzigzag(read_varint(&mut rest)?);
        let t = if i == 0 {
            raw
        } else {
            previous_delta = previous_delta.wrapping_add(raw);
            previous.wrapping_add(previous_delta)
        };
        ts_ms.push(t as f64);
        previous = t;
    }
    let mut values = Vec::with_capacity(count);
    match scale {
        Some(scale) => {
            let mut q = 0i64;
            for _ in 0..count {
                q = q.wrapping_add(unzigzag(read_varint(&mut rest)?));
                values.push(scale.restore(q));
            }
        }
        None => {
            let mut bits = 0u64;
            for _ in 0..count {
                bits ^= read_varint(&mut rest)?.swap_bytes();
                values.push(f64::from_bits(bits));
            }
        }
    }
    if !rest.is_empty() {
        return Err(CodecError::Corrupt("trailing bytes"));
    }
    Ok(Decoded { ts_ms, values })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(ts: &[f64], values: &[f64], resolution: f64) -> Vec<u8> {
        let bytes = encode(ts, values, resolution).unwrap();
        let back = decode(&bytes).unwrap();
        assert_eq!(back.ts_ms, ts);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back.values), bits(values));
        bytes
    }

    #[test]
    fn quantized_signal_takes_under_three_bytes_per_reading() {
        let ts: Vec<f64> = (0..3600)
            .map(|i| 1_700_000_000_000.0 + f64::from(i) * 1000.0)
            .collect();
        let values: Vec<f64> = (0..3600)
            .map(|i| ((20.0 + (f64::from(i) / 300.0).sin() * 5.0) * 100.0).round() / 100.0)
            .collect();
        let bytes = round_trip(&ts, &values, 0.01);
        assert_eq!(bytes[0], FORMAT_DIV);
        assert!(bytes.len() < 3 * 3600, "{} bytes", bytes.len());
    }

    #[test]
    fn values_off_the_resolution_fall_back_without_loss() {
        round_trip(&[1.0, 2.0, 4.0], &[0.1 + 0.2, f64::NAN, -0.0], 0.01);
        round_trip(&[1.0, 2.0, 4.0], &[1e300, -5e-324, f64::INFINITY], f64::NAN);
        round_trip(&[-5.0, 0.0, 9e15], &[10.0, 15.0, 20.0], 5.0);
        round_trip(&[], &[], 0.1);
    }

    #[test]
    fn rejects_unsorted_or_fractional_timestamps() {
        assert_eq!(
            encode(&[2.0, 1.0], &[0.0, 0.0], 1.0),
            Err(CodecError::BadTimestamp(1))
        );
        assert_eq!(
            encode(&[1.5], &[0.0], 1.0),
            Err(CodecError::BadTimestamp(0))
        );
        assert_eq!(encode(&[1.0], &[], 1.0), Err(CodecError::LengthMismatch));
    }

    #[test]
    fn truncated_or_garbage_input_is_an_error_not_a_panic() {
        let bytes = encode(&[1.0, 2.0, 3.0], &[1.5, 2.5, 3.5], 0.5).unwrap();
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err());
        }
        let mut seed = 7u64;
        for _ in 0..2000 {
            let len = (seed % 40) as usize;
            let junk: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (seed >> 33) as u8
                })
                .collect();
            let _ = decode(&junk);
        }
    }
}
