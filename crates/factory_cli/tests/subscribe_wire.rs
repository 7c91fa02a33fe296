//! `subscribe` against a scripted MQTT peer on a real TCP socket: what it sends, byte for byte, and how it
//! notices a broker that stopped answering.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

use factory_cli::mqtt_wire;
use serde_json::{json, Value};

fn read_exactly(stream: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    stream.read_exact(&mut bytes).unwrap();
    bytes
}

fn publish(qos: u8, id: u16, payload: &[u8]) -> Vec<u8> {
    let topic = b"factories/f/machines/m/telemetry";
    let mut body = [&(topic.len() as u16).to_be_bytes()[..], topic].concat();
    if qos > 0 {
        body.extend_from_slice(&id.to_be_bytes());
    }
    body.extend_from_slice(payload);
    let mut frame = vec![0x30 | (qos << 1)];
    mqtt_wire::push_remaining_length(&mut frame, body.len());
    [frame, body].concat()
}

#[test]
fn acknowledges_what_it_receives_and_gives_up_on_an_unanswered_ping() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("mqtt://{}", listener.local_addr().unwrap());
    let subscriber = Command::new(common::cli_path())
        .args(["subscribe", "--mqtt-url", &url, "--client-id", "historian"])
        .args([
            "--keep-alive-s",
            "2",
            "--report-ms",
            "50",
            "--duration-s",
            "8",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut broker, _) = listener.accept().unwrap();
    // A subscriber that never sends what is expected fails the test instead of hanging it.
    broker
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let connect = mqtt_wire::connect("historian", None, 2);
    assert_eq!(read_exactly(&mut broker, connect.len()), connect);
    broker.write_all(&[0x20, 0x02, 0x00, 0x00]).unwrap();
    let subscribe = mqtt_wire::subscribe(1, "factories/#", 1);
    assert_eq!(read_exactly(&mut broker, subscribe.len()), subscribe);
    // The SUBACK and four messages in one write; the second is QoS 0 and needs no PUBACK, the third is
    // larger than the subscriber's first read buffer.
    let big = vec![b'x'; 300 * 1024];
    let frames = [
        vec![0x90, 0x03, 0x00, 0x01, 0x01],
        publish(1, 7, b"{}"),
        publish(0, 0, b"{}"),
        publish(1, 8, &big),
        publish(1, 65535, b"{}"),
    ]
    .concat();
    broker.write_all(&frames).unwrap();
    assert_eq!(
        read_exactly(&mut broker, 12),
        [0x40, 0x02, 0x00, 0x07, 0x40, 0x02, 0x00, 0x08, 0x40, 0x02, 0xFF, 0xFF]
    );
    // Half the keep-alive later a PINGREQ, left unanswered: at the next one the connection counts as lost.
    assert_eq!(read_exactly(&mut broker, 2), mqtt_wire::PINGREQ);
    let output = subscriber.wait_with_output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut last: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    last.as_object_mut().unwrap().remove("per_s");
    assert_eq!(
        (output.status.code(), last),
        (
            Some(1),
            json!({ "received": 4, "done": true, "error": "connection ended: no PINGRESP within 1s" })
        )
    );
}
