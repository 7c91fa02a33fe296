//! `flood`: plans the connections, runs them on a tokio runtime with a progress bar, reports rates
//! and latency, then proves through the API that what was acknowledged was committed.

pub mod connection;
pub mod payload;
pub mod plan;
pub mod report;
pub mod verify;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use crate::api::ApiClient;
use crate::rusage::CpuTime;
use crate::{credentials, CliError, FloodArgs, QosArg};
use connection::{ConnectionOutcome, LiveCounters};
use plan::Plan;
use report::{ConnectionCounts, Counts, Cpu, Latency, Report, ReportConfig};

/// Messages shown per connection by `--dry-run`.
const DRY_RUN_MESSAGES: u64 = 2;
/// Connections shown by `--dry-run`.
const DRY_RUN_CONNECTIONS: usize = 3;

pub fn run(args: &FloodArgs) -> Result<(), CliError> {
    let verifying = !args.no_verify && !args.dry_run && args.credentials.is_some();
    let api = if verifying {
        Some(ApiClient::from_args(&args.api)?)
    } else {
        None
    };
    let ts_start_ms = match args.ts_start_ms {
        Some(ts) => ts,
        None => default_ts_start(args, api.as_ref())?,
    };
    let plan = plan::build(args, ts_start_ms)?;
    if args.dry_run {
        print!("{}", dry_run(&plan, args.json));
        return Ok(());
    }
    let report = execute(Arc::new(plan), args, api.as_ref())?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("report serializes")
        );
    } else {
        print!("{}", report.to_text());
        if args.credentials.is_none() && !args.no_verify {
            println!("proof          skipped: a shared device has no sensor ids (flood with --credentials to verify)");
        }
    }
    if report.connections.opened == 0 {
        return Err(CliError::new(1, "no connection could be opened"));
    }
    match &report.verify {
        Some(proof) if !proof.is_ok() => Err(CliError::new(
            1,
            format!(
                "{} acknowledged readings are missing from the API",
                proof.missing_acknowledged
            ),
        )),
        _ => Ok(()),
    }
}

/// How far before now the flood's timeline starts. Each connection writes one snapshot per
/// millisecond of timeline, so it can send this many snapshots before its timestamps pass now (the
/// server rejects readings more than its future tolerance ahead, 5 minutes by default, and readings
/// older than its backfill window, 7 days by default).
const TIMELINE_LEAD_MS: i64 = 3_600_000;

/// An hour ago, or just after the newest stored reading of the flood's machines, so a repeated flood
/// never lands on timestamps of an earlier one.
fn default_ts_start(args: &FloodArgs, api: Option<&ApiClient>) -> Result<i64, CliError> {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let start_ms = now_ms - TIMELINE_LEAD_MS;
    let (Some(api), Some(path)) = (api, &args.credentials) else {
        return Ok(start_ms);
    };
    let file = credentials::read(path)?;
    let connections = args
        .connections
        .unwrap_or(file.devices.len())
        .min(file.devices.len());
    let mut start = start_ms;
    for device in &file.devices[..connections] {
        let Some(machine_id) = device.machine_id else {
            continue;
        };
        let latest = api.get(&format!("/api/v1/machines/{machine_id}/latest"))?;
        for reading in latest["readings"].as_array().into_iter().flatten() {
            if let Some(ts) = reading["tsMs"].as_i64() {
                start = start.max(ts + 1);
            }
        }
    }
    Ok(start)
}

/// What would be sent: the plan and the first messages of the first connections.
pub fn dry_run(plan: &Plan, as_json: bool) -> String {
    let shown: Vec<serde_json::Value> = plan
        .connections
        .iter()
        .take(DRY_RUN_CONNECTIONS)
        .map(|c| {
            let messages: Vec<serde_json::Value> = (0..DRY_RUN_MESSAGES
                .min(c.messages.unwrap_or(u64::MAX)))
                .map(|seq| {
                    let mut buffer = Vec::new();
                    payload::encode(&mut buffer, &c.timeline, seq, plan.batch, &c.sensor_keys);
                    json!({ "topic": c.topic, "payload": String::from_utf8_lossy(&buffer) })
                })
                .collect();
            json!({
                "index": c.index,
                "clientId": c.client_id,
                "username": c.username,
                "topic": c.topic,
                "messages": c.messages,
                "startOffsetMs": c.start_offset.as_millis() as u64,
                "first": messages,
            })
        })
        .collect();
    let summary = json!({
        "dryRun": true,
        "broker": format!("{}:{}", plan.host, plan.port),
        "connections": plan.connections.len(),
        "qos": qos_number(plan.qos),
        "batch": plan.batch,
        "inflight": plan.inflight,
        "ratePerConnection": plan.rate_per_connection,
        "durationS": plan.duration.map(|d| d.as_secs_f64()),
        "shown": shown,
    });
    if as_json {
        return format!(
            "{}\n",
            serde_json::to_string_pretty(&summary).expect("serialize")
        );
    }
    let mut out = format!(
        "dry run: would open {} connection(s) to {}:{}, QoS {}, {} snapshot(s) per message, {}, {}\n",
        plan.connections.len(),
        plan.host,
        plan.port,
        qos_number(plan.qos),
        plan.batch,
        match plan.rate_per_connection {
            Some(rate) => format!("{:.1} msgs/s per connection (open loop)", rate),
            None => format!("as fast as {} in flight per connection allow", plan.inflight),
        },
        match (plan.duration, plan.connections.iter().filter_map(|c| c.messages).sum::<u64>()) {
            (Some(d), _) => format!("for {:.1} s", d.as_secs_f64()),
            (None, total) => format!("{total} messages in total"),
        }
    );
    for c in plan.connections.iter().take(DRY_RUN_CONNECTIONS) {
        out.push_str(&format!(
            "connection {} client {} topic {}\n",
            c.index, c.client_id, c.topic
        ));
        for seq in 0..DRY_RUN_MESSAGES.min(c.messages.unwrap_or(u64::MAX)) {
            let mut buffer = Vec::new();
            payload::encode(&mut buffer, &c.timeline, seq, plan.batch, &c.sensor_keys);
            out.push_str(&format!("  {}\n", String::from_utf8_lossy(&buffer)));
        }
    }
    out
}

fn qos_number(qos: QosArg) -> u8 {
    match qos {
        QosArg::AtMostOnce => 0,
        QosArg::AtLeastOnce => 1,
    }
}

fn execute(plan: Arc<Plan>, args: &FloodArgs, api: Option<&ApiClient>) -> Result<Report, CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(1, format!("cannot start the runtime: {e}")))?;
    let live = Arc::new(LiveCounters::default());
    let cpu_before = CpuTime::now();
    let wall = std::time::Instant::now();
    let total_messages: Option<u64> = args.count;
    let outcomes: Vec<ConnectionOutcome> = runtime.block_on(async {
        let start = tokio::time::Instant::now();
        let end = plan.duration.map(|d| start + d);
        let drain = Duration::from_secs_f64(args.drain_timeout_s.max(0.0));
        let progress = spawn_progress(live.clone(), total_messages, plan.duration, args.quiet);
        let tasks: Vec<_> = (0..plan.connections.len())
            .map(|i| {
                tokio::spawn(connection::run(
                    plan.clone(),
                    i,
                    start,
                    end,
                    drain,
                    live.clone(),
                ))
            })
            .collect();
        let mut outcomes = Vec::with_capacity(tasks.len());
        for task in tasks {
            outcomes.push(task.await.expect("connection task panicked"));
        }
        progress.abort();
        outcomes
    });
    let elapsed_s = wall.elapsed().as_secs_f64();
    let cpu = CpuTime::now().since(&cpu_before);
    let mut report = summarize(&plan, args, &outcomes, elapsed_s, cpu);
    if let Some(api) = api {
        let proof = verify::verify(
            api,
            &plan,
            &outcomes,
            Duration::from_secs_f64(args.verify_timeout_s.max(0.0)),
        )
        .map_err(|e| CliError::new(1, format!("proof failed, the API did not answer: {e}")))?;
        report.verify = Some(proof);
    }
    Ok(report)
}

fn spawn_progress(
    live: Arc<LiveCounters>,
    total_messages: Option<u64>,
    duration: Option<Duration>,
    quiet: bool,
) -> tokio::task::JoinHandle<()> {
    // indicatif hides a stderr bar by itself when stderr is not a terminal.
    let target = if quiet {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let (bar, by_count) = match (total_messages, duration) {
        (Some(total), _) => (ProgressBar::with_draw_target(Some(total), target), true),
        (None, Some(d)) => (
            ProgressBar::with_draw_target(Some(d.as_millis() as u64), target),
            false,
        ),
        (None, None) => (ProgressBar::with_draw_target(None, target), false),
    };
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {percent:>3}% {msg}")
            .expect("progress template")
            .progress_chars("=> "),
    );
    tokio::spawn(async move {
        let started = tokio::time::Instant::now();
        let mut ticker = tokio::time::interval(Duration::from_millis(250));
        let mut last = (0u64, 0u64, started);
        loop {
            ticker.tick().await;
            let published = live.published.load(Ordering::Relaxed);
            let acknowledged = live.acknowledged.load(Ordering::Relaxed);
            let now = tokio::time::Instant::now();
            let seconds = now.duration_since(last.2).as_secs_f64().max(1e-3);
            bar.set_message(format!(
                "{} conn, {} pub ({:.0}/s), {} ack ({:.0}/s), {} err",
                live.connected.load(Ordering::Relaxed),
                published,
                (published - last.0) as f64 / seconds,
                acknowledged,
                (acknowledged - last.1) as f64 / seconds,
                live.errors.load(Ordering::Relaxed)
            ));
            bar.set_position(if by_count {
                published
            } else {
                now.duration_since(started).as_millis() as u64
            });
            last = (published, acknowledged, now);
        }
    })
}

fn summarize(
    plan: &Plan,
    args: &FloodArgs,
    outcomes: &[ConnectionOutcome],
    elapsed_s: f64,
    cpu: CpuTime,
) -> Report {
    let mut histogram =
        Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).expect("histogram bounds");
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    let (mut messages_published, mut messages_acknowledged) = (0u64, 0u64);
    let (mut readings_published, mut readings_acknowledged) = (0u64, 0u64);
    let mut ts_range: Option<[i64; 2]> = None;
    for outcome in outcomes {
        let connection = &plan.connections[outcome.index];
        let per_message = plan.readings_per_message(connection);
        histogram
            .add(&outcome.latency_us)
            .expect("histograms share bounds");
        for (kind, count) in &outcome.errors {
            *errors.entry(kind.clone()).or_insert(0) += count;
        }
        messages_published += outcome.published_messages;
        messages_acknowledged += outcome.acknowledged_messages;
        readings_published += outcome.published_messages * per_message;
        readings_acknowledged += outcome.acknowledged_messages * per_message;
        if outcome.published_messages > 0 {
            let first = connection.timeline.ts_of(0);
            let last = connection
                .timeline
                .ts_of(outcome.published_messages * plan.batch as u64 - 1);
            ts_range = Some(match ts_range {
                Some([a, b]) => [a.min(first), b.max(last)],
                None => [first, last],
            });
        }
    }
    let per_s = |n: u64| {
        if elapsed_s > 0.0 {
            (n as f64 / elapsed_s).round()
        } else {
            0.0
        }
    };
    let opened = outcomes.iter().filter(|o| o.connected).count();
    Report {
        schema: report::SCHEMA,
        config: ReportConfig {
            mqtt_url: args.mqtt.mqtt_url.clone(),
            connections: plan.connections.len(),
            qos: qos_number(plan.qos),
            batch: plan.batch,
            sensors_per_snapshot: plan.connections.first().map_or(0, |c| c.sensor_keys.len()),
            rate_per_s: args.rate,
            inflight: plan.inflight,
            duration_s: plan.duration.map(|d| d.as_secs_f64()),
            count: args.count,
            ramp_s: args.ramp_s,
        },
        elapsed_s: (elapsed_s * 1000.0).round() / 1000.0,
        connections: ConnectionCounts {
            opened,
            failed: outcomes.len() - opened,
        },
        messages: Counts {
            published: messages_published,
            acknowledged: messages_acknowledged,
            published_per_s: per_s(messages_published),
            acknowledged_per_s: per_s(messages_acknowledged),
        },
        readings: Counts {
            published: readings_published,
            acknowledged: readings_acknowledged,
            published_per_s: per_s(readings_published),
            acknowledged_per_s: per_s(readings_acknowledged),
        },
        latency_us: Latency::from_histogram(&histogram),
        errors,
        cpu: Cpu {
            user_s: (cpu.user.as_secs_f64() * 1000.0).round() / 1000.0,
            system_s: (cpu.system.as_secs_f64() * 1000.0).round() / 1000.0,
            percent_of_one_core: if elapsed_s > 0.0 {
                (cpu.total().as_secs_f64() / elapsed_s * 1000.0).round() / 10.0
            } else {
                0.0
            },
        },
        ts_range_ms: ts_range,
        verify: None,
    }
}
