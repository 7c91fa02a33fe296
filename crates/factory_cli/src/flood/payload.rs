//! Telemetry payloads of the flood: one snapshot `{"ts":..,"values":{..}}` or an array of them, with a
//! distinct timestamp per snapshot so every reading (sensor, ts) is unique and can be counted back.

use std::fmt::Write;

/// Which timestamps a connection uses: snapshot n gets `ts_start_ms + n * stride_ms + offset_ms`.
/// Connections that share one device get the same stride and different offsets, so they never collide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeline {
    pub ts_start_ms: i64,
    pub stride_ms: i64,
    pub offset_ms: i64,
}

impl Timeline {
    pub fn ts_of(&self, snapshot: u64) -> i64 {
        self.ts_start_ms + snapshot as i64 * self.stride_ms + self.offset_ms
    }
}

/// Writes message `seq` (holding snapshots `seq * batch ..`) into `out`, replacing its contents.
pub fn encode(
    out: &mut Vec<u8>,
    timeline: &Timeline,
    seq: u64,
    batch: u32,
    sensor_keys: &[String],
) {
    out.clear();
    let mut text = String::with_capacity(out.capacity());
    if batch > 1 {
        text.push('[');
    }
    for j in 0..batch as u64 {
        if j > 0 {
            text.push(',');
        }
        let snapshot = seq * batch as u64 + j;
        let _ = write!(text, "{{\"ts\":{},\"values\":{{", timeline.ts_of(snapshot));
        for (k, key) in sensor_keys.iter().enumerate() {
            if k > 0 {
                text.push(',');
            }
            let hundredths = value_hundredths(snapshot, k);
            let _ = write!(
                text,
                "\"{key}\":{}.{:02}",
                hundredths / 100,
                hundredths % 100
            );
        }
        text.push_str("}}");
    }
    if batch > 1 {
        text.push(']');
    }
    out.extend_from_slice(text.as_bytes());
}

/// A deterministic value in [0, 1000) with two decimals (the load sensors' resolution is 0.01).
pub fn value_hundredths(snapshot: u64, sensor: usize) -> u64 {
    (snapshot
        .wrapping_mul(7919)
        .wrapping_add(sensor as u64 * 104_729))
        % 100_000
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Vec<String> {
        vec!["s0".into(), "s1".into()]
    }

    #[test]
    fn encodes_one_snapshot_as_an_object() {
        let mut out = Vec::new();
        let timeline = Timeline {
            ts_start_ms: 1_000,
            stride_ms: 1,
            offset_ms: 0,
        };
        encode(&mut out, &timeline, 3, 1, &keys());
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"ts":1003,"values":{"s0":237.57,"s1":284.86}}"#
        );
    }

    #[test]
    fn encodes_a_batch_as_an_array_with_consecutive_timestamps() {
        let mut out = Vec::new();
        let timeline = Timeline {
            ts_start_ms: 1_000,
            stride_ms: 3,
            offset_ms: 2,
        };
        encode(&mut out, &timeline, 1, 2, &keys()[..1]);
        let parsed: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!([{"ts": 1008, "values": {"s0": 158.38}}, {"ts": 1011, "values": {"s0": 237.57}}])
        );
    }
}
