//! One flood connection: a sender task that publishes on schedule (open loop) or whenever the
//! in-flight window has room, and the MQTT event loop that matches PUBACKs to send times.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hdrhistogram::Histogram;
use rumqttc::{AsyncClient, ConnectionError, Event, MqttOptions, Outgoing, Packet, QoS};
use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;

use super::payload;
use super::plan::{ConnectionPlan, Plan};
use crate::QosArg;

/// Counters shared by every connection, read by the progress bar.
#[derive(Default)]
pub struct LiveCounters {
    pub published: AtomicU64,
    pub acknowledged: AtomicU64,
    pub errors: AtomicU64,
    pub connected: AtomicU64,
}

/// What one connection did, merged into the flood report.
pub struct ConnectionOutcome {
    pub index: usize,
    pub published_messages: u64,
    pub acknowledged_messages: u64,
    /// Bit n set = message n was acknowledged (QoS 1).
    pub acknowledged_bits: Vec<u64>,
    pub latency_us: Histogram<u64>,
    pub errors: BTreeMap<String, u64>,
    pub connected: bool,
}

impl ConnectionOutcome {
    pub fn is_acknowledged(&self, seq: u64) -> bool {
        self.acknowledged_bits
            .get((seq / 64) as usize)
            .is_some_and(|word| word & (1 << (seq % 64)) != 0)
    }
}

/// State shared by the sender and the event loop of one connection.
struct Shared {
    /// Send times (intended, for open loop) of requests not yet written, in request order.
    queued: Mutex<VecDeque<(u64, Instant)>>,
    window: Semaphore,
    requested: AtomicU64,
    abort: AtomicBool,
}

pub async fn run(
    plan: Arc<Plan>,
    index: usize,
    start: Instant,
    end: Option<Instant>,
    drain_timeout: Duration,
    live: Arc<LiveCounters>,
) -> ConnectionOutcome {
    let connection = &plan.connections[index];
    tokio::time::sleep_until(start + connection.start_offset).await;
    let qos = match plan.qos {
        QosArg::AtMostOnce => QoS::AtMostOnce,
        QosArg::AtLeastOnce => QoS::AtLeastOnce,
    };
    let mut options = MqttOptions::new(connection.client_id.clone(), plan.host.clone(), plan.port);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_clean_session(true);
    options.set_inflight(plan.inflight);
    options.set_max_packet_size(256 * 1024 * 1024, 256 * 1024 * 1024);
    if let (Some(username), Some(password)) = (&connection.username, &connection.password) {
        options.set_credentials(username.clone(), password.clone());
    }
    let status_topic = connection
        .topic
        .strip_suffix("/telemetry")
        .map(|base| format!("{base}/status"));
    if let Some(topic) = &status_topic {
        options.set_last_will(rumqttc::LastWill::new(
            topic.clone(),
            "offline",
            QoS::AtLeastOnce,
            false,
        ));
    }
    let (client, mut eventloop) = AsyncClient::new(options, plan.inflight as usize * 2);
    let shared = Arc::new(Shared {
        queued: Mutex::new(VecDeque::new()),
        window: Semaphore::new(plan.inflight as usize),
        requested: AtomicU64::new(0),
        abort: AtomicBool::new(false),
    });
    let (done_tx, mut done_rx) = watch::channel(false);
    let (connected_tx, connected_rx) = watch::channel(false);
    let sender = tokio::spawn(send(
        plan.clone(),
        index,
        client.clone(),
        shared.clone(),
        end,
        qos,
        connected_rx,
        done_tx,
    ));

    let mut outcome = ConnectionOutcome {
        index,
        published_messages: 0,
        acknowledged_messages: 0,
        acknowledged_bits: Vec::new(),
        latency_us: Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("histogram bounds"),
        errors: BTreeMap::new(),
        connected: false,
    };
    let mut in_flight: HashMap<u16, (u64, Instant)> =
        HashMap::with_capacity(plan.inflight as usize);
    let mut lost = 0u64;
    let mut sender_done = false;
    let mut disconnecting = false;
    let mut drain_deadline: Option<Instant> = None;
    let mut failures_before_connect = 0u32;
    let count_error = |outcome: &mut ConnectionOutcome, kind: String| {
        live.errors.fetch_add(1, Ordering::Relaxed);
        *outcome.errors.entry(kind).or_insert(0) += 1;
    };

    loop {
        let far = Instant::now() + Duration::from_secs(86_400);
        let event = tokio::select! {
            event = eventloop.poll() => Some(event),
            changed = done_rx.changed(), if !sender_done => {
                if changed.is_err() || *done_rx.borrow() {
                    sender_done = true;
                    drain_deadline = Some(Instant::now() + drain_timeout);
                }
                None
            }
            _ = tokio::time::sleep_until(drain_deadline.unwrap_or(far)), if drain_deadline.is_some() => {
                let outstanding = in_flight.len() as u64 + shared.queued.lock().unwrap().len() as u64;
                if outstanding > 0 {
                    count_error(&mut outcome, "drain_timeout".into());
                }
                break;
            }
        };
        match event {
            None => {}
            Some(Ok(Event::Incoming(Packet::ConnAck(_)))) => {
                if !outcome.connected {
                    live.connected.fetch_add(1, Ordering::Relaxed);
                }
                outcome.connected = true;
                let _ = connected_tx.send(true);
            }
            Some(Ok(Event::Outgoing(Outgoing::Publish(pkid)))) => {
                if qos == QoS::AtLeastOnce && in_flight.contains_key(&pkid) {
                    continue; // a retransmission of a message already counted
                }
                let Some((seq, sent_at)) = shared.queued.lock().unwrap().pop_front() else {
                    continue;
                };
                outcome.published_messages += 1;
                live.published.fetch_add(1, Ordering::Relaxed);
                if qos == QoS::AtLeastOnce {
                    in_flight.insert(pkid, (seq, sent_at));
                }
            }
            Some(Ok(Event::Incoming(Packet::PubAck(ack)))) => {
                if let Some((seq, sent_at)) = in_flight.remove(&ack.pkid) {
                    let micros = Instant::now()
                        .saturating_duration_since(sent_at)
                        .as_micros() as u64;
                    let _ = outcome.latency_us.record(micros.max(1));
                    outcome.acknowledged_messages += 1;
                    live.acknowledged.fetch_add(1, Ordering::Relaxed);
                    let word = (seq / 64) as usize;
                    if outcome.acknowledged_bits.len() <= word {
                        outcome.acknowledged_bits.resize(word + 1, 0);
                    }
                    outcome.acknowledged_bits[word] |= 1 << (seq % 64);
                    if plan.rate_per_connection.is_none() {
                        shared.window.add_permits(1);
                    }
                }
            }
            Some(Ok(Event::Outgoing(Outgoing::Disconnect))) => break,
            Some(Ok(_)) => {}
            Some(Err(error)) => {
                let kind = error_kind(&error);
                if !outcome.connected {
                    failures_before_connect += 1;
                }
                count_error(&mut outcome, kind);
                // A clean session drops unacknowledged messages: they count as published, never acknowledged.
                lost += in_flight.len() as u64;
                if plan.rate_per_connection.is_none() && qos == QoS::AtLeastOnce {
                    shared.window.add_permits(in_flight.len());
                }
                in_flight.clear();
                let refused = matches!(error, ConnectionError::ConnectionRefused(_));
                if sender_done || (refused && !outcome.connected) || failures_before_connect >= 5 {
                    shared.abort.store(true, Ordering::Relaxed);
                    shared.window.close();
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        if sender_done && !disconnecting {
            let requested = shared.requested.load(Ordering::Relaxed);
            let settled = match qos {
                QoS::AtLeastOnce => outcome.acknowledged_messages + lost >= requested,
                _ => outcome.published_messages >= requested,
            };
            if settled {
                disconnecting = true;
                if client.try_disconnect().is_err() {
                    break;
                }
            }
        }
    }
    shared.abort.store(true, Ordering::Relaxed);
    shared.window.close();
    drop(eventloop);
    drop(connected_tx);
    let _ = sender.await;
    outcome
}

#[allow(clippy::too_many_arguments)]
async fn send(
    plan: Arc<Plan>,
    index: usize,
    client: AsyncClient,
    shared: Arc<Shared>,
    end: Option<Instant>,
    qos: QoS,
    mut connected: watch::Receiver<bool>,
    done: watch::Sender<bool>,
) {
    let connection: &ConnectionPlan = &plan.connections[index];
    // Open-loop schedules start when the connection is up, so connecting is not counted as latency.
    if connected.wait_for(|up| *up).await.is_err() {
        let _ = done.send(true);
        return;
    }
    let first_send = Instant::now();
    let interval = plan
        .rate_per_connection
        .map(|rate| Duration::from_secs_f64(1.0 / rate));
    let mut buffer = Vec::with_capacity(256);
    let mut seq = 0u64;
    loop {
        if shared.abort.load(Ordering::Relaxed)
            || connection.messages.is_some_and(|limit| seq >= limit)
        {
            break;
        }
        let sent_at = match interval {
            Some(interval) => {
                let intended = first_send + interval.mul_f64(seq as f64);
                if end.is_some_and(|end| intended >= end) {
                    break;
                }
                if intended > Instant::now() {
                    tokio::time::sleep_until(intended).await;
                }
                intended
            }
            None => {
                if qos == QoS::AtLeastOnce {
                    match shared.window.acquire().await {
                        Ok(permit) => permit.forget(),
                        Err(_) => break,
                    }
                }
                let now = Instant::now();
                if end.is_some_and(|end| now >= end) {
                    break;
                }
                now
            }
        };
        payload::encode(
            &mut buffer,
            &connection.timeline,
            seq,
            plan.batch,
            &connection.sensor_keys,
        );
        shared.queued.lock().unwrap().push_back((seq, sent_at));
        if client
            .publish(connection.topic.clone(), qos, false, buffer.clone())
            .await
            .is_err()
        {
            shared.queued.lock().unwrap().pop_back();
            break;
        }
        seq += 1;
        shared.requested.store(seq, Ordering::Relaxed);
    }
    let _ = done.send(true);
}

fn error_kind(error: &ConnectionError) -> String {
    match error {
        ConnectionError::ConnectionRefused(code) => {
            format!("connack_{}", snake_case(&format!("{code:?}")))
        }
        ConnectionError::Io(e) => format!("io_{}", snake_case(&format!("{:?}", e.kind()))),
        ConnectionError::NetworkTimeout => "network_timeout".into(),
        ConnectionError::FlushTimeout => "flush_timeout".into(),
        ConnectionError::MqttState(e) => {
            let text = format!("{e:?}");
            format!(
                "mqtt_state_{}",
                text.split(['(', ' ', '{'])
                    .next()
                    .unwrap_or("other")
                    .to_lowercase()
            )
        }
        ConnectionError::NotConnAck(_) => "not_connack".into(),
        ConnectionError::RequestsDone => "requests_done".into(),
    }
}

/// `ConnectionRefused` → `connection_refused`, for stable error kinds in the report.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, ch) in name.chars().enumerate() {
        if ch.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(ch.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn error_kinds_are_snake_case() {
        assert_eq!(super::snake_case("ConnectionRefused"), "connection_refused");
        assert_eq!(super::snake_case("Io"), "io");
    }
}
