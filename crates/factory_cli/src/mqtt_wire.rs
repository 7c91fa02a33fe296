//! MQTT 3.1.1 framing shared by `sink` and `subscribe`, which read many packets per socket read and answer
//! them in one write: splitting a read into packets, and the few packets they send.

/// The remaining length field could not be read ([MQTT-2.2.3]: at most four bytes).
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed;

/// Splits the next complete packet off `data`: Ok(Some((first byte, body start, packet end))), or Ok(None)
/// when more bytes are needed.
pub fn next_packet(data: &[u8]) -> Result<Option<(u8, usize, usize)>, Malformed> {
    let Some(&header) = data.first() else {
        return Ok(None);
    };
    let mut length = 0usize;
    let mut multiplier = 1usize;
    for i in 1..=4 {
        let Some(&byte) = data.get(i) else {
            return Ok(None);
        };
        length += (byte & 0x7F) as usize * multiplier;
        if byte & 0x80 == 0 {
            let end = i + 1 + length;
            return Ok((data.len() >= end).then_some((header, i + 1, end)));
        }
        multiplier *= 128;
    }
    Err(Malformed)
}

pub fn push_remaining_length(out: &mut Vec<u8>, mut length: usize) {
    loop {
        let mut byte = (length % 128) as u8;
        length /= 128;
        if length > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if length == 0 {
            break;
        }
    }
}

/// A UTF-8 string or binary field: two length bytes, then the bytes.
fn push_field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![first];
    push_remaining_length(&mut out, body.len());
    out.extend_from_slice(body);
    out
}

/// CONNECT with a clean session.
pub fn connect(client_id: &str, credentials: Option<(&str, &str)>, keep_alive_s: u16) -> Vec<u8> {
    let mut body = Vec::new();
    push_field(&mut body, b"MQTT");
    body.push(4);
    body.push(0x02 | if credentials.is_some() { 0xC0 } else { 0 });
    body.extend_from_slice(&keep_alive_s.to_be_bytes());
    push_field(&mut body, client_id.as_bytes());
    if let Some((username, password)) = credentials {
        push_field(&mut body, username.as_bytes());
        push_field(&mut body, password.as_bytes());
    }
    packet(0x10, &body)
}

/// SUBSCRIBE to one filter.
pub fn subscribe(packet_id: u16, filter: &str, qos: u8) -> Vec<u8> {
    let mut body = packet_id.to_be_bytes().to_vec();
    push_field(&mut body, filter.as_bytes());
    body.push(qos);
    packet(0x82, &body)
}

pub const PINGREQ: [u8; 2] = [0xC0, 0x00];
pub const DISCONNECT: [u8; 2] = [0xE0, 0x00];

/// Why a broker refused a connection (CONNACK return codes 1–5 of MQTT 3.1.1).
pub fn connack_refusal(code: u8) -> String {
    match code {
        1 => "unacceptable protocol version".into(),
        2 => "client identifier rejected".into(),
        3 => "server unavailable".into(),
        4 => "bad user name or password".into(),
        5 => "not authorized".into(),
        other => format!("return code {other}"),
    }
}

/// The packet identifier a PUBLISH of QoS 1 or 2 carries after its topic.
fn publish_packet_id(body: &[u8]) -> Option<[u8; 2]> {
    let topic_len = u16::from_be_bytes([*body.first()?, *body.get(1)?]) as usize;
    let id = body.get(2 + topic_len..4 + topic_len)?;
    Some([id[0], id[1]])
}

/// Appends what a received PUBLISH asks for: nothing at QoS 0, a PUBACK at QoS 1, a PUBREC at QoS 2.
pub fn push_publish_answer(out: &mut Vec<u8>, first_byte: u8, body: &[u8]) {
    let qos = (first_byte >> 1) & 0x03;
    if let Some(id) = publish_packet_id(body).filter(|_| qos > 0) {
        out.extend_from_slice(&[if qos == 1 { 0x40 } else { 0x50 }, 0x02, id[0], id[1]]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_packets_and_waits_for_incomplete_ones() {
        let pingreq_then_partial_publish = [0xC0, 0x00, 0x32, 0x05, 0x00];
        assert_eq!(
            next_packet(&pingreq_then_partial_publish),
            Ok(Some((0xC0, 2, 2)))
        );
        assert_eq!(next_packet(&pingreq_then_partial_publish[2..]), Ok(None));
        let long = [vec![0x30, 0x80, 0x01], vec![0u8; 128]].concat();
        assert_eq!(next_packet(&long), Ok(Some((0x30, 3, 131))));
        assert_eq!(next_packet(&[0x30, 0x80]), Ok(None));
        assert_eq!(next_packet(&[]), Ok(None));
    }

    #[test]
    fn refuses_a_remaining_length_longer_than_four_bytes() {
        assert_eq!(
            next_packet(&[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
            Err(Malformed)
        );
    }

    #[test]
    fn encodes_remaining_length_as_varint() {
        let mut out = Vec::new();
        push_remaining_length(&mut out, 321);
        assert_eq!(out, vec![0xC1, 0x02]);
    }

    #[test]
    fn encodes_connect_with_and_without_credentials() {
        assert_eq!(
            connect("c", None, 30),
            vec![0x10, 13, 0, 4, b'M', b'Q', b'T', b'T', 4, 0x02, 0, 30, 0, 1, b'c']
        );
        assert_eq!(
            connect("c", Some(("u", "pw")), 30),
            [
                vec![0x10, 20, 0, 4, b'M', b'Q', b'T', b'T', 4, 0xC2, 0, 30, 0, 1, b'c'],
                vec![0, 1, b'u', 0, 2, b'p', b'w'],
            ]
            .concat()
        );
    }

    #[test]
    fn encodes_subscribe_and_reads_publish_ids() {
        assert_eq!(
            subscribe(1, "a/#", 1),
            vec![0x82, 8, 0, 1, 0, 3, b'a', b'/', b'#', 1]
        );
        assert_eq!(
            publish_packet_id(&[0, 1, b't', 0x12, 0x34, b'x']),
            Some([0x12, 0x34])
        );
        assert_eq!(publish_packet_id(&[0, 5, b't']), None);
        let mut out = Vec::new();
        for first_byte in [0x30, 0x32, 0x34] {
            push_publish_answer(&mut out, first_byte, &[0, 1, b't', 0x12, 0x34]);
        }
        assert_eq!(out, vec![0x40, 0x02, 0x12, 0x34, 0x50, 0x02, 0x12, 0x34]);
    }
}
