//! Node-API bindings for the chunk codec: typed arrays in, bytes out and back. Every export catches panics.
// napi-derive compiles the exports out of unit-test builds, leaving them unused there.
#![cfg_attr(test, allow(dead_code))]
use crate::codec::{self, block, compact};
use napi::bindgen_prelude::{Buffer, Float64Array, Int32Array, Uint32Array};
use napi::{Error, Result, Status};
use napi_derive::napi;

fn to_js_error(error: codec::CodecError) -> Error {
    Error::new(Status::InvalidArg, error.to_string())
}

/// Decoded chunk columns.
#[napi(object)]
pub struct DecodedChunk {
    pub ts_ms: Float64Array,
    pub values: Float64Array,
}

/// Encodes one sensor's readings (tsMs strictly increasing integers). resolution: the sensor's value step,
/// NaN when unknown. Lossless: values off the step fall back to decimal steps or XOR floats.
#[napi(catch_unwind)]
pub fn encode_chunk(ts_ms: &[f64], values: &[f64], resolution: f64) -> Result<Buffer> {
    codec::encode(ts_ms, values, resolution)
        .map(Buffer::from)
        .map_err(to_js_error)
}

/// Decodes a chunk written by `encodeChunk`.
#[napi(catch_unwind)]
pub fn decode_chunk(data: &[u8]) -> Result<DecodedChunk> {
    let decoded = codec::decode(data).map_err(to_js_error)?;
    Ok(DecodedChunk {
        ts_ms: Float64Array::new(decoded.ts_ms),
        values: Float64Array::new(decoded.values),
    })
}

/// Hot blocks of one commit: parallel columns plus one buffer per block.
#[napi(object)]
pub struct EncodedBlocks {
    /// `sensorId >> partShift` of the block's sensors.
    pub part: Int32Array,
    pub min_ts_ms: Float64Array,
    pub max_ts_ms: Float64Array,
    pub rows: Uint32Array,
    pub data: Vec<Buffer>,
}

/// Encodes the rows `order` picks into one block per sensor group (`sensorId >> partShift`), each sorted
/// by (sensor, time). A sensor's picked rows must have distinct integer timestamps.
#[napi(catch_unwind)]
pub fn encode_hot_blocks(
    sensor_id: &[i32],
    ts_ms: &[f64],
    values: &[f64],
    order: &[u32],
    part_shift: u32,
) -> Result<EncodedBlocks> {
    let blocks = block::encode_blocks(sensor_id, ts_ms, values, order, part_shift.min(30))
        .map_err(to_js_error)?;
    Ok(EncodedBlocks {
        part: Int32Array::new(blocks.iter().map(|b| b.part).collect()),
        min_ts_ms: Float64Array::new(blocks.iter().map(|b| b.min_ts_ms).collect()),
        max_ts_ms: Float64Array::new(blocks.iter().map(|b| b.max_ts_ms).collect()),
        rows: Uint32Array::new(blocks.iter().map(|b| b.rows).collect()),
        data: blocks.into_iter().map(|b| Buffer::from(b.data)).collect(),
    })
}

/// Readings as columns.
#[napi(object)]
pub struct ReadingColumnsOut {
    pub sensor_id: Int32Array,
    pub ts_ms: Float64Array,
    pub values: Float64Array,
}

impl From<block::Columns> for ReadingColumnsOut {
    fn from(c: block::Columns) -> Self {
        ReadingColumnsOut {
            sensor_id: Int32Array::new(c.sensor_id),
            ts_ms: Float64Array::new(c.ts_ms),
            values: Float64Array::new(c.values),
        }
    }
}

/// Every reading of a hot block, by sensor then time.
#[napi(catch_unwind)]
pub fn decode_hot_block(data: &[u8]) -> Result<ReadingColumnsOut> {
    block::decode_block(data)
        .map(Into::into)
        .map_err(to_js_error)
}

/// One sensor's readings in [fromMs, toMs) from several hot blocks, concatenated block by block.
#[napi(catch_unwind)]
pub fn hot_block_points(
    blocks: Vec<Buffer>,
    sensor_id: i32,
    from_ms: f64,
    to_ms: f64,
) -> Result<DecodedChunk> {
    let mut out = codec::Decoded::default();
    for data in &blocks {
        block::block_points(data, sensor_id, from_ms, to_ms, &mut out).map_err(to_js_error)?;
    }
    Ok(DecodedChunk {
        ts_ms: Float64Array::new(out.ts_ms),
        values: Float64Array::new(out.values),
    })
}

/// The newest reading of each sensor over several hot blocks (one entry per sensor, by sensor id).
#[napi(catch_unwind)]
pub fn hot_block_latest(blocks: Vec<Buffer>) -> Result<ReadingColumnsOut> {
    let mut newest: std::collections::BTreeMap<i32, (f64, f64)> = std::collections::BTreeMap::new();
    for data in &blocks {
        let c = block::block_latest(data).map_err(to_js_error)?;
        for ((id, t), v) in c.sensor_id.into_iter().zip(c.ts_ms).zip(c.values) {
            let entry = newest.entry(id).or_insert((t, v));
            if t >= entry.0 {
                *entry = (t, v);
            }
        }
    }
    let mut out = block::Columns::default();
    for (id, (t, v)) in newest {
        out.sensor_id.push(id);
        out.ts_ms.push(t);
        out.values.push(v);
    }
    Ok(out.into())
}

/// Aggregates of fixed buckets as columns (count, first/last with their timestamps).
#[napi(object)]
pub struct AggregateColumns {
    pub sensor_id: Int32Array,
    pub bucket_ms: Float64Array,
    pub count: Float64Array,
    pub min: Float64Array,
    pub max: Float64Array,
    pub sum: Float64Array,
    pub first_ts_ms: Float64Array,
    pub first: Float64Array,
    pub last_ts_ms: Float64Array,
    pub last: Float64Array,
}

impl From<compact::Aggregates> for AggregateColumns {
    fn from(a: compact::Aggregates) -> Self {
        AggregateColumns {
            sensor_id: Int32Array::new(a.sensor_id),
            bucket_ms: Float64Array::new(a.bucket_ms),
            count: Float64Array::new(a.count),
            min: Float64Array::new(a.min),
            max: Float64Array::new(a.max),
            sum: Float64Array::new(a.sum),
            first_ts_ms: Float64Array::new(a.first_ts_ms),
            first: Float64Array::new(a.first),
            last_ts_ms: Float64Array::new(a.last_ts_ms),
            last: Float64Array::new(a.last),
        }
    }
}

/// One chunk per sensor with its bounds, newest value and (for compaction) rollup aggregates.
#[napi(object)]
pub struct CompactedChunks {
    pub sensor_id: Int32Array,
    pub min_ts_ms: Float64Array,
    pub max_ts_ms: Float64Array,
    pub count: Uint32Array,
    pub last_value: Float64Array,
    /// Every chunk, one after the other: chunk i is `data[offsets[i]..offsets[i + 1]]`. One buffer per
    /// call, not one per chunk: a Node buffer made from Rust memory costs a finalizer and its later call.
    pub data: Buffer,
    pub offsets: Uint32Array,
    pub minute: AggregateColumns,
    pub hour: AggregateColumns,
}

impl From<compact::Compacted> for CompactedChunks {
    fn from(c: compact::Compacted) -> Self {
        let mut data = Vec::with_capacity(c.chunks.iter().map(Vec::len).sum());
        let mut offsets = Vec::with_capacity(c.chunks.len() + 1);
        offsets.push(0);
        for chunk in &c.chunks {
            data.extend_from_slice(chunk);
            offsets.push(data.len() as u32);
        }
        CompactedChunks {
            sensor_id: Int32Array::new(c.sensor_id),
            min_ts_ms: Float64Array::new(c.min_ts_ms),
            max_ts_ms: Float64Array::new(c.max_ts_ms),
            count: Uint32Array::new(c.count),
            last_value: Float64Array::new(c.last_value),
            data: Buffer::from(data),
            offsets: Uint32Array::new(offsets),
            minute: c.minute.into(),
            hour: c.hour.into(),
        }
    }
}

/// Hot blocks (oldest first) -> one chunk per sensor plus 1-minute and 1-hour aggregates. Sensors'
/// resolutions come as two parallel columns (NaN = none); a repeated (sensor, time) keeps the oldest.
#[napi(catch_unwind)]
pub fn compact_hot_blocks(
    blocks: Vec<Buffer>,
    resolution_ids: &[i32],
    resolutions: &[f64],
) -> Result<CompactedChunks> {
    let slices: Vec<&[u8]> = blocks.iter().map(|b| &b[..]).collect();
    let res = compact::resolution_map(resolution_ids, resolutions);
    compact::compact_blocks(&slices, &res)
        .map(Into::into)
        .map_err(to_js_error)
}

/// Chunks of several sensors (`owner[i]` owns chunk i) -> one chunk per sensor (no aggregates).
#[napi(catch_unwind)]
pub fn merge_chunks(
    chunks: Vec<Buffer>,
    owner: &[i32],
    resolution_ids: &[i32],
    resolutions: &[f64],
) -> Result<CompactedChunks> {
    let slices: Vec<&[u8]> = chunks.iter().map(|b| &b[..]).collect();
    let res = compact::resolution_map(resolution_ids, resolutions);
    compact::merge_chunks(&slices, owner, &res)
        .map(Into::into)
        .map_err(to_js_error)
}
