//! A real flood over real TCP connections against the `sink` MQTT server: every message published is
//! acknowledged, and the JSON report counts them exactly.

mod common;

use assert_cmd::Command;
use serde_json::{json, Value};

fn flood(mqtt_url: &str, extra: &[&str]) -> Value {
    let output = Command::new(common::cli_path())
        .args([
            "flood",
            "--mqtt-url",
            mqtt_url,
            "--json",
            "--no-verify",
            "--quiet",
        ])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn counts(report: &Value) -> Value {
    json!({
        "connections": report["connections"],
        "messages": [report["messages"]["published"], report["messages"]["acknowledged"]],
        "readings": [report["readings"]["published"], report["readings"]["acknowledged"]],
        "latencySamples": report["latencyUs"]["samples"],
        "errors": report["errors"],
    })
}

#[test]
fn qos1_flood_acknowledges_every_message_with_latency_for_each() {
    let (_sink, url) = common::start_sink();
    let report = flood(
        &url,
        &[
            "-c",
            "5",
            "--count",
            "503",
            "--batch",
            "3",
            "--sensors",
            "2",
            "--inflight",
            "4",
        ],
    );
    assert_eq!(
        counts(&report),
        json!({
            "connections": {"opened": 5, "failed": 0},
            "messages": [503, 503],
            "readings": [503 * 6, 503 * 6],
            "latencySamples": 503,
            "errors": {},
        })
    );
    assert_eq!(report["schema"], "factory_cli.flood.v1");
    assert_eq!(report["verify"], Value::Null);
}

#[test]
fn open_loop_flood_sends_the_planned_count() {
    let (_sink, url) = common::start_sink();
    let report = flood(
        &url,
        &[
            "-c", "2", "--count", "40", "--rate", "400", "--ramp-s", "0.05",
        ],
    );
    assert_eq!(
        counts(&report),
        json!({
            "connections": {"opened": 2, "failed": 0},
            "messages": [40, 40],
            "readings": [160, 160],
            "latencySamples": 40,
            "errors": {},
        })
    );
}

#[test]
fn qos0_flood_publishes_without_acknowledgements() {
    let (_sink, url) = common::start_sink();
    let report = flood(&url, &["-c", "3", "--count", "300", "--qos", "0"]);
    assert_eq!(
        counts(&report),
        json!({
            "connections": {"opened": 3, "failed": 0},
            "messages": [300, 0],
            "readings": [1200, 0],
            "latencySamples": null,
            "errors": {},
        })
    );
}

#[test]
fn a_flood_with_no_reachable_broker_fails() {
    let output = Command::new(common::cli_path())
        .args([
            "flood",
            "--mqtt-url",
            "mqtt://127.0.0.1:1",
            "--count",
            "1",
            "--no-verify",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["connections"], json!({"opened": 0, "failed": 1}));
    assert_eq!(report["errors"], json!({"io_connection_refused": 5}));
}
