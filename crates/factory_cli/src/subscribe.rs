//! `subscribe`: one MQTT subscriber, the way an HMI or historian attaches to the broker. It acknowledges
//! every message (QoS 1 by default), counts what arrives and prints one JSON line once subscribed and
//! then one per report interval, `{"received":N,"per_s":R}`, and a last one with `"done":true` when it stops (SIGINT, SIGTERM,
//! `--duration-s`, `--count`, or the broker closing the connection, which also sets `"error"`).
//!
//! It speaks MQTT 3.1.1 itself rather than through an MQTT client library: it answers every packet of a
//! socket read in one write. rumqttc flushes its PUBACKs every ten packets, so at a quarter of a million
//! messages a second the subscriber wrote ~26,000 times a second, each a loopback TCP segment the broker's
//! machine processed; with the ingest benchmark's subscriber on the broker's own two cores that was CPU
//! taken from ingestion.

use std::io::Write;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::signal::unix::{signal, SignalKind};

use crate::flood::plan::parse_mqtt_url;
use crate::mqtt_wire::{self, next_packet};
use crate::{CliError, QosArg, SubscribeArgs};

/// How long connecting and the CONNACK may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest packet accepted.
const MAX_PACKET_BYTES: usize = 256 * 1024 * 1024;

pub fn run(args: &SubscribeArgs) -> Result<(), CliError> {
    let (host, port) = parse_mqtt_url(&args.mqtt.mqtt_url)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(1, format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async {
        let mut counter = Counter::default();
        let result = subscribe(args, &host, port, &mut counter).await;
        let reason = match &result {
            Ok(()) => String::new(),
            Err(error) => error.message.clone(),
        };
        report(counter.received, counter.per_s_since_start(), Some(&reason));
        result
    })
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

#[derive(Default)]
struct Counter {
    received: u64,
    started: Option<Instant>,
}

impl Counter {
    fn per_s_since_start(&self) -> f64 {
        self.started
            .map_or(0.0, |at| self.received as f64 / at.elapsed().as_secs_f64())
    }
}

fn ended(reason: impl std::fmt::Display) -> CliError {
    CliError::new(1, format!("connection ended: {reason}"))
}

/// Reads from `stream` into `buffer[filled..]`, growing the buffer when a packet does not fit.
async fn read_more(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    filled: usize,
) -> Result<usize, CliError> {
    if filled == buffer.len() {
        if buffer.len() >= MAX_PACKET_BYTES {
            return Err(ended(format!(
                "a packet larger than {MAX_PACKET_BYTES} bytes"
            )));
        }
        buffer.resize(buffer.len() * 2, 0);
    }
    match stream.read(&mut buffer[filled..]).await {
        Ok(0) => Err(ended("the broker closed the connection")),
        Ok(n) => Ok(n),
        Err(e) => Err(ended(e)),
    }
}

/// Connects and waits for the broker's CONNACK; what follows it in the same read stays in `buffer`.
async fn connect(
    args: &SubscribeArgs,
    host: &str,
    port: u16,
    buffer: &mut Vec<u8>,
) -> Result<(TcpStream, usize), CliError> {
    let mut stream = TcpStream::connect((host, port))
        .await
        .map_err(|e| ended(format!("cannot connect to {host}:{port}: {e}")))?;
    let _ = stream.set_nodelay(true);
    let client_id = args
        .client_id
        .clone()
        .unwrap_or_else(|| format!("factory-cli-subscriber-{}", std::process::id()));
    let credentials = args.username.as_deref().zip(args.password.as_deref());
    let hello = mqtt_wire::connect(&client_id, credentials, args.keep_alive_s);
    stream.write_all(&hello).await.map_err(ended)?;
    let mut filled = 0;
    loop {
        if let Some((header, body_start, end)) =
            next_packet(&buffer[..filled]).map_err(|_| ended("malformed packet"))?
        {
            if header >> 4 != 2 || end - body_start != 2 {
                return Err(ended(format!(
                    "expected CONNACK, got packet type {}",
                    header >> 4
                )));
            }
            let code = buffer[body_start + 1];
            if code != 0 {
                return Err(CliError::new(
                    1,
                    format!(
                        "the broker refused the connection: {}",
                        mqtt_wire::connack_refusal(code)
                    ),
                ));
            }
            buffer.copy_within(end..filled, 0);
            return Ok((stream, filled - end));
        }
        filled += read_more(&mut stream, buffer, filled).await?;
    }
}

async fn subscribe(
    args: &SubscribeArgs,
    host: &str,
    port: u16,
    counter: &mut Counter,
) -> Result<(), CliError> {
    let mut buffer = vec![0u8; 256 * 1024];
    let (mut stream, read_with_connack) =
        tokio::time::timeout(CONNECT_TIMEOUT, connect(args, host, port, &mut buffer))
            .await
            .map_err(|_| {
                ended(format!(
                    "no CONNACK from {host}:{port} within {CONNECT_TIMEOUT:?}"
                ))
            })??;
    let qos = match args.qos {
        QosArg::AtMostOnce => 0,
        QosArg::AtLeastOnce => 1,
    };
    stream
        .write_all(&mqtt_wire::subscribe(1, &args.topic, qos))
        .await
        .map_err(ended)?;

    counter.started = Some(Instant::now());
    let stop_at = args
        .duration_s
        .map(|s| Instant::now() + Duration::from_secs_f64(s));
    let mut ticker = tokio::time::interval(Duration::from_millis(args.report_ms.max(10)));
    // Half the keep-alive: a PINGREQ still unanswered at the next one means the connection is gone.
    let ping_every = Duration::from_millis(u64::from(args.keep_alive_s) * 500);
    let mut pinger = tokio::time::interval_at(
        tokio::time::Instant::now() + ping_every,
        ping_every.max(Duration::from_millis(1)),
    );
    let mut ping_unanswered = false;
    let mut sigint = signal(SignalKind::interrupt())
        .map_err(|e| CliError::new(1, format!("cannot watch SIGINT: {e}")))?;
    let mut sigterm = signal(SignalKind::terminate())
        .map_err(|e| CliError::new(1, format!("cannot watch SIGTERM: {e}")))?;
    let (mut last_count, mut last_at) = (0u64, Instant::now());
    let mut subscribed = false;
    let mut replies: Vec<u8> = Vec::with_capacity(64 * 1024);
    // Bytes read with the CONNACK (at the buffer's start) are handled before the first read.
    let (mut filled, mut read) = (0usize, read_with_connack);
    loop {
        if read > 0 {
            filled += read;
            let mut offset = 0usize;
            while let Some((header, body_start, end)) =
                next_packet(&buffer[offset..filled]).map_err(|_| ended("malformed packet"))?
            {
                let body = &buffer[offset + body_start..offset + end];
                match header >> 4 {
                    3 => {
                        counter.received += 1;
                        // PUBACK, or PUBREC should a QoS 2 message arrive.
                        mqtt_wire::push_publish_answer(&mut replies, header, body);
                    }
                    // PUBREL → PUBCOMP.
                    6 if body.len() >= 2 => {
                        replies.extend_from_slice(&[0x70, 0x02, body[0], body[1]])
                    }
                    9 => {
                        if body.get(2..).is_some_and(|codes| codes.contains(&0x80)) {
                            return Err(CliError::new(
                                1,
                                format!("the broker refused the subscription to {}", args.topic),
                            ));
                        }
                        // The first line: the subscription is in place.
                        subscribed = true;
                        report(counter.received, 0.0, None);
                        (last_count, last_at) = (counter.received, Instant::now());
                    }
                    13 => ping_unanswered = false,
                    _ => {}
                }
                offset += end;
            }
            buffer.copy_within(offset..filled, 0);
            filled -= offset;
            // Every packet of the read answered in one write.
            if !replies.is_empty() {
                stream.write_all(&replies).await.map_err(ended)?;
                replies.clear();
            }
            if args.count.is_some_and(|n| counter.received >= n) {
                break;
            }
        }
        read = tokio::select! {
            read = read_more(&mut stream, &mut buffer, filled) => read?,
            _ = ticker.tick(), if subscribed => {
                report(counter.received, (counter.received - last_count) as f64 / last_at.elapsed().as_secs_f64(), None);
                (last_count, last_at) = (counter.received, Instant::now());
                if stop_at.is_some_and(|t| Instant::now() >= t) {
                    break;
                }
                0
            }
            _ = pinger.tick(), if args.keep_alive_s > 0 => {
                if ping_unanswered {
                    return Err(ended(format!("no PINGRESP within {ping_every:?}")));
                }
                ping_unanswered = true;
                stream.write_all(&mqtt_wire::PINGREQ).await.map_err(ended)?;
                0
            }
            _ = sigint.recv() => break,
            _ = sigterm.recv() => break,
        };
    }
    let _ = stream.write_all(&mqtt_wire::DISCONNECT).await;
    Ok(())
}
