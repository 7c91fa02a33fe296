//! Node-API bindings for the chunk codec: typed arrays in, bytes out and back. Every export catches panics.
// napi-derive compiles the exports out of unit-test builds, leaving them unused there.
#![cfg_attr(test, allow(dead_code))]
use crate::codec;
use napi::bindgen_prelude::{Buffer, Float64Array};
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
