//! `sink`: a minimal MQTT 3.1.1/5 server that accepts every login, acknowledges every packet and
//! discards the payloads, so the generator's own ceiling can be measured without a real broker.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::mqtt_wire::{next_packet, push_publish_answer, push_remaining_length};
use crate::{CliError, SinkArgs};

#[derive(Default)]
pub struct SinkCounters {
    pub connections: AtomicU64,
    pub publishes: AtomicU64,
    pub bytes: AtomicU64,
}

pub fn run(args: &SinkArgs) -> Result<(), CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(1, format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async {
        let listener = TcpListener::bind(&args.listen).await.map_err(|e| {
            CliError::usage(format!("cannot listen on --listen {}: {e}", args.listen))
        })?;
        let address = listener
            .local_addr()
            .map_err(|e| CliError::new(1, e.to_string()))?;
        // Tests and scripts read the port from this first line.
        println!("listening on {address}");
        let _ = std::io::stdout().flush();
        let counters = Arc::new(SinkCounters::default());
        if args.stats {
            tokio::spawn(print_stats(counters.clone()));
        }
        tokio::select! {
            result = serve(listener, counters) => result,
            _ = tokio::signal::ctrl_c() => Ok(()),
        }
    })
}

/// Accepts connections until the listener fails.
pub async fn serve(listener: TcpListener, counters: Arc<SinkCounters>) -> Result<(), CliError> {
    loop {
        let (stream, _) = listener
            .accept()
            .await
            .map_err(|e| CliError::new(1, format!("accept: {e}")))?;
        let _ = stream.set_nodelay(true);
        counters.connections.fetch_add(1, Ordering::Relaxed);
        let counters = counters.clone();
        tokio::spawn(async move {
            // A client that breaks the protocol or hangs up only ends its own connection.
            let _ = handle(stream, &counters).await;
            counters.connections.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

async fn handle(mut stream: TcpStream, counters: &SinkCounters) -> std::io::Result<()> {
    let mut buffer = vec![0u8; 256 * 1024];
    let mut filled = 0usize;
    let mut replies = Vec::with_capacity(64 * 1024);
    let mut protocol_level = 4u8;
    loop {
        if filled == buffer.len() {
            buffer.resize(buffer.len() * 2, 0);
        }
        let read = stream.read(&mut buffer[filled..]).await?;
        if read == 0 {
            return Ok(());
        }
        counters.bytes.fetch_add(read as u64, Ordering::Relaxed);
        filled += read;
        let mut offset = 0usize;
        let mut publishes = 0u64;
        // A malformed length ends the connection, as [MQTT-4.8.0-1] asks of a server.
        while let Some((header, body_start, end)) =
            next_packet(&buffer[offset..filled]).map_err(|_| std::io::ErrorKind::InvalidData)?
        {
            let body = &buffer[offset + body_start..offset + end];
            match header >> 4 {
                1 => {
                    protocol_level = body.get(6).copied().unwrap_or(4);
                    if protocol_level >= 5 {
                        replies.extend_from_slice(&[0x20, 0x03, 0x00, 0x00, 0x00]);
                    } else {
                        replies.extend_from_slice(&[0x20, 0x02, 0x00, 0x00]);
                    }
                }
                3 => {
                    publishes += 1;
                    push_publish_answer(&mut replies, header, body);
                }
                6 if body.len() >= 2 => replies.extend_from_slice(&[0x70, 0x02, body[0], body[1]]),
                8 if body.len() >= 2 => {
                    let filters = count_subscribe_filters(body, protocol_level);
                    let length = 2 + filters + usize::from(protocol_level >= 5);
                    replies.push(0x90);
                    push_remaining_length(&mut replies, length);
                    replies.extend_from_slice(&body[..2]);
                    if protocol_level >= 5 {
                        replies.push(0);
                    }
                    replies.extend(std::iter::repeat_n(0u8, filters));
                }
                12 => replies.extend_from_slice(&[0xD0, 0x00]),
                14 => return Ok(()),
                _ => {}
            }
            offset += end;
        }
        if publishes > 0 {
            counters.publishes.fetch_add(publishes, Ordering::Relaxed);
        }
        buffer.copy_within(offset..filled, 0);
        filled -= offset;
        if !replies.is_empty() {
            stream.write_all(&replies).await?;
            replies.clear();
        }
    }
}

fn count_subscribe_filters(body: &[u8], protocol_level: u8) -> usize {
    let mut at = 2usize;
    if protocol_level >= 5 {
        at += 1 + *body.get(2).unwrap_or(&0) as usize;
    }
    let mut filters = 0usize;
    while at + 2 <= body.len() {
        let len = u16::from_be_bytes([body[at], body[at + 1]]) as usize;
        at += 2 + len + 1;
        filters += 1;
    }
    filters.max(1)
}

async fn print_stats(counters: Arc<SinkCounters>) {
    let mut last = (0u64, 0u64, Instant::now());
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let publishes = counters.publishes.load(Ordering::Relaxed);
        let bytes = counters.bytes.load(Ordering::Relaxed);
        let seconds = last.2.elapsed().as_secs_f64();
        eprintln!(
            "sink: {} connections, {:.0} msgs/s, {:.1} MB/s, {} msgs total",
            counters.connections.load(Ordering::Relaxed),
            (publishes - last.0) as f64 / seconds,
            (bytes - last.1) as f64 / seconds / 1e6,
            publishes
        );
        last = (publishes, bytes, Instant::now());
    }
}
