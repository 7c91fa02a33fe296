//! The proof after a flood: asks the HTTP API how many of the flood's readings were committed
//! (`/readings/count`) and which are queryable (`/sensors/{id}/readings`), per sensor over the flood's
//! time range, and names every acknowledged reading that is missing.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::connection::ConnectionOutcome;
use super::plan::Plan;
use crate::api::{query_string, ApiClient, ApiError};
use crate::QosArg;

/// Readings requested per page when listing what is queryable.
const PAGE_LIMIT: u32 = 5000;
/// Missing timestamps listed per sensor; the count is always complete.
const MISSING_LISTED: usize = 20;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Proof {
    /// `ok`: every acknowledged reading (QoS 1) or every published reading (QoS 0) is committed and
    /// queryable; `missing`: some are not (see `sensors`).
    pub status: &'static str,
    pub published: u64,
    pub acknowledged: u64,
    pub committed: u64,
    pub queryable: u64,
    pub missing_acknowledged: u64,
    /// Sensors whose counts differ, with the first missing timestamps.
    pub sensors: Vec<SensorProof>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SensorProof {
    pub machine_id: i64,
    pub sensor_id: i64,
    pub sensor_key: String,
    pub published: u64,
    pub acknowledged: u64,
    pub committed: u64,
    pub queryable: u64,
    pub missing_acknowledged: u64,
    pub missing_ts_ms: Vec<i64>,
}

impl Proof {
    pub fn is_ok(&self) -> bool {
        self.status == "ok"
    }

    pub fn to_text(&self) -> String {
        let mut out = format!(
            "proof          published {} = acknowledged {} = committed {} = queryable {} readings: {}\n",
            self.published,
            self.acknowledged,
            self.committed,
            self.queryable,
            if self.is_ok() { "OK" } else { "MISSING" }
        );
        for s in &self.sensors {
            out.push_str(&format!(
                "  machine {} sensor {} ({}): published {}, acknowledged {}, committed {}, queryable {}, {} acknowledged missing{}\n",
                s.machine_id,
                s.sensor_id,
                s.sensor_key,
                s.published,
                s.acknowledged,
                s.committed,
                s.queryable,
                s.missing_acknowledged,
                if s.missing_ts_ms.is_empty() { String::new() } else { format!(", first missing tsMs {:?}", s.missing_ts_ms) }
            ));
        }
        out
    }
}

/// Checks every connection whose device carries machine and sensor ids (a credentials file).
pub fn verify(
    api: &ApiClient,
    plan: &Plan,
    outcomes: &[ConnectionOutcome],
    settle_timeout: Duration,
) -> Result<Proof, ApiError> {
    let qos1 = plan.qos == QosArg::AtLeastOnce;
    let mut proof = Proof {
        status: "ok",
        published: 0,
        acknowledged: 0,
        committed: 0,
        queryable: 0,
        missing_acknowledged: 0,
        sensors: Vec::new(),
    };
    for outcome in outcomes {
        let connection = &plan.connections[outcome.index];
        let Some(machine_id) = connection.machine_id else {
            continue;
        };
        let batch = plan.batch as u64;
        let snapshots = outcome.published_messages * batch;
        if snapshots == 0 {
            continue;
        }
        let from_ms = connection.timeline.ts_of(0);
        let to_ms = connection.timeline.ts_of(snapshots - 1) + 1;
        // What must be there: acknowledged messages for QoS 1, everything published for QoS 0.
        let expected: Vec<i64> = (0..outcome.published_messages)
            .filter(|&seq| !qos1 || outcome.is_acknowledged(seq))
            .flat_map(|seq| (seq * batch..(seq + 1) * batch).map(|n| connection.timeline.ts_of(n)))
            .collect();
        for (key, sensor_id) in connection.sensor_keys.iter().zip(&connection.sensor_ids) {
            let Some(sensor_id) = *sensor_id else {
                continue;
            };
            let committed = settled_count(api, sensor_id, from_ms, to_ms, qos1, settle_timeout)?;
            let stored = list_timestamps(api, sensor_id, from_ms, to_ms)?;
            let missing: Vec<i64> = expected
                .iter()
                .copied()
                .filter(|ts| stored.binary_search(ts).is_err())
                .collect();
            let sensor = SensorProof {
                machine_id,
                sensor_id,
                sensor_key: key.clone(),
                published: snapshots,
                acknowledged: if qos1 {
                    outcome.acknowledged_messages * batch
                } else {
                    0
                },
                committed,
                queryable: stored.len() as u64,
                missing_acknowledged: if qos1 { missing.len() as u64 } else { 0 },
                missing_ts_ms: missing.iter().take(MISSING_LISTED).copied().collect(),
            };
            proof.published += sensor.published;
            proof.acknowledged += sensor.acknowledged;
            proof.committed += sensor.committed;
            proof.queryable += sensor.queryable;
            proof.missing_acknowledged += sensor.missing_acknowledged;
            let consistent = sensor.published == sensor.committed
                && sensor.committed == sensor.queryable
                && (!qos1 || sensor.acknowledged == sensor.published)
                && missing.is_empty();
            if !missing.is_empty() || (qos1 && sensor.committed < sensor.acknowledged) {
                proof.status = "missing";
            }
            if !qos1 && !missing.is_empty() {
                proof.status = "missing";
            }
            if !consistent {
                proof.sensors.push(sensor);
            }
        }
    }
    Ok(proof)
}

/// Counts committed readings. QoS 1 readings are committed before their PUBACK, so one answer is
/// final; QoS 0 readings may still be queued, so it asks until two answers agree.
fn settled_count(
    api: &ApiClient,
    sensor_id: i64,
    from_ms: i64,
    to_ms: i64,
    final_at_once: bool,
    timeout: Duration,
) -> Result<u64, ApiError> {
    let path = format!(
        "/api/v1/readings/count{}",
        query_string(&[
            ("sensorId", Some(sensor_id.to_string())),
            ("from", Some(from_ms.to_string())),
            ("to", Some(to_ms.to_string())),
        ])
    );
    let deadline = Instant::now() + timeout;
    let mut previous = count_of(&api.get(&path)?);
    while !final_at_once && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250));
        let next = count_of(&api.get(&path)?);
        if next == previous {
            break;
        }
        previous = next;
    }
    Ok(previous)
}

fn count_of(body: &serde_json::Value) -> u64 {
    body["count"].as_u64().unwrap_or(0)
}

/// Every stored timestamp of a sensor in [from, to), oldest first, paging by advancing `from`.
fn list_timestamps(
    api: &ApiClient,
    sensor_id: i64,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<i64>, ApiError> {
    let mut stored = Vec::new();
    let mut cursor_ms = from_ms;
    loop {
        let path = format!(
            "/api/v1/sensors/{sensor_id}/readings{}",
            query_string(&[
                ("from", Some(cursor_ms.to_string())),
                ("to", Some(to_ms.to_string())),
                ("limit", Some(PAGE_LIMIT.to_string())),
            ])
        );
        let body = api.get(&path)?;
        let page: Vec<i64> = body["readings"]
            .as_array()
            .map(|rows| rows.iter().filter_map(|r| r["tsMs"].as_i64()).collect())
            .unwrap_or_default();
        let Some(&last) = page.last() else { break };
        stored.extend(page);
        cursor_ms = last + 1;
        if cursor_ms >= to_ms {
            break;
        }
    }
    stored.sort_unstable();
    stored.dedup();
    Ok(stored)
}
