//! Feeds the validator random bytes and corrupted fixture payloads: it must never panic, and every
//! message must end up with readings and per-reading rejects or with exactly one message-level reject.

use factory_compute::validate::{MessageRef, RejectCode, SensorSpec, Validator, ValidatorOptions};

/// A small deterministic generator (PCG-style LCG), so failures reproduce.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }
}

const SEEDS: &[&str] = &[
    r#"{"ts":1699999990000,"values":{"temp":21.5,"rpm":1200,"pressure":3}}"#,
    r#"[{"ts":"2023-11-14T22:13:10.123Z","values":{"temp":1,"x":[1,{"a":null}]}},{"values":{"rpm":NaN}}]"#,
    r#"{"t\u0073":-1e400,"v\u0061lues":{"te\u006dp":"4","\ud800":true},"extra":{"deep":[[[[]]]]}}"#,
    r#"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{}]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"#,
];

#[test]
fn arbitrary_bytes_never_panic_and_message_level_rejects_stand_alone() {
    let options = ValidatorOptions {
        max_readings_per_message: 8,
        future_tolerance_ms: 5000.0,
        backfill_window_ms: 1e9,
    };
    let mut validator = Validator::new(options).unwrap();
    for (sensor_id, key) in ["temp", "rpm", "pressure"].into_iter().enumerate() {
        validator.upsert_sensor(&SensorSpec {
            machine_id: 1,
            sensor_id: sensor_id as i32,
            key: key.into(),
            min_value: 0.0,
            max_value: 100.0,
        });
    }
    let alphabet = b"{}[]\":,.-+eE0123456789 \\untrfalsNIy\xff\xc3\xa9";
    let mut random = Lcg(7);
    for _ in 0..5000 {
        let bodies: Vec<Vec<u8>> = (0..1 + random.below(6))
            .map(|_| {
                let mut body = SEEDS[random.below(SEEDS.len())].as_bytes().to_vec();
                match random.below(3) {
                    0 => {
                        for _ in 0..1 + random.below(4) {
                            let at = random.below(body.len());
                            body[at] = alphabet[random.below(alphabet.len())];
                        }
                    }
                    1 => body.truncate(random.below(body.len() + 1)),
                    _ => {
                        body = (0..random.below(40))
                            .map(|_| alphabet[random.below(alphabet.len())])
                            .collect()
                    }
                }
                body
            })
            .collect();
        let messages: Vec<MessageRef> = bodies
            .iter()
            .map(|body| MessageRef {
                payload: body,
                machine_id: 1,
                received_ms: 1e12,
            })
            .collect();
        let out = validator.validate(&messages, 1e12);
        for msg in 0..messages.len() as u32 {
            let rejects: Vec<usize> = (0..out.reject_msg_index.len())
                .filter(|&row| out.reject_msg_index[row] == msg)
                .collect();
            let accepted = out.msg_index.iter().filter(|&&index| index == msg).count();
            let message_level = rejects.iter().any(|&row| {
                let code = RejectCode::from_u8(out.reject_code[row]).unwrap();
                matches!(
                    code,
                    RejectCode::PayloadJsonMalformed | RejectCode::PayloadBatchTooLarge
                )
            });
            if message_level {
                assert_eq!(
                    (rejects.len(), accepted, out.reject_key[rejects[0]].as_str()),
                    (1, 0, ""),
                    "{:?}",
                    bodies[msg as usize]
                );
            }
            assert!(accepted <= 8, "maxReadingsPerMessage holds");
        }
    }
}
