//! The credentials file shared by `provision`, `flood` and the TypeScript simulators: one entry per
//! device (machine) with its MQTT login, topic and sensors. Schema in docs/cli.md.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::CliError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialsFile {
    pub version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mqtt_url: Option<String>,
    pub devices: Vec<Device>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    #[serde(default)]
    pub factory_id: Option<i64>,
    pub factory_key: String,
    #[serde(default)]
    pub machine_id: Option<i64>,
    pub machine_key: String,
    pub client_id: String,
    pub username: String,
    pub password: String,
    pub topic: String,
    pub sensors: Vec<Sensor>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sensor {
    #[serde(default)]
    pub id: Option<i64>,
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_interval_ms: Option<u64>,
}

pub const CURRENT_VERSION: u32 = 1;

pub fn read(path: &Path) -> Result<CredentialsFile, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::usage(format!("cannot read --credentials {}: {e}", path.display()))
    })?;
    let file: CredentialsFile = serde_json::from_str(&text).map_err(|e| {
        CliError::usage(format!(
            "--credentials {} is not a credentials file: {e}",
            path.display()
        ))
    })?;
    if file.version != CURRENT_VERSION {
        return Err(CliError::usage(format!(
            "--credentials {} has version {}, this tool reads version {CURRENT_VERSION}",
            path.display(),
            file.version
        )));
    }
    if file.devices.is_empty() {
        return Err(CliError::usage(format!(
            "--credentials {} lists no devices",
            path.display()
        )));
    }
    Ok(file)
}

pub fn write(path: &Path, file: &CredentialsFile) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(file).expect("credentials serialize");
    std::fs::write(path, text + "\n")
        .map_err(|e| CliError::new(1, format!("cannot write {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json_with_camel_case_fields() {
        let file = CredentialsFile {
            version: 1,
            api_url: Some("http://127.0.0.1:3000".into()),
            mqtt_url: None,
            devices: vec![Device {
                factory_id: Some(1),
                factory_key: "load".into(),
                machine_id: Some(7),
                machine_key: "m0001".into(),
                client_id: "c".into(),
                username: "c".into(),
                password: "p".into(),
                topic: "factories/load/machines/m0001/telemetry".into(),
                sensors: vec![Sensor {
                    id: Some(3),
                    key: "s0".into(),
                    unit: None,
                    kind: None,
                    resolution: Some(0.1),
                    min_value: None,
                    max_value: None,
                    expected_interval_ms: None,
                }],
            }],
        };
        let json = serde_json::to_value(&file).unwrap();
        assert_eq!(json["devices"][0]["machineKey"], "m0001");
        assert_eq!(
            json["devices"][0]["sensors"][0],
            serde_json::json!({"id": 3, "key": "s0", "resolution": 0.1})
        );
        let back: CredentialsFile = serde_json::from_value(json).unwrap();
        assert_eq!(back, file);
    }
}
