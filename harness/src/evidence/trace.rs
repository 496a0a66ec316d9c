//! Captured messages ([`sip::transport::capture::Record`]) as the report's SIP ladders and as
//! a pcapng trace.
//!
//! Each record is seen from its capture point (`trunk`, `gw1`, `gw2`); its other end is named
//! by address: a gateway's listening address is that gateway, an address the trunk's own
//! connections used is the trunk, anything else is the first hop in front of the gateways (the
//! system under test, or an external target). A connection between the trunk and an embedded
//! gateway is captured at both ends: the two records of one message are paired (the n-th
//! message in one direction of one connection) into one [`TraceMessage`] with both times, and
//! the pcapng trace shows the connection once, as the trunk saw it.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use reports::TraceMessage;
use reports::pcap::{Packet, Trace};
use sip::transport::TransportKind;
use sip::transport::capture::{Direction, Record};

/// The capture point name of the harness's own connections.
pub const TRUNK: &str = "trunk";

/// Who is who, by address.
#[derive(Debug, Clone, Default)]
pub struct Lanes {
    /// The embedded gateways' listening addresses and names.
    pub gateways: Vec<(SocketAddr, String)>,
    /// The name of an end that is neither the trunk nor a gateway: `sut`, `target`, or, for a
    /// standalone gateway, `originator`.
    pub other: String,
}

impl Lanes {
    fn name(&self, addr: SocketAddr, trunk_addrs: &HashSet<SocketAddr>) -> String {
        if let Some((_, n)) = self.gateways.iter().find(|(a, _)| *a == addr) {
            return n.clone();
        }
        if trunk_addrs.contains(&addr) {
            return TRUNK.to_owned();
        }
        self.other.clone()
    }
}

/// The records as ladder messages in time order, each message once.
pub fn messages(records: &[Record], lanes: &Lanes) -> Vec<TraceMessage> {
    let trunk_addrs: HashSet<SocketAddr> = records
        .iter()
        .filter(|r| &*r.point == TRUNK)
        .map(|r| r.local)
        .collect();
    // The n-th message of each (point, connection, direction), keyed by its flow and n.
    let mut nth: HashMap<(&str, u64, Direction), usize> = HashMap::new();
    let mut by_flow: HashMap<(SocketAddr, SocketAddr, usize), usize> = HashMap::new();
    let mut out: Vec<TraceMessage> = Vec::with_capacity(records.len());
    for r in records {
        let n = nth.entry((&r.point, r.conn, r.direction)).or_insert(0);
        *n += 1;
        let (src, dst) = r.endpoints();
        if let Some(&i) = by_flow.get(&(src, dst, *n)) {
            let m: &mut TraceMessage = &mut out[i];
            match r.direction {
                Direction::Sent => {
                    m.received_at_us = Some(m.at_us);
                    m.at_us = r.at_us;
                }
                Direction::Received => m.received_at_us = Some(r.at_us),
            }
            continue;
        }
        by_flow.insert((src, dst, *n), out.len());
        out.push(TraceMessage {
            at_us: r.at_us,
            received_at_us: None,
            from: lanes.name(src, &trunk_addrs),
            to: lanes.name(dst, &trunk_addrs),
            src: src.to_string(),
            dst: dst.to_string(),
            transport: transport(r.transport).to_owned(),
            text: String::from_utf8_lossy(&r.bytes).into_owned(),
        });
    }
    out.sort_by_key(|m| m.at_us);
    out
}

/// The messages of the call whose Call-IDs are `call_ids` (its attempts', and those its
/// gateway observations carry behind a system under test that rewrites them).
pub fn for_call(all: &[TraceMessage], call_ids: &HashSet<&str>) -> Vec<TraceMessage> {
    all.iter()
        .filter(|m| m.call_id().is_some_and(|c| call_ids.contains(c)))
        .cloned()
        .collect()
}

/// A scenario keeps the ladders of its first calls, and of every later call that ended
/// differently from its first call (another status, or an error).
pub const TRACED_CALLS: usize = 10;

/// Attaches to each of a scenario's call records the messages of its Call-IDs (`call_ids[i]`
/// for `records[i]`), as [`TRACED_CALLS`] says.
pub fn attach(
    records: &mut [reports::CallRecord],
    call_ids: &[HashSet<&str>],
    all: &[TraceMessage],
) {
    let first = records.first().map(|r| (r.final_status, r.error.is_some()));
    for (i, (r, ids)) in records.iter_mut().zip(call_ids).enumerate() {
        let unlike_first = Some((r.final_status, r.error.is_some())) != first;
        if i < TRACED_CALLS || unlike_first {
            r.trace = for_call(all, ids);
        }
    }
}

fn transport(t: TransportKind) -> &'static str {
    match t {
        TransportKind::Tls => "tls",
        TransportKind::Tcp => "tcp",
    }
}

/// Every record as a pcapng trace: one interface per connection, a connection captured at
/// both ends shown once (as the trunk saw it). `wall_at_epoch` is the wall-clock time of the
/// capture's epoch.
pub fn pcap<'r>(records: &'r [Record], lanes: &Lanes, wall_at_epoch: SystemTime) -> Trace<'r> {
    let trunk_addrs: HashSet<SocketAddr> = records
        .iter()
        .filter(|r| &*r.point == TRUNK)
        .map(|r| r.local)
        .collect();
    // (point, conn) of the trunk's connections, by (local, remote), with their first time.
    let mut trunk_conns: HashMap<(SocketAddr, SocketAddr), u64> = HashMap::new();
    for r in records.iter().filter(|r| &*r.point == TRUNK) {
        trunk_conns.entry((r.local, r.remote)).or_insert(r.at_us);
    }
    let twin = |r: &Record| {
        &*r.point != TRUNK
            && trunk_conns
                .get(&(r.remote, r.local))
                .is_some_and(|&t| t.abs_diff(r.at_us) < 5_000_000)
    };
    let unix_us = wall_at_epoch
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_micros() as u64;
    let mut interfaces: HashMap<(&str, u64), usize> = HashMap::new();
    let mut trace = Trace::default();
    for r in records {
        if twin(r) {
            continue;
        }
        let conn = *interfaces.entry((&r.point, r.conn)).or_insert_with(|| {
            let (me, peer) = (&*r.point, lanes.name(r.remote, &trunk_addrs));
            trace.connections.push((
                format!("{me} {} <-> {peer} {}", r.local, r.remote),
                format!(
                    "SIP over {}, {}; captured at {me}; synthetic TCP/IP headers",
                    transport(r.transport).to_uppercase(),
                    match r.transport {
                        TransportKind::Tls => "the decrypted plaintext",
                        TransportKind::Tcp => "as sent",
                    }
                ),
            ));
            trace.connections.len() - 1
        });
        let (src, dst) = r.endpoints();
        trace.packets.push(Packet {
            at_unix_us: unix_us + r.at_us,
            src,
            dst,
            conn,
            payload: &r.bytes,
            comment: Some(format!(
                "{} at {}",
                match r.direction {
                    Direction::Sent => "sent",
                    Direction::Received => "received",
                },
                r.point
            )),
        });
    }
    trace
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::sync::Arc;

    fn rec(point: &str, at: u64, local: u16, remote: u16, dir: Direction, text: &str) -> Record {
        Record {
            at_us: at,
            point: Arc::from(point),
            conn: if point == TRUNK { 1 } else { 2 },
            local: SocketAddr::from(([127, 0, 0, 1], local)),
            remote: SocketAddr::from(([127, 0, 0, 1], remote)),
            transport: TransportKind::Tls,
            direction: dir,
            bytes: Bytes::from(text.to_owned()),
        }
    }

    fn lanes() -> Lanes {
        Lanes {
            gateways: vec![(SocketAddr::from(([127, 0, 0, 1], 5061)), "gw1".into())],
            other: "sut".into(),
        }
    }

    const INVITE: &str = "INVITE sip:911@gw1 SIP/2.0\r\nCall-ID: c1\r\n\r\n";
    const OK: &str = "SIP/2.0 200 OK\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n\r\n";

    #[test]
    fn both_ends_of_a_message_become_one_with_two_times() {
        let records = [
            rec(TRUNK, 10, 40000, 5061, Direction::Sent, INVITE),
            rec("gw1", 12, 5061, 40000, Direction::Received, INVITE),
            rec("gw1", 20, 5061, 40000, Direction::Sent, OK),
            rec(TRUNK, 23, 40000, 5061, Direction::Received, OK),
        ];
        let m = messages(&records, &lanes());
        assert_eq!(m.len(), 2);
        assert_eq!((m[0].from.as_str(), m[0].to.as_str()), ("trunk", "gw1"));
        assert_eq!((m[0].at_us, m[0].received_at_us), (10, Some(12)));
        assert_eq!((m[1].from.as_str(), m[1].to.as_str()), ("gw1", "trunk"));
        assert_eq!((m[1].at_us, m[1].received_at_us), (20, Some(23)));
        let ids: HashSet<&str> = ["c1"].into();
        assert_eq!(for_call(&m, &ids).len(), 2);
        assert!(for_call(&m, &["c2"].into()).is_empty());
        let trace = pcap(&records, &lanes(), SystemTime::UNIX_EPOCH);
        assert_eq!(trace.connections.len(), 1, "the gateway's twin is left out");
        assert_eq!(trace.packets.len(), 2);
        assert!(
            trace.connections[0]
                .0
                .starts_with("trunk 127.0.0.1:40000 <-> gw1")
        );
    }

    #[test]
    fn an_unknown_end_is_the_first_hop() {
        let records = [
            rec(TRUNK, 10, 40000, 5071, Direction::Sent, INVITE),
            rec("gw1", 30, 5061, 41000, Direction::Received, INVITE),
        ];
        let m = messages(&records, &lanes());
        assert_eq!((m[0].from.as_str(), m[0].to.as_str()), ("trunk", "sut"));
        assert_eq!((m[1].from.as_str(), m[1].to.as_str()), ("sut", "gw1"));
        assert_eq!(
            pcap(&records, &lanes(), SystemTime::UNIX_EPOCH)
                .connections
                .len(),
            2
        );
    }
}
