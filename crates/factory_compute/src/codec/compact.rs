//! Compaction arithmetic: hot blocks (or small chunks) of a group of sensors become one chunk per sensor,
//! with the 1-minute and 1-hour aggregates of the moved readings and each sensor's newest reading.
use super::block::{decode_block, Columns};
use super::{decode, encode, CodecError};
use std::collections::HashMap;

/// Mergeable aggregates of fixed epoch-aligned buckets, as columns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Aggregates {
    pub sensor_id: Vec<i32>,
    pub bucket_ms: Vec<f64>,
    pub count: Vec<f64>,
    pub min: Vec<f64>,
    pub max: Vec<f64>,
    pub sum: Vec<f64>,
    pub first_ts_ms: Vec<f64>,
    pub first: Vec<f64>,
    pub last_ts_ms: Vec<f64>,
    pub last: Vec<f64>,
}

impl Aggregates {
    /// Appends the buckets of one sensor's time-ordered readings.
    fn add_sensor(&mut self, sensor: i32, ts: &[f64], vs: &[f64], width_ms: f64) {
        let mut i = 0;
        while i < ts.len() {
            let bucket = ts[i] - ts[i].rem_euclid(width_ms);
            let (mut min, mut max, mut sum) = (vs[i], vs[i], vs[i]);
            let start = i;
            i += 1;
            while i < ts.len() && ts[i] < bucket + width_ms {
                let v = vs[i];
                // Comparisons, not f64::min: NaN and -0.0 behave as in SQLite's min()/max() upsert.
                if v < min {
                    min = v;
                }
                if v > max {
                    max = v;
                }
                sum += v;
                i += 1;
            }
            self.sensor_id.push(sensor);
            self.bucket_ms.push(bucket);
            self.count.push((i - start) as f64);
            self.min.push(min);
            self.max.push(max);
            self.sum.push(sum);
            self.first_ts_ms.push(ts[start]);
            self.first.push(vs[start]);
            self.last_ts_ms.push(ts[i - 1]);
            self.last.push(vs[i - 1]);
        }
    }
}

/// One chunk per sensor plus what the rest of the schema needs about it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Compacted {
    pub sensor_id: Vec<i32>,
    pub min_ts_ms: Vec<f64>,
    pub max_ts_ms: Vec<f64>,
    pub count: Vec<u32>,
    pub last_value: Vec<f64>,
    pub chunks: Vec<Vec<u8>>,
    pub minute: Aggregates,
    pub hour: Aggregates,
}

/// Resolution per sensor id (NaN when unknown), from two parallel columns.
pub fn resolution_map(ids: &[i32], resolutions: &[f64]) -> HashMap<i32, f64> {
    ids.iter()
        .copied()
        .zip(resolutions.iter().copied())
        .collect()
}

/// Sorts readings by (sensor, time), drops repeated (sensor, time) pairs keeping the first, then emits one
/// chunk per sensor (and its aggregates when `with_rollups`).
fn chunk_columns(
    mut rows: Vec<(i32, f64, f64)>,
    resolution: &HashMap<i32, f64>,
    with_rollups: bool,
) -> Result<Compacted, CodecError> {
    // Stable: of two readings with the same key, the one from the earlier block or chunk stays.
    rows.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    rows.dedup_by(|b, a| a.0 == b.0 && a.1 == b.1);
    let mut out = Compacted::default();
    let mut start = 0;
    let mut ts = Vec::new();
    let mut vs = Vec::new();
    while start < rows.len() {
        let sensor = rows[start].0;
        let mut end = start;
        while end < rows.len() && rows[end].0 == sensor {
            end += 1;
        }
        ts.clear();
        vs.clear();
        ts.extend(rows[start..end].iter().map(|r| r.1));
        vs.extend(rows[start..end].iter().map(|r| r.2));
        let res = resolution.get(&sensor).copied().unwrap_or(f64::NAN);
        out.chunks.push(encode(&ts, &vs, res)?);
        out.sensor_id.push(sensor);
        out.min_ts_ms.push(ts[0]);
        out.max_ts_ms.push(ts[ts.len() - 1]);
        out.count.push(ts.len() as u32);
        out.last_value.push(vs[vs.len() - 1]);
        if with_rollups {
            out.minute.add_sensor(sensor, &ts, &vs, 60_000.0);
            out.hour.add_sensor(sensor, &ts, &vs, 3_600_000.0);
        }
        start = end;
    }
    Ok(out)
}

/// Hot blocks (oldest first) -> chunks and rollup aggregates of every sensor they hold.
pub fn compact_blocks(
    blocks: &[&[u8]],
    resolution: &HashMap<i32, f64>,
) -> Result<Compacted, CodecError> {
    let mut rows = Vec::new();
    for block in blocks {
        let Columns {
            sensor_id,
            ts_ms,
            values,
        } = decode_block(block)?;
        rows.extend(
            sensor_id
                .into_iter()
                .zip(ts_ms)
                .zip(values)
                .map(|((s, t), v)| (s, t, v)),
        );
    }
    chunk_columns(rows, resolution, true)
}

/// Small chunks (each owned by `owner[i]`) -> one chunk per sensor; their readings are already rolled up.
pub fn merge_chunks(
    chunks: &[&[u8]],
    owner: &[i32],
    resolution: &HashMap<i32, f64>,
) -> Result<Compacted, CodecError> {
    if chunks.len() != owner.len() {
        return Err(CodecError::LengthMismatch);
    }
    let mut rows = Vec::new();
    for (chunk, &sensor) in chunks.iter().zip(owner) {
        let d = decode(chunk)?;
        rows.extend(
            d.ts_ms
                .into_iter()
                .zip(d.values)
                .map(|(t, v)| (sensor, t, v)),
        );
    }
    chunk_columns(rows, resolution, false)
}

#[cfg(test)]
mod tests {
    use super::super::block::encode_blocks;
    use super::*;

    #[test]
    fn blocks_become_one_chunk_per_sensor_with_exact_buckets() {
        let a = encode_blocks(&[1, 2], &[60_000.0, 5.0], &[2.0, 7.0], &[0, 1], 9).unwrap();
        let b = encode_blocks(&[1, 1], &[59_999.0, 120_000.0], &[4.0, 1.0], &[0, 1], 9).unwrap();
        let res = resolution_map(&[1], &[0.5]);
        let c = compact_blocks(&[&a[0].data, &b[0].data], &res).unwrap();
        assert_eq!(c.sensor_id, [1, 2]);
        assert_eq!(c.count, [3, 1]);
        assert_eq!(
            (c.min_ts_ms[0], c.max_ts_ms[0], c.last_value[0]),
            (59_999.0, 120_000.0, 1.0)
        );
        assert_eq!(decode(&c.chunks[0]).unwrap().values, [4.0, 2.0, 1.0]);
        assert_eq!(c.minute.bucket_ms, [0.0, 60_000.0, 120_000.0, 0.0]);
        assert_eq!(c.minute.count, [1.0, 1.0, 1.0, 1.0]);
        assert_eq!(
            (c.hour.count.clone(), c.hour.sum.clone()),
            (vec![3.0, 1.0], vec![7.0, 7.0])
        );
        assert_eq!(
            (c.hour.first.clone(), c.hour.last.clone()),
            (vec![4.0, 7.0], vec![1.0, 7.0])
        );
        let merged = merge_chunks(&[&c.chunks[0], &c.chunks[0]], &[1, 1], &res).unwrap();
        assert_eq!(merged.count, [3]);
    }
}
