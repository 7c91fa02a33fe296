//! `subscribe`: one MQTT subscriber, the way an HMI or historian attaches to the broker. It acknowledges
//! every message (QoS 1 by default), counts what arrives and prints one JSON line once subscribed and
//! then one per report interval, `{"received":N,"per_s":R}`, and a last one with `"done":true` when it stops (SIGINT, SIGTERM,
//! `--duration-s`, `--count`, or the broker closing the connection, which also sets `"error"`).

use std::io::Write;
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS, SubscribeReasonCode};

use crate::flood::plan::parse_mqtt_url;
use crate::{CliError, QosArg, SubscribeArgs};

pub fn run(args: &SubscribeArgs) -> Result<(), CliError> {
    let (host, port) = parse_mqtt_url(&args.mqtt.mqtt_url)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(1, format!("cannot start the runtime: {e}")))?;
    runtime.block_on(subscribe(args, host, port))
}

fn report(received: u64, per_s: f64, end: Option<&str>) {
    let mut line = serde_json::json!({ "received": received, "per_s": per_s.round() });
    if let Some(reason) = end {
        line["done"] = true.into();
        if !reason.is_empty() {
            line["error"] = reason.into();
        }
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

async fn subscribe(args: &SubscribeArgs, host: String, port: u16) -> Result<(), CliError> {
    let client_id = args
        .client_id
        .clone()
        .unwrap_or_else(|| format!("factory-cli-subscriber-{}", std::process::id()));
    let mut options = MqttOptions::new(client_id, host, port);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_clean_session(true);
    options.set_max_packet_size(256 * 1024 * 1024, 256 * 1024 * 1024);
    if let (Some(username), Some(password)) = (&args.username, &args.password) {
        options.set_credentials(username.clone(), password.clone());
    }
    let qos = match args.qos {
        QosArg::AtMostOnce => QoS::AtMostOnce,
        QosArg::AtLeastOnce => QoS::AtLeastOnce,
    };
    let (client, mut eventloop) = AsyncClient::new(options, 16);
    client
        .subscribe(args.topic.clone(), qos)
        .await
        .map_err(|e| CliError::new(1, format!("subscribe: {e}")))?;

    let started = Instant::now();
    let stop_at = args
        .duration_s
        .map(|s| started + Duration::from_secs_f64(s));
    let mut ticker = tokio::time::interval(Duration::from_millis(args.report_ms.max(10)));
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| CliError::new(1, format!("cannot watch SIGTERM: {e}")))?;
    let (mut received, mut last_count, mut last_at) = (0u64, 0u64, Instant::now());
    let mut subscribed = false;
    let per_s = |received: u64, since: u64, at: Instant| {
        (received - since) as f64 / at.elapsed().as_secs_f64()
    };
    loop {
        tokio::select! {
            event = eventloop.poll() => match event {
                Ok(Event::Incoming(Packet::Publish(_))) => {
                    received += 1;
                    if args.count.is_some_and(|n| received >= n) {
                        report(received, per_s(received, 0, started), Some(""));
                        return Ok(());
                    }
                }
                Ok(Event::Incoming(Packet::SubAck(ack))) => {
                    if ack.return_codes.iter().any(|c| matches!(c, SubscribeReasonCode::Failure)) {
                        return Err(CliError::new(1, format!("the broker refused the subscription to {}", args.topic)));
                    }
                    // The first line: the subscription is in place.
                    subscribed = true;
                    report(received, 0.0, None);
                    (last_count, last_at) = (received, Instant::now());
                }
                Ok(_) => {}
                Err(error) => {
                    let reason = format!("connection ended: {error}");
                    report(received, per_s(received, 0, started), Some(&reason));
                    return Err(CliError::new(1, reason));
                }
            },
            _ = ticker.tick(), if subscribed => {
                report(received, per_s(received, last_count, last_at), None);
                (last_count, last_at) = (received, Instant::now());
                if stop_at.is_some_and(|t| Instant::now() >= t) {
                    report(received, per_s(received, 0, started), Some(""));
                    return Ok(());
                }
            }
            _ = tokio::signal::ctrl_c() => break,
            _ = sigterm.recv() => break,
        }
    }
    report(received, per_s(received, 0, started), Some(""));
    Ok(())
}
