//! `provision`: creates (or reuses) a factory, N machines with sensors, issues MQTT credentials for
//! each machine and writes them to a credentials file that `flood` and the simulators read.

use serde_json::{json, Value};

use crate::api::ApiClient;
use crate::credentials::{self, CredentialsFile, Device, Sensor, CURRENT_VERSION};
use crate::{CliError, ProvisionArgs};

/// Sensor resolution written for load-test sensors; the flood rounds its values to it.
const LOAD_SENSOR_RESOLUTION: f64 = 0.01;

pub fn run(args: &ProvisionArgs) -> Result<(), CliError> {
    let api = ApiClient::from_args(&args.api)?;
    let file = provision(&api, args, &mut |done, total| {
        if !args.json && done % 10 == 0 {
            eprintln!("provisioned {done}/{total} machines");
        }
    })?;
    credentials::write(&args.out, &file)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&file).expect("serialize")
        );
    } else {
        let sensors: usize = file.devices.iter().map(|d| d.sensors.len()).sum();
        println!(
            "wrote {} devices ({} sensors) of factory {} to {}",
            file.devices.len(),
            sensors,
            args.factory,
            args.out.display()
        );
    }
    Ok(())
}

/// Creates what is missing and rotates every machine's credentials (the password is shown only once).
pub fn provision(
    api: &ApiClient,
    args: &ProvisionArgs,
    on_progress: &mut dyn FnMut(u32, u32),
) -> Result<CredentialsFile, CliError> {
    let factory = find_or_create(
        api,
        "/api/v1/factories",
        "factories",
        &args.factory,
        json!({ "key": args.factory, "name": format!("Load test {}", args.factory) }),
    )?;
    let factory_id = id_of(&factory)?;
    let machines_path = format!("/api/v1/factories/{factory_id}/machines");
    let existing_machines = list(api, &machines_path, "machines")?;
    let mut devices = Vec::with_capacity(args.machines as usize);
    for i in 1..=args.machines {
        let machine_key = format!("{}{i:04}", args.machine_prefix);
        let machine = match existing_machines.iter().find(|m| m["key"] == machine_key.as_str()) {
            Some(machine) => machine.clone(),
            None => api.post(
                &machines_path,
                &json!({ "key": machine_key, "name": format!("Load machine {i}"), "autoRegisterSensors": false }),
            )?,
        };
        let machine_id = id_of(&machine)?;
        let sensors_path = format!("/api/v1/machines/{machine_id}/sensors");
        let existing_sensors = list(api, &sensors_path, "sensors")?;
        let mut sensors = Vec::with_capacity(args.sensors as usize);
        for j in 0..args.sensors {
            let key = format!("s{j}");
            let sensor = match existing_sensors.iter().find(|s| s["key"] == key.as_str()) {
                Some(sensor) => sensor.clone(),
                None => api.post(
                    &sensors_path,
                    &json!({ "key": key, "name": format!("Load sensor {j}"), "unit": "", "kind": "gauge",
                             "resolution": LOAD_SENSOR_RESOLUTION }),
                )?,
            };
            sensors.push(Sensor {
                id: Some(id_of(&sensor)?),
                key,
                unit: sensor["unit"].as_str().map(str::to_string),
                kind: sensor["kind"].as_str().map(str::to_string),
                resolution: sensor["resolution"].as_f64(),
                min_value: sensor["minValue"].as_f64(),
                max_value: sensor["maxValue"].as_f64(),
                expected_interval_ms: sensor["expectedIntervalMs"].as_u64(),
            });
        }
        let issued = api.post(
            &format!("/api/v1/machines/{machine_id}/credentials"),
            &json!({}),
        )?;
        let field = |name: &str| -> Result<String, CliError> {
            issued[name].as_str().map(str::to_string).ok_or_else(|| {
                CliError::new(1, format!("credentials answer has no {name}: {issued}"))
            })
        };
        let username = field("username")?;
        devices.push(Device {
            factory_id: Some(factory_id),
            factory_key: args.factory.clone(),
            machine_id: Some(machine_id),
            machine_key: machine_key.clone(),
            client_id: issued["clientId"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| username.clone()),
            username,
            password: field("password")?,
            topic: issued["topic"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| {
                    format!(
                        "factories/{}/machines/{machine_key}/telemetry",
                        args.factory
                    )
                }),
            sensors,
        });
        on_progress(i, args.machines);
    }
    Ok(CredentialsFile {
        version: CURRENT_VERSION,
        api_url: Some(api.base_url().to_string()),
        mqtt_url: Some(args.mqtt_url.clone()),
        devices,
    })
}

fn list(api: &ApiClient, path: &str, field: &str) -> Result<Vec<Value>, CliError> {
    let body = api.get(path)?;
    body[field]
        .as_array()
        .cloned()
        .ok_or_else(|| CliError::new(1, format!("GET {path} has no `{field}` array: {body}")))
}

fn find_or_create(
    api: &ApiClient,
    path: &str,
    field: &str,
    key: &str,
    body: Value,
) -> Result<Value, CliError> {
    if let Some(found) = list(api, path, field)?
        .into_iter()
        .find(|item| item["key"] == key)
    {
        return Ok(found);
    }
    Ok(api.post(path, &body)?)
}

fn id_of(value: &Value) -> Result<i64, CliError> {
    value["id"]
        .as_i64()
        .ok_or_else(|| CliError::new(1, format!("API object has no integer id: {value}")))
}
