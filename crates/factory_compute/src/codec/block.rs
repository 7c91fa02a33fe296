//! Hot blocks: the readings one commit wrote for one group of sensors, compressed together. A block lists
//! its sensors in ascending id order, each with its readings in time order: timestamps relative to the
//! block's base (first) then delta-of-delta, values as scaled integers (per sensor, the first decimal step
//! that fits every value) or XOR floats. Lossless, like chunks; decoding one sensor skips the others.
use super::varint::{read_varint, unzigzag, write_varint, zigzag};
use super::{CodecError, Decoded, DECIMAL_SCALES, MAX_SAFE};

const BLOCK_FORMAT: u8 = 0x10;
/// Per-sensor value tag: 0..=6 = divide by 10^tag, XOR_TAG = XOR floats.
const XOR_TAG: u8 = 7;

/// Readings as columns; `sensor_id`, `ts_ms` and `values` have the same length.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Columns {
    pub sensor_id: Vec<i32>,
    pub ts_ms: Vec<f64>,
    pub values: Vec<f64>,
}

/// One encoded block and what a reader needs to find it without decoding.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub part: i32,
    pub min_ts_ms: f64,
    pub max_ts_ms: f64,
    pub rows: u32,
    pub data: Vec<u8>,
}

fn integral_ts(t: f64) -> Option<i64> {
    (t.fract() == 0.0 && t.abs() <= MAX_SAFE).then_some(t as i64)
}

fn value_tag(values: &[f64]) -> (u8, Vec<i64>) {
    for (tag, &k) in DECIMAL_SCALES.iter().enumerate() {
        let scale = k as f64;
        let fits: Option<Vec<i64>> = values
            .iter()
            .map(|&v| {
                let q = (v * scale).round();
                (q.abs() <= MAX_SAFE && (q / scale).to_bits() == v.to_bits()).then_some(q as i64)
            })
            .collect();
        if let Some(q) = fits {
            return (tag as u8, q);
        }
    }
    (XOR_TAG, Vec::new())
}

/// Encodes the rows `order` picks (any order) into one block per part (`sensor_id >> part_shift`), each
/// sorted by (sensor, time). Rows of one sensor must have distinct integer timestamps.
pub fn encode_blocks(
    sensor_id: &[i32],
    ts_ms: &[f64],
    values: &[f64],
    order: &[u32],
    part_shift: u32,
) -> Result<Vec<Block>, CodecError> {
    if sensor_id.len() != ts_ms.len() || ts_ms.len() != values.len() {
        return Err(CodecError::LengthMismatch);
    }
    let mut rows: Vec<(i32, i64, u32)> = Vec::with_capacity(order.len());
    for &i in order {
        let i_usize = i as usize;
        if i_usize >= ts_ms.len() {
            return Err(CodecError::LengthMismatch);
        }
        let t = integral_ts(ts_ms[i_usize]).ok_or(CodecError::BadTimestamp(i_usize))?;
        rows.push((sensor_id[i_usize], t, i));
    }
    rows.sort_unstable_by_key(|&(s, t, _)| (s, t));
    let mut blocks = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        let part = rows[start].0 >> part_shift;
        let mut end = start;
        while end < rows.len() && rows[end].0 >> part_shift == part {
            end += 1;
        }
        blocks.push(encode_part(part, &rows[start..end], values)?);
        start = end;
    }
    Ok(blocks)
}

fn encode_part(part: i32, rows: &[(i32, i64, u32)], values: &[f64]) -> Result<Block, CodecError> {
    let base = rows.iter().map(|r| r.1).min().unwrap_or(0);
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0);
    let mut out = Vec::with_capacity(16 + rows.len() * 4);
    out.push(BLOCK_FORMAT);
    let sensors = 1 + rows.windows(2).filter(|w| w[0].0 != w[1].0).count();
    write_varint(&mut out, sensors as u64);
    write_varint(&mut out, zigzag(base));
    let mut previous_sensor = 0i64;
    let mut start = 0;
    let mut v = Vec::new();
    while start < rows.len() {
        let sensor = rows[start].0;
        let mut end = start;
        while end < rows.len() && rows[end].0 == sensor {
            if end > start && rows[end].1 == rows[end - 1].1 {
                return Err(CodecError::BadTimestamp(rows[end].2 as usize));
            }
            end += 1;
        }
        write_varint(&mut out, zigzag(i64::from(sensor) - previous_sensor));
        previous_sensor = i64::from(sensor);
        write_varint(&mut out, (end - start) as u64);
        let mut previous = base;
        let mut previous_delta = 0i64;
        for (k, r) in rows[start..end].iter().enumerate() {
            if k == 0 {
                write_varint(&mut out, (r.1 - base) as u64);
            } else {
                let delta = r.1 - previous;
                write_varint(&mut out, zigzag(delta - previous_delta));
                previous_delta = delta;
            }
            previous = r.1;
        }
        v.clear();
        v.extend(rows[start..end].iter().map(|r| values[r.2 as usize]));
        let (tag, q) = value_tag(&v);
        out.push(tag);
        if tag == XOR_TAG {
            let mut previous = 0u64;
            for &x in &v {
                write_varint(&mut out, (x.to_bits() ^ previous).swap_bytes());
                previous = x.to_bits();
            }
        } else {
            let mut previous = 0i64;
            for &x in &q {
                write_varint(&mut out, zigzag(x.wrapping_sub(previous)));
                previous = x;
            }
        }
        start = end;
    }
    Ok(Block {
        part,
        min_ts_ms: base as f64,
        max_ts_ms: max as f64,
        rows: rows.len() as u32,
        data: out,
    })
}

/// Walks a block sensor by sensor; `visit(sensor, ts, values)` sees each sensor's readings once.
fn walk(
    bytes: &[u8],
    mut wanted: impl FnMut(i32) -> bool,
    mut visit: impl FnMut(i32, &[i64], &[f64]),
) -> Result<(), CodecError> {
    let (&format, mut rest) = bytes
        .split_first()
        .ok_or(CodecError::Corrupt("empty block"))?;
    if format != BLOCK_FORMAT {
        return Err(CodecError::Corrupt("unknown block format"));
    }
    let sensors = read_varint(&mut rest)?;
    if sensors > rest.len() as u64 {
        return Err(CodecError::Corrupt("sensor count exceeds data"));
    }
    let base = unzigzag(read_varint(&mut rest)?);
    let mut sensor = 0i64;
    let mut ts = Vec::new();
    let mut vs = Vec::new();
    for _ in 0..sensors {
        sensor = sensor.wrapping_add(unzigzag(read_varint(&mut rest)?));
        let count = read_varint(&mut rest)?;
        if count > rest.len() as u64 {
            return Err(CodecError::Corrupt("count exceeds data"));
        }
        let id =
            i32::try_from(sensor).map_err(|_| CodecError::Corrupt("sensor id out of range"))?;
        let keep = wanted(id);
        ts.clear();
        vs.clear();
        let mut previous = base;
        let mut previous_delta = 0i64;
        for k in 0..count {
            let raw = read_varint(&mut rest)?;
            let t = if k == 0 {
                base.wrapping_add(raw as i64)
            } else {
                previous_delta = previous_delta.wrapping_add(unzigzag(raw));
                previous.wrapping_add(previous_delta)
            };
            if keep {
                ts.push(t);
            }
            previous = t;
        }
        let (&tag, after) = rest
            .split_first()
            .ok_or(CodecError::Corrupt("missing value tag"))?;
        rest = after;
        if tag == XOR_TAG {
            let mut bits = 0u64;
            for _ in 0..count {
                bits ^= read_varint(&mut rest)?.swap_bytes();
                if keep {
                    vs.push(f64::from_bits(bits));
                }
            }
        } else {
            let scale = *DECIMAL_SCALES
                .get(tag as usize)
                .ok_or(CodecError::Corrupt("unknown value tag"))? as f64;
            let mut q = 0i64;
            for _ in 0..count {
                q = q.wrapping_add(unzigzag(read_varint(&mut rest)?));
                if keep {
                    vs.push(q as f64 / scale);
                }
            }
        }
        if keep {
            visit(id, &ts, &vs);
        }
    }
    if !rest.is_empty() {
        return Err(CodecError::Corrupt("trailing bytes"));
    }
    Ok(())
}

/// Every reading of a block, by sensor then time.
pub fn decode_block(bytes: &[u8]) -> Result<Columns, CodecError> {
    let mut out = Columns::default();
    walk(
        bytes,
        |_| true,
        |id, ts, vs| {
            out.sensor_id.extend(std::iter::repeat_n(id, ts.len()));
            out.ts_ms.extend(ts.iter().map(|&t| t as f64));
            out.values.extend_from_slice(vs);
        },
    )?;
    Ok(out)
}

/// Appends one sensor's readings of a block within [from_ms, to_ms) to `into`.
pub fn block_points(
    bytes: &[u8],
    sensor_id: i32,
    from_ms: f64,
    to_ms: f64,
    into: &mut Decoded,
) -> Result<(), CodecError> {
    walk(
        bytes,
        |id| id == sensor_id,
        |_, ts, vs| {
            for (&t, &v) in ts.iter().zip(vs) {
                let t = t as f64;
                if t >= from_ms && t < to_ms {
                    into.ts_ms.push(t);
                    into.values.push(v);
                }
            }
        },
    )
}

/// The newest reading of each sensor in a block.
pub fn block_latest(bytes: &[u8]) -> Result<Columns, CodecError> {
    let mut out = Columns::default();
    walk(
        bytes,
        |_| true,
        |id, ts, vs| {
            if let (Some(&t), Some(&v)) = (ts.last(), vs.last()) {
                out.sensor_id.push(id);
                out.ts_ms.push(t as f64);
                out.values.push(v);
            }
        },
    )?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_round_trip_by_part_sensor_and_time() {
        let sensor_id = [3, 700, 3, 5, 700, 5];
        let ts = [2000.0, 10.0, 1000.0, -7.0, 11.0, 1e15];
        let values = [0.5, f64::NAN, 1.25, -3.0, 1e300, 0.1 + 0.2];
        let order: Vec<u32> = (0..6).collect();
        let blocks = encode_blocks(&sensor_id, &ts, &values, &order, 9).unwrap();
        assert_eq!(blocks.iter().map(|b| b.part).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(
            (blocks[0].min_ts_ms, blocks[0].max_ts_ms, blocks[0].rows),
            (-7.0, 1e15, 4)
        );
        let d = decode_block(&blocks[0].data).unwrap();
        assert_eq!(d.sensor_id, [3, 3, 5, 5]);
        assert_eq!(d.ts_ms, [1000.0, 2000.0, -7.0, 1e15]);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&d.values), bits(&[1.25, 0.5, -3.0, 0.1 + 0.2]));
        let mut p = Decoded::default();
        block_points(&blocks[1].data, 700, 0.0, 11.0, &mut p).unwrap();
        assert_eq!(p.ts_ms, [10.0]);
        assert!(p.values[0].is_nan());
        let latest = block_latest(&blocks[0].data).unwrap();
        assert_eq!(
            (latest.sensor_id, latest.ts_ms),
            (vec![3, 5], vec![2000.0, 1e15])
        );
    }

    #[test]
    fn repeated_timestamps_and_garbage_are_errors_not_panics() {
        assert_eq!(
            encode_blocks(&[1, 1], &[5.0, 5.0], &[0.0, 1.0], &[0, 1], 9),
            Err(CodecError::BadTimestamp(1))
        );
        let block = encode_blocks(&[1, 2], &[5.0, 6.0], &[0.0, 1.0], &[0, 1], 9).unwrap();
        for cut in 0..block[0].data.len() {
            assert!(decode_block(&block[0].data[..cut]).is_err());
        }
    }
}
