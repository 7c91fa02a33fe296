//! End to end against the real factory-monitor server (spawned with `node --import tsx`): provision
//! devices through the API, flood them over MQTT, and prove every acknowledged reading was committed.

mod common;

use assert_cmd::Command;
use serde_json::{json, Value};

struct Env {
    server: common::Server,
    credentials: std::path::PathBuf,
}

fn cli(env: &Env) -> Command {
    let mut command = Command::new(common::cli_path());
    command
        .env("FACTORY_API_URL", &env.server.api_url)
        .env("FACTORY_API_TOKEN_FILE", &env.server.token_file)
        .env("FACTORY_MQTT_URL", &env.server.mqtt_url)
        .env_remove("FACTORY_API_TOKEN");
    command
}

fn provisioned(machines: &str, sensors: &str) -> Env {
    provisioned_with(&[], machines, sensors)
}

fn provisioned_with(server_env: &[(&str, &str)], machines: &str, sensors: &str) -> Env {
    let server = common::start_server_with(server_env);
    let credentials = server.data_dir.path().join("credentials.json");
    let mut env = Env {
        server,
        credentials,
    };
    let path = env.credentials.to_str().unwrap().to_string();
    let output = cli(&env)
        .args([
            "provision",
            "-n",
            machines,
            "--sensors",
            sensors,
            "-o",
            &path,
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    env.credentials = path.into();
    env
}

fn flood_json(env: &Env, extra: &[&str]) -> (Option<i32>, Value) {
    let output = cli(env)
        .args([
            "flood",
            "--json",
            "--quiet",
            "--credentials",
            env.credentials.to_str().unwrap(),
        ])
        .args(extra)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    (output.status.code(), report)
}

#[test]
fn provisioned_flood_is_acknowledged_committed_and_queryable() {
    let env = provisioned("3", "2");
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(&env.credentials).unwrap()).unwrap();
    assert_eq!(file["devices"].as_array().unwrap().len(), 3);
    assert_eq!(
        file["devices"][2]["topic"],
        "factories/load/machines/m0003/telemetry"
    );

    let (code, report) = flood_json(&env, &["--count", "300", "--batch", "5", "--inflight", "8"]);
    assert_eq!(code, Some(0));
    assert_eq!(
        (
            report["messages"]["published"].clone(),
            report["messages"]["acknowledged"].clone(),
            report["errors"].clone()
        ),
        (json!(300), json!(300), json!({}))
    );
    assert_eq!(
        report["verify"],
        json!({
            "status": "ok", "published": 3000, "acknowledged": 3000, "committed": 3000, "queryable": 3000,
            "missingAcknowledged": 0, "sensors": []
        })
    );

    // The same sensors again: the flood starts after the newest stored reading, so nothing overlaps.
    let (code, report) = flood_json(&env, &["--count", "30", "--rate", "300", "-c", "2"]);
    assert_eq!(code, Some(0));
    assert_eq!(report["verify"]["committed"], 60);
    assert_eq!(report["verify"]["status"], "ok");

    let machine_id = file["devices"][0]["machineId"]
        .as_i64()
        .unwrap()
        .to_string();
    let output = cli(&env)
        .args(["query", "count", "--machine", &machine_id])
        .output()
        .unwrap();
    // 100 + 15 messages x 5 or 1 snapshots x 2 sensors went to the first machine.
    assert_eq!(String::from_utf8(output.stdout).unwrap(), "1030\n");
    let output = cli(&env)
        .args(["query", "latest", "--machine", &machine_id, "--json"])
        .output()
        .unwrap();
    let latest: Value = serde_json::from_slice(&output.stdout).unwrap();
    let keys: Vec<&str> = latest["readings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["s0", "s1"]);
    let output = cli(&env).args(["health"]).output().unwrap();
    assert!(output.status.success());
}

#[test]
fn acknowledged_readings_the_server_did_not_keep_fail_the_proof() {
    let env = provisioned("1", "1");
    // Timestamps in 1970 are older than the backfill window: stored as rejects, yet acknowledged.
    let (code, report) = flood_json(&env, &["--count", "3", "--ts-start-ms", "1000"]);
    assert_eq!(code, Some(1));
    let sensor_id = report["verify"]["sensors"][0]["sensorId"].clone();
    assert_eq!(
        report["verify"],
        json!({
            "status": "missing", "published": 3, "acknowledged": 3, "committed": 0, "queryable": 0,
            "missingAcknowledged": 3,
            "sensors": [{
                "machineId": 1, "sensorId": sensor_id, "sensorKey": "s0", "published": 3, "acknowledged": 3,
                "committed": 0, "queryable": 0, "missingAcknowledged": 3, "missingTsMs": [1000, 1001, 1002]
            }]
        })
    );
    let output = cli(&env)
        .args(["query", "rejects", "--json"])
        .output()
        .unwrap();
    let rejects: Value = serde_json::from_slice(&output.stdout).unwrap();
    let reasons: Vec<&str> = rejects["rejects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["READING_TS_TOO_OLD"; 3]);
}

#[test]
fn qos0_flood_is_committed_once_the_writer_catches_up() {
    let env = provisioned("2", "3");
    let (code, report) = flood_json(&env, &["--count", "200", "--qos", "0", "--batch", "2"]);
    assert_eq!(code, Some(0));
    assert_eq!(report["messages"]["acknowledged"], 0);
    assert_eq!(report["verify"]["published"], 1200);
    assert_eq!(report["verify"]["queryable"], 1200);
    assert_eq!(report["verify"]["status"], "ok");
}

#[test]
fn subscriber_receives_every_flooded_message() {
    // The subscriber is an anonymous development client; the devices are provisioned ones.
    let env = provisioned_with(&[("FACTORY_MQTT_ALLOW_ANONYMOUS", "true")], "3", "2");
    let mut subscriber = std::process::Command::new(common::cli_path())
        .args(["subscribe", "--mqtt-url", &env.server.mqtt_url])
        .args([
            "--topic",
            "factories/+/machines/+/telemetry",
            "--count",
            "300",
        ])
        .args(["--report-ms", "50", "--duration-s", "60"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = subscriber.stdout.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    // The first count line means the subscription is in place.
    let first: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["received"], 0);
    let (code, report) = flood_json(&env, &["--count", "300"]);
    assert_eq!((code, &report["verify"]["status"]), (Some(0), &json!("ok")));
    let last: Value = serde_json::from_str(&lines.last().unwrap().unwrap()).unwrap();
    assert!(subscriber.wait().unwrap().success());
    assert_eq!(
        (&last["received"], &last["done"], last.get("error")),
        (&json!(300), &json!(true), None)
    );
}

/// Runs `subscribe` to its end and returns its exit code and last JSON line without the rate.
fn subscribe_to_end(env: &Env, extra: &[&str]) -> (Option<i32>, Value) {
    let output = cli(env)
        .args(["subscribe", "--duration-s", "10"])
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut last: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    last.as_object_mut().unwrap().remove("per_s");
    (output.status.code(), last)
}

#[test]
fn subscriber_refused_by_the_broker_says_why() {
    let env = provisioned("1", "1");
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(&env.credentials).unwrap()).unwrap();
    let device = &file["devices"][0];
    let username = device["username"].as_str().unwrap();
    assert_eq!(
        subscribe_to_end(&env, &["--username", username, "--password", "wrong"]),
        (
            Some(1),
            json!({ "received": 0, "done": true,
                    "error": "the broker refused the connection: bad user name or password" })
        )
    );
    // A device may subscribe below its own machine's topic only.
    let password = device["password"].as_str().unwrap();
    let client_id = device["clientId"].as_str().unwrap();
    assert_eq!(
        subscribe_to_end(
            &env,
            &[
                "--client-id",
                client_id,
                "--username",
                username,
                "--password",
                password,
                "-t",
                "factories/#"
            ]
        ),
        (
            Some(1),
            json!({ "received": 0, "done": true,
                    "error": "the broker refused the subscription to factories/#" })
        )
    );
}
