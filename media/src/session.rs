//! One end of a call's media on a UDP socket: sends RTP (SRTP when keyed) every 20 ms to the
//! peer's SDP address and receives, authenticates and counts what arrives, until stopped or
//! its time bound passes. A task owns the socket; [`Session::stop`] returns the
//! [`MediaLeg`] it recorded.
//!
//! [`bind`] finds the socket: an even port in 30000-60000 (ICD 4), chosen at random and
//! retried on collision, a bounded number of times.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use reports::MediaLeg;
use tokio::net::UdpSocket;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use crate::audio::{FRAME, Listener, Program};
use crate::rtp;
use crate::srtp::{MasterKey, Protector, Suite, UnprotectError, Unprotector};
use crate::stats::Receiver;

/// Lowest media port (ICD 4).
pub const PORT_MIN: u16 = 30000;
/// Highest media port (ICD 4).
pub const PORT_MAX: u16 = 60000;
/// Ports tried before [`bind`] gives up.
pub const BIND_TRIES: usize = 64;
/// Packet interval (G.711 at 20 ms).
pub const PTIME: Duration = Duration::from_millis(20);
/// How many distinct source addresses a leg records.
const SOURCES_KEPT: usize = 4;

/// Binds a UDP socket on `ip` at a random even port in [`PORT_MIN`]..=[`PORT_MAX`], trying
/// another port when one is taken, at most [`BIND_TRIES`] times. Synchronous (a bind does not
/// block), so a caller can bind before it writes the SDP that names the port; register it
/// with tokio through [`UdpSocket::from_std`] inside a runtime.
pub fn bind(ip: IpAddr) -> io::Result<std::net::UdpSocket> {
    let mut last = None;
    for _ in 0..BIND_TRIES {
        let port = fastrand::u16(PORT_MIN / 2..=PORT_MAX / 2) * 2;
        match std::net::UdpSocket::bind(SocketAddr::new(ip, port)) {
            Ok(s) => {
                s.set_nonblocking(true)?;
                return Ok(s);
            }
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no port tried")))
}

/// A suite and the master key that goes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keying {
    /// The suite.
    pub suite: Suite,
    /// The key and salt.
    pub key: MasterKey,
}

/// What one end does with its media.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The peer's media address from its SDP (`c=` and `m=audio`).
    pub remote: SocketAddr,
    /// Where to send: `remote`, unless a fault says otherwise.
    pub send_to: SocketAddr,
    /// The key this end sends with (its own `a=crypto`); `None`: plain RTP.
    pub send: Option<Keying>,
    /// The key the peer sends with (the peer's `a=crypto`); `None`: plain RTP expected.
    pub receive: Option<Keying>,
    /// The payload type sent (0 PCMU).
    pub payload_type: u8,
    /// What is played.
    pub program: Program,
    /// Sending starts this long after the start (late media).
    pub send_after: Duration,
    /// `false`: send nothing at all (one-way media).
    pub sending: bool,
    /// The session ends by itself this long after the start.
    pub bound: Duration,
    /// The fault applied, for the record.
    pub fault: Option<String>,
}

/// A running media session.
#[derive(Debug)]
pub struct Session {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<MediaLeg>,
}

impl Session {
    /// Starts sending and receiving on `socket` now (the moment of the 200 OK).
    pub fn start(socket: UdpSocket, plan: Plan) -> Session {
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(run(socket, plan, rx));
        Session {
            stop: Some(tx),
            task,
        }
    }

    /// Whether the session has ended by itself (its time bound passed).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Stops the session and returns what it recorded.
    pub async fn stop(mut self) -> MediaLeg {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        match (&mut self.task).await {
            Ok(leg) => leg,
            Err(e) => MediaLeg {
                fault: Some(format!("media task failed: {e}")),
                ..MediaLeg::default()
            },
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.stop.is_some() {
            self.task.abort();
        }
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Whether a packet that failed authentication reads as plain audio rather than cipher text.
/// Cipher text decoded as µ-law is white noise: successive samples are independent, so the
/// energy of their differences is about twice the signal's (never below 1.3 in 20,000 random
/// 170-byte payloads). Speech, tones and silence sampled at 8 kHz change slowly: the comfort
/// tone gives 0.1, DTMF pairs at most 0.9, silence 0. The threshold is 1.2.
pub fn looks_clear(packet: &[u8]) -> bool {
    let Ok(h) = rtp::parse(packet) else {
        return false;
    };
    let payload = &packet[h.len..];
    if payload.len() < 40 {
        return false;
    }
    // One pass, nothing allocated: this runs for every packet that failed authentication.
    let (mut energy, mut diff, mut prev) = (0f64, 0f64, None::<f64>);
    for b in payload {
        let v = f64::from(crate::audio::ulaw_decode(*b));
        energy += v * v;
        if let Some(p) = prev {
            diff += (v - p).powi(2);
        }
        prev = Some(v);
    }
    diff < 1.2 * energy || energy == 0.0
}

struct Rx {
    unprotect: Option<Unprotector>,
    stats: Receiver,
    listener: Listener,
    /// Where packets came from, first [`SOURCES_KEPT`] distinct addresses.
    sources: Vec<SocketAddr>,
    leg: MediaLeg,
}

impl Rx {
    fn on_datagram(&mut self, buf: &mut [u8], from: SocketAddr, at_us: u64, payload_type: u8) {
        self.leg.datagrams += 1;
        let parsed = match &mut self.unprotect {
            Some(u) => match u.unprotect(buf) {
                Ok((h, len)) => Ok((h, len)),
                Err(UnprotectError::NotRtp(_)) => return,
                Err(_) => {
                    self.leg.rtp += 1;
                    self.leg.auth_failures += 1;
                    if looks_clear(buf) {
                        self.leg.clear += 1;
                    }
                    self.note_source(from);
                    return;
                }
            },
            None => rtp::parse(buf)
                .and_then(|mut h| {
                    h.padding = rtp::padding(buf, &h)?;
                    Ok(h)
                })
                .map(|h| (h, buf.len())),
        };
        let Ok((h, len)) = parsed else {
            return;
        };
        self.leg.rtp += 1;
        self.leg.authenticated += 1;
        self.leg.first_packet_us.get_or_insert(at_us);
        self.note_source(from);
        self.stats.on_packet(h.ssrc, h.seq, h.timestamp, at_us);
        if h.payload_type == payload_type && payload_type == 0 {
            let end = len.saturating_sub(h.padding).max(h.len);
            self.listener.on_ulaw(&buf[h.len..end]);
        }
    }

    /// Notes where a packet came from (compared as addresses: nothing is allocated per packet;
    /// written into the leg as text when the session ends).
    fn note_source(&mut self, from: SocketAddr) {
        if self.sources.len() < SOURCES_KEPT && !self.sources.contains(&from) {
            self.sources.push(from);
        }
    }
}

async fn run(socket: UdpSocket, plan: Plan, mut stop: oneshot::Receiver<()>) -> MediaLeg {
    let t0 = Instant::now();
    let deadline = t0 + plan.bound;
    let local = socket
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let played = match &plan.program {
        Program::Comfort => "comfort tone".to_owned(),
        Program::Digits(d) => format!("digits {d}"),
    };
    let mut rx = Rx {
        unprotect: plan
            .receive
            .as_ref()
            .map(|k| Unprotector::new(k.suite, &k.key)),
        stats: Receiver::default(),
        listener: Listener::default(),
        sources: Vec::new(),
        leg: MediaLeg {
            local,
            sdp_remote: plan.remote.to_string(),
            sent_to: plan.send_to.to_string(),
            send_suite: plan.send.as_ref().map(|k| k.suite.name().to_owned()),
            receive_suite: plan.receive.as_ref().map(|k| k.suite.name().to_owned()),
            played,
            fault: plan.fault.clone(),
            ..MediaLeg::default()
        },
    };
    let mut protect = plan.send.as_ref().map(|k| Protector::new(k.suite, &k.key));
    let mut ticks = tokio::time::interval_at(t0 + plan.send_after, PTIME);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let ssrc = fastrand::u32(..);
    let mut seq = fastrand::u16(..);
    let mut ts = fastrand::u32(..);
    let mut frame_no = 0u64;
    let mut out = Vec::with_capacity(256);
    let mut frame = [0u8; FRAME];
    let mut buf = vec![0u8; 2048];
    let mut sent = 0u64;
    let mut lag_max = Duration::ZERO;
    // One timer for the whole session, not one per packet.
    let bound = tokio::time::sleep_until(deadline);
    tokio::pin!(bound);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            () = &mut bound => break,
            due = ticks.tick(), if plan.sending => {
                lag_max = lag_max.max(due.elapsed());
                plan.program.frame(frame_no, &mut frame);
                let h = rtp::Header {
                    marker: frame_no == 0,
                    payload_type: plan.payload_type,
                    seq,
                    timestamp: ts,
                    ssrc,
                    len: rtp::HEADER_LEN,
                    padding: 0,
                };
                rtp::write(&mut out, &h, &frame);
                if let Some(p) = &mut protect {
                    let _ = p.protect(&mut out);
                }
                if socket.send_to(&out, plan.send_to).await.is_ok() {
                    sent += 1;
                    rx.leg.first_sent_us.get_or_insert_with(|| micros(t0.elapsed()));
                }
                frame_no += 1;
                seq = seq.wrapping_add(1);
                ts = ts.wrapping_add(FRAME as u32);
            }
            r = socket.recv_from(&mut buf) => {
                if let Ok((n, from)) = r {
                    let at = micros(t0.elapsed());
                    rx.on_datagram(&mut buf[..n], from, at, plan.payload_type);
                }
            }
        }
    }
    let mut leg = rx.leg;
    leg.sources = rx.sources.iter().map(SocketAddr::to_string).collect();
    leg.sent = sent;
    leg.timer_lag_max_us = micros(lag_max);
    leg.lost = rx.stats.lost();
    leg.expected = rx.stats.expected();
    leg.jitter_us = rx.stats.jitter_us();
    leg.jitter_max_us = rx.stats.jitter_max_us();
    leg.ssrc_changes = rx.stats.ssrc_changes;
    leg.audible_ms = rx.listener.audible_ms;
    leg.digits = rx.listener.digits;
    leg
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    fn keyed() -> Keying {
        Keying {
            suite: Suite::AesCm128HmacSha1_80,
            key: MasterKey::generate(),
        }
    }

    fn plan(remote: SocketAddr, send: Option<Keying>, receive: Option<Keying>) -> Plan {
        Plan {
            remote,
            send_to: remote,
            send,
            receive,
            payload_type: 0,
            program: Program::Comfort,
            send_after: Duration::ZERO,
            sending: true,
            bound: Duration::from_secs(10),
            fault: None,
        }
    }

    #[test]
    fn binds_even_ports_in_range() {
        for _ in 0..20 {
            let s = bind(LOOPBACK).unwrap();
            let p = s.local_addr().unwrap().port();
            assert!(
                (PORT_MIN..=PORT_MAX).contains(&p) && p.is_multiple_of(2),
                "{p}"
            );
        }
    }

    #[tokio::test]
    async fn two_ends_exchange_srtp_both_ways() {
        let a = UdpSocket::from_std(bind(LOOPBACK).unwrap()).unwrap();
        let b = UdpSocket::from_std(bind(LOOPBACK).unwrap()).unwrap();
        let (aa, ba) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        let (ka, kb) = (keyed(), keyed());
        let mut pb = plan(aa, Some(kb.clone()), Some(ka.clone()));
        pb.program = Program::readback("+1312");
        let sa = Session::start(a, plan(ba, Some(ka), Some(kb)));
        let sb = Session::start(b, pb);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (la, lb) = (sa.stop().await, sb.stop().await);
        for (leg, peer) in [(&la, ba), (&lb, aa)] {
            assert!(leg.sent >= 20, "{leg:?}");
            assert!(leg.authenticated >= 18, "{leg:?}");
            assert_eq!((leg.auth_failures, leg.clear), (0, 0), "{leg:?}");
            assert_eq!(leg.sources, vec![peer.to_string()]);
            assert_eq!(leg.symmetric(), Some(true));
            assert!(leg.first_packet_us.is_some_and(|t| t < 100_000), "{leg:?}");
        }
        assert_eq!(la.digits, "1312");
        assert_eq!(la.audible_ms, 4 * 60);
    }

    #[tokio::test]
    async fn a_wrong_key_and_plain_rtp_are_told_apart() {
        let a = UdpSocket::from_std(bind(LOOPBACK).unwrap()).unwrap();
        let (b, c) = (
            UdpSocket::from_std(bind(LOOPBACK).unwrap()).unwrap(),
            UdpSocket::from_std(bind(LOOPBACK).unwrap()).unwrap(),
        );
        let aa = a.local_addr().unwrap();
        let receiver = Session::start(a, {
            let mut p = plan(b.local_addr().unwrap(), None, Some(keyed()));
            p.sending = false;
            p
        });
        let wrong = Session::start(b, plan(aa, Some(keyed()), None));
        let plain = Session::start(c, plan(aa, None, None));
        tokio::time::sleep(Duration::from_millis(300)).await;
        wrong.stop().await;
        plain.stop().await;
        let leg = receiver.stop().await;
        assert_eq!(leg.sent, 0);
        assert_eq!(leg.authenticated, 0);
        assert!(leg.auth_failures >= 20, "{leg:?}");
        let half = leg.auth_failures / 2;
        assert!(leg.clear > half - 3 && leg.clear < half + 3, "{leg:?}");
        assert_eq!(leg.sources.len(), 2);
        assert_eq!(leg.symmetric(), Some(false));
    }

    #[tokio::test]
    async fn garbage_datagrams_are_counted_never_fatal() {
        let a = UdpSocket::from_std(bind(LOOPBACK).unwrap()).unwrap();
        let aa = a.local_addr().unwrap();
        let s = Session::start(a, {
            let mut p = plan(aa, None, Some(keyed()));
            p.sending = false;
            p
        });
        let peer = std::net::UdpSocket::bind((LOOPBACK, 0)).unwrap();
        let mut rng = fastrand::Rng::with_seed(3);
        for n in 0..300usize {
            let mut d: Vec<u8> = (0..n % 200).map(|_| rng.u8(..)).collect();
            if n % 2 == 0 && !d.is_empty() {
                d[0] = 0x80 | (d[0] & 0x3f);
            }
            peer.send_to(&d, aa).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let leg = s.stop().await;
        assert!(leg.datagrams > 250, "{leg:?}");
        assert_eq!(leg.authenticated, 0);
    }

    #[test]
    fn cipher_text_does_not_look_clear() {
        let master = MasterKey::generate();
        let mut p = Protector::new(Suite::AesCm128HmacSha1_80, &master);
        let mut out = Vec::new();
        let mut frame = [0u8; FRAME];
        for n in 0..50 {
            Program::readback("13125550100").frame(n, &mut frame);
            let h = rtp::Header {
                marker: false,
                payload_type: 0,
                seq: n as u16,
                timestamp: 0,
                ssrc: 1,
                len: 12,
                padding: 0,
            };
            rtp::write(&mut out, &h, &frame);
            assert!(looks_clear(&out), "plain frame {n}");
            p.protect(&mut out).unwrap();
            assert!(!looks_clear(&out), "encrypted frame {n}");
        }
    }
}
