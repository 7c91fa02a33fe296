//! Command-line behaviour without a server: flag conflicts, usage errors and `--dry-run` output.

use assert_cmd::Command;

mod common;

fn cli() -> Command {
    Command::new(common::cli_path())
}

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn dry_run_prints_the_plan_and_first_messages_without_a_broker() {
    let output = cli()
        .args([
            "flood",
            "--dry-run",
            "--count",
            "4",
            "-c",
            "2",
            "--sensors",
            "2",
            "--ts-start-ms",
            "1000",
        ])
        .args(["--mqtt-url", "mqtt://127.0.0.1:1"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "dry run: would open 2 connection(s) to 127.0.0.1:1, QoS 1, 1 snapshot(s) per message, \
         as fast as 32 in flight per connection allow, 4 messages in total\n\
         connection 0 client factory-cli-0 topic factories/load/machines/load/telemetry\n\
         \x20 {\"ts\":1000,\"values\":{\"s0\":0.00,\"s1\":47.29}}\n\
         \x20 {\"ts\":1002,\"values\":{\"s0\":79.19,\"s1\":126.48}}\n\
         connection 1 client factory-cli-1 topic factories/load/machines/load/telemetry\n\
         \x20 {\"ts\":1001,\"values\":{\"s0\":0.00,\"s1\":47.29}}\n\
         \x20 {\"ts\":1003,\"values\":{\"s0\":79.19,\"s1\":126.48}}\n"
    );
}

#[test]
fn dry_run_json_describes_a_batched_open_loop_plan() {
    let output = cli()
        .args([
            "flood",
            "--dry-run",
            "--json",
            "--rate",
            "100",
            "-c",
            "4",
            "--batch",
            "2",
            "--sensors",
            "1",
        ])
        .args([
            "--duration-s",
            "5",
            "--ts-start-ms",
            "0",
            "--ramp-s",
            "2",
            "--qos",
            "0",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let first_connection = serde_json::json!({
        "index": 0, "clientId": "factory-cli-0", "username": null,
        "topic": "factories/load/machines/load/telemetry", "messages": null, "startOffsetMs": 0,
        "first": [
            {"topic": "factories/load/machines/load/telemetry",
             "payload": "[{\"ts\":0,\"values\":{\"s0\":0.00}},{\"ts\":4,\"values\":{\"s0\":79.19}}]"},
            {"topic": "factories/load/machines/load/telemetry",
             "payload": "[{\"ts\":8,\"values\":{\"s0\":158.38}},{\"ts\":12,\"values\":{\"s0\":237.57}}]"}
        ]
    });
    assert_eq!(plan["shown"][0], first_connection);
    assert_eq!(plan["shown"][1]["startOffsetMs"], 500);
    assert_eq!(plan["ratePerConnection"], 25.0);
    assert_eq!(plan["qos"], 0);
    assert_eq!(plan["connections"], 4);
}

#[test]
fn count_and_duration_conflict() {
    let output = cli()
        .args(["flood", "--count", "5", "--duration-s", "3", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr_of(&output).contains("cannot be used with"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn credentials_file_conflicts_with_a_shared_device() {
    let output = cli()
        .args([
            "flood",
            "--credentials",
            "c.json",
            "--username",
            "u",
            "--password",
            "p",
            "--dry-run",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr_of(&output).contains("cannot be used with"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn username_requires_password() {
    let output = cli()
        .args(["flood", "--username", "u", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr_of(&output).contains("--password"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn rejects_bad_values() {
    for (flag, value) in [
        ("--qos", "2"),
        ("--inflight", "0"),
        ("--batch", "0"),
        ("--rate", "fast"),
    ] {
        let output = cli()
            .args(["flood", "--dry-run", flag, value])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{flag} {value}");
        assert!(
            stderr_of(&output).contains(flag),
            "{flag}: {}",
            stderr_of(&output)
        );
    }
    let output = cli()
        .args(["flood", "--dry-run", "--rate=-5"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr_of(&output),
        "error: --rate must be a positive number of messages per second, got -5\n"
    );
}

#[test]
fn names_a_missing_credentials_file() {
    let output = cli()
        .args(["flood", "--dry-run", "--credentials", "/nonexistent/c.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_of(&output).starts_with("error: cannot read --credentials /nonexistent/c.json"));
}

#[test]
fn refuses_more_connections_than_devices() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.json");
    let device = serde_json::json!({
        "factoryKey": "f", "machineKey": "m1", "clientId": "u1", "username": "u1", "password": "p",
        "topic": "factories/f/machines/m1/telemetry", "sensors": [{"key": "s0"}]
    });
    std::fs::write(
        &path,
        serde_json::json!({"version": 1, "devices": [device]}).to_string(),
    )
    .unwrap();
    let output = cli()
        .args([
            "flood",
            "--dry-run",
            "-c",
            "2",
            "--credentials",
            path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr_of(&output),
        "error: --connections 2 exceeds the 1 devices in the credentials file (each connection is one device)\n"
    );
}

#[test]
fn api_commands_report_an_unreachable_server() {
    for args in [
        vec!["health"],
        vec!["query", "latest", "--machine", "1"],
        vec!["provision", "-n", "1"],
    ] {
        let output = cli()
            .args(&args)
            .args(["--api-url", "http://127.0.0.1:1"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(
            stderr_of(&output).starts_with("error: CLI_HTTP_UNREACHABLE: "),
            "{args:?}: {}",
            stderr_of(&output)
        );
    }
}
