//! pcapng traces of SIP messages for Wireshark and tshark.
//!
//! Each message becomes a TCP segment between the real endpoints' addresses and ports, on a
//! synthetic IPv4 or IPv6 and TCP header (etherparse builds them, checksums included), in the
//! pcapng format (pcap-parser's serializer writes the blocks). The payload is the plaintext
//! SIP message, so a TLS leg is shown decrypted. One section; one interface per connection,
//! named for its two ends; link type RAW (an IP packet per block). Every connection opens with
//! a synthetic three-way handshake and its sequence numbers run on without gaps in each
//! direction, so Wireshark's TCP analysis finds no missing segment and its SIP dissector (and
//! Telephony > SIP Flows / Call Flow) reads every message.
//!
//! Pure: the trace is built in memory; writing it is the caller's.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use etherparse::PacketBuilder;
use pcap_parser::{
    EnhancedPacketBlock, InterfaceDescriptionBlock, Linktype, OptionCode, PcapNGOption,
    SectionHeaderBlock, ToVec,
};

/// pcapng's `if_name` and `if_description` interface options (RFC draft-ietf-opsawg-pcapng,
/// section 4.2).
const IF_NAME: OptionCode = OptionCode(2);
const IF_DESCRIPTION: OptionCode = OptionCode(3);

/// The largest payload one synthetic segment carries; longer messages span segments.
const SEGMENT: usize = 16 * 1024;

/// One SIP message (or other payload) sent from `src` to `dst`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<'a> {
    /// When it was sent, microseconds since the Unix epoch.
    pub at_unix_us: u64,
    /// The sender.
    pub src: SocketAddr,
    /// The receiver.
    pub dst: SocketAddr,
    /// The connection it belongs to (an index into [`Trace::connections`]).
    pub conn: usize,
    /// The payload.
    pub payload: &'a [u8],
    /// A packet comment (`captured at gw1`), shown by Wireshark.
    pub comment: Option<String>,
}

/// A trace: its connections (one interface each) and their packets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace<'a> {
    /// Interface name and description per connection, e.g. (`trunk 127.0.0.1:40000 <-> gw1
    /// 127.0.0.1:5061`, `TLS, decrypted`).
    pub connections: Vec<(String, String)>,
    /// The packets, any order (they are written in time order).
    pub packets: Vec<Packet<'a>>,
}

/// Why a trace could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PcapError {
    /// A block could not be serialized.
    #[error("pcapng block: {0}")]
    Block(String),
    /// A packet could not be built (a payload too large for its IP header).
    #[error("packet: {0}")]
    Packet(String),
    /// A packet names a connection the trace does not list.
    #[error("packet of connection {0}, which the trace does not list")]
    NoConnection(usize),
}

/// The sequence state of one connection.
struct Flow {
    client: SocketAddr,
    /// Next sequence number client -> server and server -> client.
    next: [u32; 2],
}

/// The trace as a pcapng file.
pub fn pcapng(trace: &Trace<'_>) -> Result<Vec<u8>, PcapError> {
    let mut out = Vec::new();
    let mut shb = SectionHeaderBlock {
        block_type: 0,
        block_len1: 0,
        bom: 0,
        major_version: 1,
        minor_version: 0,
        section_len: -1,
        options: vec![option(
            OptionCode::ShbUserAppl,
            format!("e911-harness {}", env!("CARGO_PKG_VERSION")).into_bytes(),
        )],
        block_len2: 0,
    };
    out.extend(
        shb.to_vec()
            .map_err(|e| PcapError::Block(format!("{e:?}")))?,
    );
    for (name, description) in &trace.connections {
        let mut idb = InterfaceDescriptionBlock {
            block_type: 0,
            block_len1: 0,
            linktype: Linktype::RAW,
            reserved: 0,
            snaplen: 0,
            options: vec![
                option(IF_NAME, name.clone().into_bytes()),
                option(IF_DESCRIPTION, description.clone().into_bytes()),
            ],
            block_len2: 0,
            if_tsresol: 6,
            if_tsoffset: 0,
        };
        out.extend(
            idb.to_vec()
                .map_err(|e| PcapError::Block(format!("{e:?}")))?,
        );
    }
    let mut packets: Vec<&Packet<'_>> = trace.packets.iter().collect();
    packets.sort_by_key(|p| p.at_unix_us);
    let mut flows: HashMap<usize, Flow> = HashMap::new();
    for p in packets {
        if p.conn >= trace.connections.len() {
            return Err(PcapError::NoConnection(p.conn));
        }
        let flow = match flows.get_mut(&p.conn) {
            Some(f) => f,
            None => {
                // The first sender opened the connection: a handshake just before it.
                let at = p.at_unix_us.saturating_sub(1);
                let (c, s) = (p.src, p.dst);
                block(
                    &mut out,
                    p.conn,
                    at,
                    &segment(c, s, 0, 0, Flags::Syn, &[])?,
                    None,
                )?;
                block(
                    &mut out,
                    p.conn,
                    at,
                    &segment(s, c, 0, 1, Flags::SynAck, &[])?,
                    None,
                )?;
                block(
                    &mut out,
                    p.conn,
                    at,
                    &segment(c, s, 1, 1, Flags::Ack, &[])?,
                    None,
                )?;
                flows.entry(p.conn).or_insert(Flow {
                    client: c,
                    next: [1, 1],
                })
            }
        };
        let dir = usize::from(p.src != flow.client);
        for (i, chunk) in p.payload.chunks(SEGMENT).enumerate() {
            let (seq, ack) = (flow.next[dir], flow.next[1 - dir]);
            let pkt = segment(p.src, p.dst, seq, ack, Flags::PshAck, chunk)?;
            let comment = if i == 0 { p.comment.as_deref() } else { None };
            block(&mut out, p.conn, p.at_unix_us, &pkt, comment)?;
            flow.next[dir] = seq.wrapping_add(chunk.len() as u32);
        }
    }
    Ok(out)
}

fn option(code: OptionCode, value: Vec<u8>) -> PcapNGOption<'static> {
    PcapNGOption {
        code,
        len: value.len() as u16,
        value: Cow::Owned(value),
    }
}

fn block(
    out: &mut Vec<u8>,
    conn: usize,
    at_unix_us: u64,
    data: &[u8],
    comment: Option<&str>,
) -> Result<(), PcapError> {
    let mut epb = EnhancedPacketBlock {
        block_type: 0,
        block_len1: 0,
        if_id: conn as u32,
        ts_high: (at_unix_us >> 32) as u32,
        ts_low: at_unix_us as u32,
        caplen: data.len() as u32,
        origlen: data.len() as u32,
        data,
        options: comment
            .map(|c| vec![option(OptionCode::Comment, c.as_bytes().to_vec())])
            .unwrap_or_default(),
        block_len2: 0,
    };
    out.extend(
        epb.to_vec()
            .map_err(|e| PcapError::Block(format!("{e:?}")))?,
    );
    Ok(())
}

#[derive(Clone, Copy)]
enum Flags {
    Syn,
    SynAck,
    Ack,
    PshAck,
}

/// One IP packet holding a TCP segment from `src` to `dst`.
fn segment(
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    ack: u32,
    flags: Flags,
    payload: &[u8],
) -> Result<Vec<u8>, PcapError> {
    let ip = match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => PacketBuilder::ipv4(s.octets(), d.octets(), 64),
        (s, d) => PacketBuilder::ipv6(v6(s).octets(), v6(d).octets(), 64),
    };
    let tcp = ip.tcp(src.port(), dst.port(), seq, u16::MAX);
    let tcp = match flags {
        Flags::Syn => tcp.syn(),
        Flags::SynAck => tcp.syn().ack(ack),
        Flags::Ack => tcp.ack(ack),
        Flags::PshAck => tcp.psh().ack(ack),
    };
    let mut out = Vec::with_capacity(tcp.size(payload.len()));
    tcp.write(&mut out, payload)
        .map_err(|e| PcapError::Packet(e.to_string()))?;
    Ok(out)
}

fn v6(ip: IpAddr) -> std::net::Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcap_parser::traits::{PcapNGPacketBlock, PcapReaderIterator};
    use pcap_parser::{Block, PcapBlockOwned, PcapError as ReadError, PcapNGReader};

    fn read(bytes: &[u8]) -> (Vec<String>, Vec<(u32, Vec<u8>)>) {
        let mut reader = PcapNGReader::new(1 << 16, bytes).unwrap();
        let (mut names, mut packets) = (Vec::new(), Vec::new());
        loop {
            match reader.next() {
                Ok((n, block)) => {
                    match block {
                        PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                            let name = idb.options.iter().find(|o| o.code == IF_NAME).unwrap();
                            names.push(
                                String::from_utf8_lossy(&name.value[..usize::from(name.len)])
                                    .into_owned(),
                            );
                        }
                        PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                            packets.push((epb.if_id, epb.packet_data().to_vec()));
                        }
                        _ => {}
                    }
                    reader.consume(n);
                }
                Err(ReadError::Eof) => break,
                Err(ReadError::Incomplete(_)) => reader.refill().unwrap(),
                Err(e) => panic!("{e:?}"),
            }
        }
        (names, packets)
    }

    #[test]
    fn a_connection_is_a_handshake_then_continuous_segments() {
        let (c, s): (SocketAddr, SocketAddr) = (
            "127.0.0.1:40000".parse().unwrap(),
            "127.0.0.1:5061".parse().unwrap(),
        );
        let trace = Trace {
            connections: vec![("trunk <-> gw1".into(), "TLS, decrypted".into())],
            packets: vec![
                Packet {
                    at_unix_us: 2,
                    src: s,
                    dst: c,
                    conn: 0,
                    payload: b"SIP/2.0 200 OK\r\n\r\n",
                    comment: None,
                },
                Packet {
                    at_unix_us: 1,
                    src: c,
                    dst: s,
                    conn: 0,
                    payload: b"INVITE sip:911@gw1 SIP/2.0\r\n\r\n",
                    comment: Some("captured at trunk".into()),
                },
            ],
        };
        let bytes = pcapng(&trace).unwrap();
        let (names, packets) = read(&bytes);
        assert_eq!(names, ["trunk <-> gw1"]);
        assert_eq!(packets.len(), 5, "SYN, SYN/ACK, ACK, INVITE, 200");
        let tcp = |p: &[u8]| {
            let s = etherparse::SlicedPacket::from_ip(p).unwrap();
            match s.transport {
                Some(etherparse::TransportSlice::Tcp(t)) => (
                    t.source_port(),
                    t.sequence_number(),
                    t.acknowledgment_number(),
                    t.syn(),
                    t.payload().to_vec(),
                ),
                _ => panic!("not tcp"),
            }
        };
        assert!(tcp(&packets[0].1).3, "a SYN first");
        let invite = tcp(&packets[3].1);
        assert_eq!((invite.0, invite.1, invite.2), (40000, 1, 1));
        assert!(invite.4.starts_with(b"INVITE"));
        let ok = tcp(&packets[4].1);
        assert_eq!(
            (ok.0, ok.1, ok.2),
            (5061, 1, 1 + 30),
            "acks the INVITE bytes"
        );
    }

    #[test]
    fn ipv6_and_long_messages_and_unknown_connections() {
        let (c, s): (SocketAddr, SocketAddr) = (
            "[::1]:40000".parse().unwrap(),
            "[::1]:5061".parse().unwrap(),
        );
        let body = vec![b'a'; SEGMENT + 10];
        let mut trace = Trace {
            connections: vec![("a".into(), "b".into())],
            packets: vec![Packet {
                at_unix_us: 1,
                src: c,
                dst: s,
                conn: 0,
                payload: &body,
                comment: None,
            }],
        };
        let (_, packets) = read(&pcapng(&trace).unwrap());
        assert_eq!(packets.len(), 3 + 2);
        assert_eq!(packets[3].1[0] >> 4, 6, "an IPv6 packet");
        trace.packets[0].conn = 3;
        assert!(matches!(pcapng(&trace), Err(PcapError::NoConnection(3))));
    }
}
