//! Turns the flood flags and the credentials file into a plan: one entry per connection with its
//! login, topic, sensors, share of the messages, start offset (ramp) and timestamp timeline.

use std::time::Duration;

use super::payload::Timeline;
use crate::credentials::{self, CredentialsFile};
use crate::{CliError, FloodArgs, QosArg};

const DEFAULT_DURATION_S: f64 = 10.0;
const DEFAULT_SHARED_SENSORS: u32 = 4;

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub host: String,
    pub port: u16,
    pub qos: QosArg,
    pub batch: u32,
    pub inflight: u16,
    /// Messages per second of each connection in open-loop mode; None = as fast as the window allows.
    pub rate_per_connection: Option<f64>,
    pub duration: Option<Duration>,
    pub connections: Vec<ConnectionPlan>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionPlan {
    pub index: usize,
    pub client_id: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub topic: String,
    pub machine_id: Option<i64>,
    pub sensor_keys: Vec<String>,
    pub sensor_ids: Vec<Option<i64>>,
    /// This connection's share of `--count`.
    pub messages: Option<u64>,
    pub start_offset: Duration,
    pub timeline: Timeline,
}

impl Plan {
    pub fn readings_per_message(&self, connection: &ConnectionPlan) -> u64 {
        self.batch as u64 * connection.sensor_keys.len() as u64
    }
}

/// Builds the plan. `ts_start_ms` is the first snapshot's timestamp (resolved by the caller).
pub fn build(args: &FloodArgs, ts_start_ms: i64) -> Result<Plan, CliError> {
    let (host, port) = parse_mqtt_url(&args.mqtt.mqtt_url)?;
    let file = args
        .credentials
        .as_deref()
        .map(credentials::read)
        .transpose()?;
    let connections = resolve_connections(args, file.as_ref())?;
    if connections == 0 {
        return Err(CliError::usage("--connections must be at least 1"));
    }
    if let Some(rate) = args.rate {
        if !(rate > 0.0 && rate.is_finite()) {
            return Err(CliError::usage(format!(
                "--rate must be a positive number of messages per second, got {rate}"
            )));
        }
    }
    let duration = match (args.duration_s, args.count) {
        (Some(s), _) if !(s > 0.0 && s.is_finite()) => {
            return Err(CliError::usage(format!(
                "--duration-s must be positive, got {s}"
            )));
        }
        (Some(s), _) => Some(Duration::from_secs_f64(s)),
        (None, Some(_)) => None,
        (None, None) => Some(Duration::from_secs_f64(DEFAULT_DURATION_S)),
    };
    if !(args.ramp_s >= 0.0 && args.ramp_s.is_finite()) {
        return Err(CliError::usage(format!(
            "--ramp-s must be zero or more, got {}",
            args.ramp_s
        )));
    }
    let mut plans = Vec::with_capacity(connections);
    for index in 0..connections {
        let messages = args.count.map(|count| {
            count / connections as u64 + u64::from((index as u64) < count % connections as u64)
        });
        let start_offset = Duration::from_secs_f64(args.ramp_s * index as f64 / connections as f64);
        let plan = match &file {
            Some(file) => {
                let device = &file.devices[index];
                let sensors = limit_sensors(device.sensors.len(), args.sensors)?;
                ConnectionPlan {
                    index,
                    client_id: device.client_id.clone(),
                    username: Some(device.username.clone()),
                    password: Some(device.password.clone()),
                    topic: device.topic.clone(),
                    machine_id: device.machine_id,
                    sensor_keys: device.sensors[..sensors]
                        .iter()
                        .map(|s| s.key.clone())
                        .collect(),
                    sensor_ids: device.sensors[..sensors].iter().map(|s| s.id).collect(),
                    messages,
                    start_offset,
                    timeline: Timeline {
                        ts_start_ms,
                        stride_ms: 1,
                        offset_ms: 0,
                    },
                }
            }
            None => {
                let sensors = args.sensors.unwrap_or(DEFAULT_SHARED_SENSORS);
                let base = args
                    .username
                    .clone()
                    .unwrap_or_else(|| "factory-cli".to_string());
                ConnectionPlan {
                    index,
                    // A broker that checks clientId = username accepts the single-connection case.
                    client_id: if connections == 1 {
                        base
                    } else {
                        format!("{base}-{index}")
                    },
                    username: args.username.clone(),
                    password: args.password.clone(),
                    topic: args.topic.clone(),
                    machine_id: None,
                    sensor_keys: (0..sensors).map(|k| format!("s{k}")).collect(),
                    sensor_ids: vec![None; sensors as usize],
                    messages,
                    start_offset,
                    // Every connection writes the same device's sensors: interleave their timestamps.
                    timeline: Timeline {
                        ts_start_ms,
                        stride_ms: connections as i64,
                        offset_ms: index as i64,
                    },
                }
            }
        };
        plans.push(plan);
    }
    Ok(Plan {
        host,
        port,
        qos: args.qos,
        batch: args.batch,
        inflight: args.inflight,
        rate_per_connection: args.rate.map(|rate| rate / connections as f64),
        duration,
        connections: plans,
    })
}

fn resolve_connections(
    args: &FloodArgs,
    file: Option<&CredentialsFile>,
) -> Result<usize, CliError> {
    match (file, args.connections) {
        (Some(file), Some(n)) if n > file.devices.len() => Err(CliError::usage(format!(
            "--connections {n} exceeds the {} devices in the credentials file (each connection is one device)",
            file.devices.len()
        ))),
        (Some(_), Some(n)) => Ok(n),
        (Some(file), None) => Ok(file.devices.len()),
        (None, n) => Ok(n.unwrap_or(1)),
    }
}

fn limit_sensors(available: usize, wanted: Option<u32>) -> Result<usize, CliError> {
    match wanted {
        Some(n) if n as usize > available => Err(CliError::usage(format!(
            "--sensors {n} exceeds the {available} sensors of a device in the credentials file"
        ))),
        Some(n) => Ok(n as usize),
        None if available == 0 => Err(CliError::usage(
            "a device in the credentials file has no sensors",
        )),
        None => Ok(available),
    }
}

/// Parses `mqtt://host:port` (or `host:port`, or `tcp://`); the port defaults to 1883.
pub fn parse_mqtt_url(url: &str) -> Result<(String, u16), CliError> {
    let rest = url
        .strip_prefix("mqtt://")
        .or_else(|| url.strip_prefix("tcp://"))
        .unwrap_or(url);
    if rest.contains("://") {
        return Err(CliError::usage(format!(
            "--mqtt-url {url}: only mqtt:// (plain TCP) is supported"
        )));
    }
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (
            host,
            port.parse::<u16>()
                .map_err(|_| CliError::usage(format!("--mqtt-url {url}: bad port")))?,
        ),
        None => (rest, 1883),
    };
    if host.is_empty() {
        return Err(CliError::usage(format!("--mqtt-url {url}: no host")));
    }
    Ok((host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mqtt_urls() {
        assert_eq!(
            parse_mqtt_url("mqtt://127.0.0.1:1884").unwrap(),
            ("127.0.0.1".to_string(), 1884)
        );
        assert_eq!(
            parse_mqtt_url("localhost").unwrap(),
            ("localhost".to_string(), 1883)
        );
        assert_eq!(parse_mqtt_url("mqtts://x:1").unwrap_err().code, 2);
        assert_eq!(parse_mqtt_url("mqtt://x:port").unwrap_err().code, 2);
    }
}
