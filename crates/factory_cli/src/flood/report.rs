//! The flood report: rates, PUBACK latency percentiles, errors, generator CPU and the proof, printed
//! as text or as the JSON documented in docs/cli.md (`schema: "factory_cli.flood.v1"`).

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::verify::Proof;

pub const SCHEMA: &str = "factory_cli.flood.v1";

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub schema: &'static str,
    pub config: ReportConfig,
    pub elapsed_s: f64,
    pub connections: ConnectionCounts,
    pub messages: Counts,
    pub readings: Counts,
    pub latency_us: Option<Latency>,
    pub errors: BTreeMap<String, u64>,
    pub cpu: Cpu,
    pub ts_range_ms: Option<[i64; 2]>,
    pub verify: Option<Proof>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportConfig {
    pub mqtt_url: String,
    pub connections: usize,
    pub qos: u8,
    pub batch: u32,
    pub sensors_per_snapshot: usize,
    pub rate_per_s: Option<f64>,
    pub inflight: u16,
    pub duration_s: Option<f64>,
    pub count: Option<u64>,
    pub ramp_s: f64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionCounts {
    pub opened: usize,
    pub failed: usize,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub published: u64,
    pub acknowledged: u64,
    pub published_per_s: f64,
    pub acknowledged_per_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Latency {
    pub samples: u64,
    pub mean: f64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cpu {
    pub user_s: f64,
    pub system_s: f64,
    /// CPU time over wall time, in percent of one core (200 = two cores busy).
    pub percent_of_one_core: f64,
}

impl Latency {
    pub fn from_histogram(histogram: &Histogram<u64>) -> Option<Self> {
        if histogram.is_empty() {
            return None;
        }
        Some(Self {
            samples: histogram.len(),
            mean: (histogram.mean() * 10.0).round() / 10.0,
            p50: histogram.value_at_quantile(0.5),
            p90: histogram.value_at_quantile(0.9),
            p99: histogram.value_at_quantile(0.99),
            p999: histogram.value_at_quantile(0.999),
            max: histogram.max(),
        })
    }
}

impl Report {
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let c = &self.config;
        out.push_str(&format!(
            "flood {} over {} connections ({} opened, {} failed), QoS {}, {} snapshot(s) x {} sensor(s) per message\n",
            c.mqtt_url, c.connections, self.connections.opened, self.connections.failed, c.qos, c.batch, c.sensors_per_snapshot
        ));
        out.push_str(&format!("elapsed        {:.2} s\n", self.elapsed_s));
        for (name, counts) in [("messages", &self.messages), ("readings", &self.readings)] {
            out.push_str(&format!(
                "{name:<14} {} published ({:.0}/s), {} acknowledged ({:.0}/s)\n",
                counts.published,
                counts.published_per_s,
                counts.acknowledged,
                counts.acknowledged_per_s
            ));
        }
        match &self.latency_us {
            Some(l) => out.push_str(&format!(
                "PUBACK latency p50 {} µs, p90 {} µs, p99 {} µs, p99.9 {} µs, max {} µs ({} samples)\n",
                l.p50, l.p90, l.p99, l.p999, l.max, l.samples
            )),
            None => out.push_str("PUBACK latency none (QoS 0 or nothing acknowledged)\n"),
        }
        if self.errors.is_empty() {
            out.push_str("errors         none\n");
        } else {
            let list: Vec<String> = self
                .errors
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            out.push_str(&format!("errors         {}\n", list.join(", ")));
        }
        out.push_str(&format!(
            "generator CPU  {:.2} s user, {:.2} s system ({:.0}% of one core)\n",
            self.cpu.user_s, self.cpu.system_s, self.cpu.percent_of_one_core
        ));
        if let Some(proof) = &self.verify {
            out.push_str(&proof.to_text());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_percentiles_come_from_the_histogram() {
        let mut histogram = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
        for micros in 1..=1000u64 {
            histogram.record(micros).unwrap();
        }
        assert_eq!(
            Latency::from_histogram(&histogram),
            Some(Latency {
                samples: 1000,
                mean: 500.5,
                p50: 500,
                p90: 900,
                p99: 990,
                p999: 999,
                max: 1000
            })
        );
        assert_eq!(
            Latency::from_histogram(&Histogram::<u64>::new(3).unwrap()),
            None
        );
    }
}
