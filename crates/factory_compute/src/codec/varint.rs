//! LEB128 varints and zigzag mapping used by the chunk codec.
use super::CodecError;

pub fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

pub fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

pub fn write_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads one varint and advances `input` past it.
pub fn read_varint(input: &mut &[u8]) -> Result<u64, CodecError> {
    let mut value = 0u64;
    for (i, &byte) in input.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            *input = &input[i + 1..];
            return Ok(value);
        }
    }
    Err(CodecError::Corrupt("truncated varint"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zigzag_and_varint_round_trip_extremes() {
        for v in [0i64, 1, -1, 63, -64, i64::MAX, i64::MIN] {
            let mut out = Vec::new();
            write_varint(&mut out, zigzag(v));
            let mut slice = out.as_slice();
            assert_eq!(unzigzag(read_varint(&mut slice).unwrap()), v);
            assert!(slice.is_empty());
        }
    }
}
