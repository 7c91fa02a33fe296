//! Runs the shared payload fixtures (tests/fixtures/payloads.json) through the Rust validator and
//! compares whole outputs; vitest runs the same file through the addon and the TypeScript twin.

use factory_compute::validate::{
    MessageRef, RejectCode, SensorSpec, ValidationOutput, Validator, ValidatorOptions,
};
use serde_json::Value;

/// One accepted row: (msg index, sensor id, ts bits, value bits); bits so NaN and -0 compare exactly.
type AcceptedRow = (u32, i32, u64, u64);
/// One reject row: (msg index, code name, key, ts bits, value bits).
type RejectRow = (u32, String, String, u64, u64);

struct Case {
    name: String,
    payload: Vec<u8>,
    now_ms: f64,
    received_ms: f64,
    machine_id: i32,
    options: ValidatorOptions,
    sensors: Vec<SensorSpec>,
    accepted: Vec<AcceptedRow>,
    rejects: Vec<RejectRow>,
}

fn load_cases() -> Vec<Case> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/payloads.json"
    );
    let text = std::fs::read_to_string(path).expect("fixture file is readable");
    let cases: Vec<Value> = serde_json::from_str(&text).expect("fixture file is JSON");
    cases.iter().map(parse_case).collect()
}

fn parse_case(case: &Value) -> Case {
    let payload = match (&case["payload"], &case["payloadBase64"]) {
        (Value::String(text), _) => text.as_bytes().to_vec(),
        (_, Value::String(encoded)) => decode_base64(encoded),
        _ => panic!("case {} has no payload", case["name"]),
    };
    let options = &case["options"];
    let expect = &case["expect"];
    Case {
        name: case["name"].as_str().unwrap().to_owned(),
        payload,
        now_ms: case["nowMs"].as_f64().unwrap(),
        received_ms: case["receivedMs"].as_f64().unwrap(),
        machine_id: case["machineId"].as_i64().unwrap() as i32,
        options: ValidatorOptions {
            max_readings_per_message: options["maxReadingsPerMessage"].as_u64().unwrap() as u32,
            future_tolerance_ms: options["futureToleranceMs"].as_f64().unwrap(),
            backfill_window_ms: options["backfillWindowMs"].as_f64().unwrap(),
        },
        sensors: case["sensors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|sensor| SensorSpec {
                machine_id: sensor["machineId"].as_i64().unwrap() as i32,
                sensor_id: sensor["sensorId"].as_i64().unwrap() as i32,
                key: sensor["key"].as_str().unwrap().to_owned(),
                min_value: number(&sensor["minValue"]),
                max_value: number(&sensor["maxValue"]),
            })
            .collect(),
        accepted: expect["accepted"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| {
                let sensor_id = row["sensorId"].as_i64().unwrap() as i32;
                (
                    0,
                    sensor_id,
                    number(&row["tsMs"]).to_bits(),
                    number(&row["value"]).to_bits(),
                )
            })
            .collect(),
        rejects: expect["rejects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| {
                let code = row["code"].as_str().unwrap().to_owned();
                let key = row["key"].as_str().unwrap().to_owned();
                (
                    0,
                    code,
                    key,
                    number(&row["tsMs"]).to_bits(),
                    number(&row["value"]).to_bits(),
                )
            })
            .collect(),
    }
}

/// Fixture numbers: `null` is NaN, and the strings "Infinity"/"-Infinity" stand for themselves.
fn number(value: &Value) -> f64 {
    match value {
        Value::Null => f64::NAN,
        Value::String(text) if text == "Infinity" => f64::INFINITY,
        Value::String(text) if text == "-Infinity" => f64::NEG_INFINITY,
        other => other
            .as_f64()
            .unwrap_or_else(|| panic!("not a fixture number: {other}")),
    }
}

fn decode_base64(encoded: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut bit_count = 0;
    let mut out = Vec::new();
    for byte in encoded.bytes().filter(|&byte| byte != b'=') {
        let sextet = ALPHABET
            .iter()
            .position(|&symbol| symbol == byte)
            .expect("base64 symbol") as u32;
        bits = (bits << 6) | sextet;
        bit_count += 6;
        if bit_count >= 8 {
            bit_count -= 8;
            out.push((bits >> bit_count) as u8);
            bits &= (1 << bit_count) - 1;
        }
    }
    out
}

fn validator_for(case: &Case) -> Validator {
    let mut validator = Validator::new(case.options).expect("fixture options are valid");
    for sensor in &case.sensors {
        validator.upsert_sensor(sensor);
    }
    validator
}

fn accepted_rows(out: &ValidationOutput) -> Vec<AcceptedRow> {
    (0..out.msg_index.len())
        .map(|row| {
            (
                out.msg_index[row],
                out.sensor_id[row],
                out.ts_ms[row].to_bits(),
                out.value[row].to_bits(),
            )
        })
        .collect()
}

fn reject_rows(out: &ValidationOutput) -> Vec<RejectRow> {
    (0..out.reject_msg_index.len())
        .map(|row| {
            let code = RejectCode::from_u8(out.reject_code[row])
                .expect("known code")
                .name()
                .to_owned();
            let (ts, value) = (out.reject_ts_ms[row], out.reject_value[row]);
            (
                out.reject_msg_index[row],
                code,
                out.reject_key[row].clone(),
                ts.to_bits(),
                value.to_bits(),
            )
        })
        .collect()
}

/// NaN has many bit patterns; the fixtures only care that it is NaN.
fn canonical_nan(bits: u64) -> u64 {
    if f64::from_bits(bits).is_nan() {
        f64::NAN.to_bits()
    } else {
        bits
    }
}

fn canonical(
    mut accepted: Vec<AcceptedRow>,
    mut rejects: Vec<RejectRow>,
) -> (Vec<AcceptedRow>, Vec<RejectRow>) {
    for row in &mut accepted {
        row.2 = canonical_nan(row.2);
        row.3 = canonical_nan(row.3);
    }
    for row in &mut rejects {
        row.3 = canonical_nan(row.3);
        row.4 = canonical_nan(row.4);
    }
    (accepted, rejects)
}

#[test]
fn every_fixture_case_gives_exactly_its_expected_output() {
    let cases = load_cases();
    let mut failures = Vec::new();
    for case in &cases {
        let message = MessageRef {
            payload: &case.payload,
            machine_id: case.machine_id,
            received_ms: case.received_ms,
        };
        let out = validator_for(case).validate(&[message], case.now_ms);
        let actual = canonical(accepted_rows(&out), reject_rows(&out));
        let expected = canonical(case.accepted.clone(), case.rejects.clone());
        if actual != expected {
            failures.push(format!(
                "{}:\n  actual   {actual:?}\n  expected {expected:?}",
                case.name
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn fixture_cases_validated_in_one_batch_keep_their_message_index() {
    let cases = load_cases();
    let first = &cases[0];
    let batchable: Vec<&Case> = cases
        .iter()
        // Debug output, because NaN bounds never compare equal.
        .filter(|case| {
            format!("{:?}", (case.options, case.now_ms, &case.sensors))
                == format!("{:?}", (first.options, first.now_ms, &first.sensors))
        })
        .collect();
    assert!(
        batchable.len() > 40,
        "most cases share options, clock and sensors"
    );
    let messages: Vec<MessageRef> = batchable
        .iter()
        .map(|case| MessageRef {
            payload: &case.payload,
            machine_id: case.machine_id,
            received_ms: case.received_ms,
        })
        .collect();
    let out = validator_for(first).validate(&messages, first.now_ms);
    let mut expected_accepted = Vec::new();
    let mut expected_rejects = Vec::new();
    for (index, case) in batchable.iter().enumerate() {
        expected_accepted.extend(
            case.accepted
                .iter()
                .map(|row| (index as u32, row.1, row.2, row.3)),
        );
        expected_rejects.extend(
            case.rejects
                .iter()
                .map(|row| (index as u32, row.1.clone(), row.2.clone(), row.3, row.4)),
        );
    }
    assert_eq!(
        canonical(accepted_rows(&out), reject_rows(&out)),
        canonical(expected_accepted, expected_rejects)
    );
}

#[test]
fn fixtures_cover_every_reject_code() {
    let cases = load_cases();
    for code in RejectCode::ALL {
        assert!(
            cases
                .iter()
                .any(|case| case.rejects.iter().any(|row| row.1 == code.name())),
            "no fixture expects {}",
            code.name()
        );
    }
}
