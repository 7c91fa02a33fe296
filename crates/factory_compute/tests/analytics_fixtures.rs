//! Runs the shared analytics fixtures (tests/fixtures/analytics.json) through the Rust core.
use factory_compute::analytics::{
    self, error::whole_number, AnalyticsError, Anomalies, BucketParams, Buckets, EwmaParams,
    RobustZScoreParams, RollingZScoreParams, SampledPoints, Series, WindowStats,
};
use serde_json::{json, Map, Value};

fn fixtures() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/analytics.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture file"))
        .expect("fixture JSON")
}

/// null = NaN, "Infinity"/"-Infinity" = infinities, as documented in the fixture file.
fn number(v: &Value) -> f64 {
    match v {
        Value::Null => f64::NAN,
        Value::String(s) if s == "Infinity" => f64::INFINITY,
        Value::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
        other => other
            .as_f64()
            .unwrap_or_else(|| panic!("not a number: {other}")),
    }
}

fn column(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(number).collect()
}

fn encode(x: f64) -> Value {
    if x.is_nan() {
        Value::Null
    } else if x.is_infinite() {
        json!(if x > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        json!(x)
    }
}

fn encode_column<T: Copy + Into<f64>>(xs: &[T]) -> Value {
    Value::Array(xs.iter().map(|&x| encode(x.into())).collect())
}

/// Whole-value comparison: same keys and shapes, numbers within the relative tolerance; returns mismatches.
fn mismatches(path: &str, actual: &Value, expected: &Value, tolerance: f64, out: &mut Vec<String>) {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            let mut keys: Vec<&String> = a.keys().chain(e.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let (a, e) = (
                    a.get(k).unwrap_or(&Value::Bool(false)),
                    e.get(k).unwrap_or(&Value::Bool(false)),
                );
                mismatches(&format!("{path}.{k}"), a, e, tolerance, out);
            }
        }
        (Value::Array(a), Value::Array(e)) if a.len() == e.len() => {
            for (i, (a, e)) in a.iter().zip(e).enumerate() {
                mismatches(&format!("{path}[{i}]"), a, e, tolerance, out);
            }
        }
        (Value::Array(_), Value::Array(_)) | (Value::Bool(_), _) | (_, Value::Bool(_)) => {
            out.push(format!("{path}: {actual} != {expected}"));
        }
        _ => {
            let (a, e) = (number(actual), number(expected));
            let close = a == e
                || (a.is_nan() && e.is_nan())
                || (a - e).abs() <= tolerance * a.abs().max(e.abs());
            if !close {
                out.push(format!("{path}: {a:e} != {e:e}"));
            }
        }
    }
}

fn stats_json(s: WindowStats) -> Value {
    let point = |p: Option<analytics::Point>| {
        p.map_or((-1.0, f64::NAN, f64::NAN), |p| {
            (p.index.into(), p.ts_ms, p.value)
        })
    };
    let (fi, ft, fv) = point(s.first);
    let (li, lt, lv) = point(s.last);
    json!({
        "count": s.count, "min": encode(s.min), "max": encode(s.max), "sum": encode(s.sum), "mean": encode(s.mean),
        "std": encode(s.std), "firstIndex": fi, "firstTsMs": encode(ft), "firstValue": encode(fv),
        "lastIndex": li, "lastTsMs": encode(lt), "lastValue": encode(lv),
        "p50": encode(s.p50), "p90": encode(s.p90), "p95": encode(s.p95), "p99": encode(s.p99),
    })
}

fn anomalies_json(a: Anomalies) -> Value {
    json!({
        "threshold": a.threshold, "index": encode_column(&a.index), "tsMs": encode_column(&a.ts_ms),
        "value": encode_column(&a.value), "score": encode_column(&a.score),
    })
}

fn buckets_json(b: Buckets) -> Value {
    json!({
        "startMs": encode_column(&b.start_ms), "count": encode_column(&b.count), "min": encode_column(&b.min),
        "max": encode_column(&b.max), "avg": encode_column(&b.avg), "first": encode_column(&b.first),
        "last": encode_column(&b.last),
    })
}

fn sampled_json(s: SampledPoints) -> Value {
    json!({ "index": encode_column(&s.index), "tsMs": encode_column(&s.ts_ms), "value": encode_column(&s.value) })
}

fn param(params: &Map<String, Value>, key: &str) -> Option<f64> {
    params.get(key).map(number)
}

/// Runs one function by its fixture name, converting parameters the way the Node bindings do.
fn run(function: &str, case: &Value) -> Result<Value, AnalyticsError> {
    let ts = column(&case["tsMs"]);
    let values = column(&case["values"]);
    let empty = Map::new();
    let p = case["params"].as_object().unwrap_or(&empty);
    let count = |key: &'static str, default: u32| {
        param(p, key).map_or(Ok(default), |v| whole_number(key, v))
    };
    match function {
        "windowStats" => Series::new(&ts, &values).map(|s| stats_json(analytics::window_stats(s))),
        "rollingZScore" => {
            let d = RollingZScoreParams::default();
            let window = count("window", d.window)?;
            let params = RollingZScoreParams {
                window,
                threshold: param(p, "threshold").unwrap_or(d.threshold),
            };
            analytics::rolling_zscore(Series::new(&ts, &values)?, params).map(anomalies_json)
        }
        "robustZScore" => {
            let params = RobustZScoreParams {
                threshold: param(p, "threshold").unwrap_or(RobustZScoreParams::default().threshold),
            };
            analytics::robust_zscore(Series::new(&ts, &values)?, params).map(anomalies_json)
        }
        "ewma" => {
            let d = EwmaParams::default();
            let baseline_points = count("baselinePoints", 0)?;
            let params = EwmaParams {
                alpha: param(p, "alpha").unwrap_or(d.alpha),
                limit_sigmas: param(p, "limitSigmas").unwrap_or(d.limit_sigmas),
                baseline_points,
            };
            analytics::ewma(Series::new(&ts, &values)?, params).map(anomalies_json)
        }
        "downsampleBuckets" => {
            let params = BucketParams {
                bucket_ms: param(p, "bucketMs").expect("bucketMs"),
                origin_ms: param(p, "originMs").unwrap_or(0.0),
            };
            analytics::downsample_buckets(Series::new(&ts, &values)?, params).map(buckets_json)
        }
        "lttb" => {
            let points = whole_number("points", param(p, "points").expect("points"))?;
            analytics::lttb(Series::new(&ts, &values)?, points).map(sampled_json)
        }
        other => panic!("unknown fixture function {other}"),
    }
}

#[test]
fn every_fixture_case_gives_its_expected_result() {
    let doc = fixtures();
    let tolerance = doc["relativeTolerance"]
        .as_f64()
        .expect("relativeTolerance");
    let mut failures = Vec::new();
    let mut cases = 0;
    for function in [
        "windowStats",
        "rollingZScore",
        "robustZScore",
        "ewma",
        "downsampleBuckets",
        "lttb",
    ] {
        for case in doc[function].as_array().expect("cases") {
            cases += 1;
            let name = format!("{function}: {}", case["name"]);
            match run(function, case) {
                Ok(actual) => {
                    mismatches(&name, &actual, &case["expected"], tolerance, &mut failures)
                }
                Err(e) => failures.push(format!("{name}: unexpected error {e}")),
            }
        }
    }
    assert!(
        cases >= 20,
        "expected the fixture file to hold at least 20 cases, found {cases}"
    );
    assert_eq!(failures, Vec::<String>::new());
}

#[test]
fn every_error_fixture_gives_its_code_and_field() {
    let doc = fixtures();
    let mut failures = Vec::new();
    for case in doc["errors"].as_array().expect("errors") {
        let function = case["function"].as_str().expect("function");
        let expected = (
            case["code"].as_str().expect("code"),
            case["field"].as_str().expect("field"),
        );
        match run(function, case) {
            Ok(v) => failures.push(format!("{case}: no error, got {v}")),
            Err(e) if (e.code.as_str(), e.field) == expected => {}
            Err(e) => failures.push(format!("{case}: got {e}")),
        }
    }
    assert_eq!(failures, Vec::<String>::new());
}
