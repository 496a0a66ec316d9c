use super::*;

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn msg(first: &str, call_id: &str, cseq: &str) -> String {
    format!("{first}\r\nCall-ID: {call_id}\r\nCSeq: {cseq}\r\nContent-Length: 0\r\n\r\n")
}

fn invite(c: &str) -> String {
    msg("INVITE sip:911@gw1 SIP/2.0", c, "1 INVITE")
}

fn resp(status: &str, c: &str, cseq: &str) -> String {
    msg(&format!("SIP/2.0 {status}"), c, cseq)
}

/// One call on the trunk's tap: INVITE, the answer, ACK, BYE and its answer.
fn call(tap: &Tap, c: &str, invite_status: &str, bye_status: &str) {
    tap.sent(invite(c).as_bytes());
    tap.received(&Bytes::from(resp(invite_status, c, "1 INVITE")));
    if invite_status.starts_with('2') {
        tap.sent(msg("ACK sip:gw1 SIP/2.0", c, "1 ACK").as_bytes());
        tap.sent(msg("BYE sip:gw1 SIP/2.0", c, "2 BYE").as_bytes());
        tap.received(&Bytes::from(resp(bye_status, c, "2 BYE")));
    }
}

fn call_ids(records: &[Record]) -> Vec<String> {
    let mut ids: Vec<String> = records
        .iter()
        .filter_map(|r| scan::scan(&r.bytes).call_id.map(str::to_owned))
        .collect();
    ids.dedup();
    ids
}

#[test]
fn a_batched_write_is_one_record_per_message_and_keepalives_are_left_out() {
    let cap = Capture::new(Instant::now(), Keep::All, 1 << 20);
    let tap = cap.tap("gw1", addr(5061), addr(40000), TransportKind::Tls);
    let batch = format!(
        "{}\r\n\r\n{}{}",
        resp("100 Trying", "a", "1 INVITE"),
        resp("180 Ringing", "a", "1 INVITE"),
        resp("200 OK", "a", "1 INVITE")
    );
    tap.sent(batch.as_bytes());
    tap.received(&Bytes::from(invite("a")));
    let r = cap.since_last();
    assert_eq!(r.len(), 4);
    assert!(r[0].bytes.starts_with(b"SIP/2.0 100"));
    assert!(r[2].bytes.starts_with(b"SIP/2.0 200"));
    assert_eq!(r[0].direction, Direction::Sent);
    assert_eq!(r[0].endpoints(), (addr(5061), addr(40000)));
    assert_eq!(r[3].endpoints(), (addr(40000), addr(5061)));
    assert_eq!((&*r[3].point, r[3].conn), ("gw1", 1));
    assert!(cap.since_last().is_empty(), "nothing new");
    tap.received(&Bytes::from(invite("b")));
    assert_eq!(cap.since_last().len(), 1, "only what is new");
    assert_eq!(cap.finish().len(), 5, "finish returns everything");
    assert!(cap.finish().is_empty());
}

#[test]
fn each_tap_is_a_connection_and_text_that_does_not_frame_is_kept_raw() {
    let cap = Capture::new(Instant::now(), Keep::All, 1 << 20);
    let a = cap.tap("trunk", addr(40000), addr(5061), TransportKind::Tcp);
    let b = cap.tap("trunk", addr(40001), addr(5061), TransportKind::Tcp);
    a.sent(b"GARBAGE without framing");
    b.sent(invite("x").as_bytes());
    let r = cap.finish();
    assert_eq!(r.iter().map(|r| r.conn).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(&r[0].bytes[..], b"GARBAGE without framing");
}

#[test]
fn a_full_capture_drops_and_counts() {
    let one = invite("x").len();
    let cap = Capture::new(Instant::now(), Keep::All, one * 2);
    let tap = cap.tap("trunk", addr(1), addr(2), TransportKind::Tcp);
    for _ in 0..3 {
        tap.sent(invite("x").as_bytes());
    }
    assert_eq!(cap.dropped(), 1);
    assert_eq!(cap.since_last().len(), 2);
    assert_eq!(cap.finish().len(), 2);
    tap.sent(invite("x").as_bytes());
    assert_eq!(cap.finish().len(), 1, "finishing frees room");
}

#[test]
fn load_keeps_the_first_calls_and_every_failed_one() {
    let cap = Capture::new(
        Instant::now(),
        Keep::FirstCallsAndFailures { first: 2 },
        1 << 20,
    );
    let tap = cap.tap("trunk", addr(40000), addr(5061), TransportKind::Tls);
    call(&tap, "c1", "200 OK", "200 OK");
    call(&tap, "c2", "200 OK", "200 OK");
    call(&tap, "c3", "200 OK", "200 OK");
    call(&tap, "c4", "503 Service Unavailable", "");
    call(&tap, "c5", "200 OK", "481 Call Does Not Exist");
    call(&tap, "c6", "200 OK", "200 OK");
    tap.sent(invite("c7").as_bytes()); // never answered
    assert_eq!(
        call_ids(&cap.since_last()),
        ["c1", "c2"],
        "settled and kept"
    );
    let all = cap.finish();
    assert_eq!(call_ids(&all), ["c1", "c2", "c4", "c5", "c7"]);
    assert_eq!(all.len(), 5 + 5 + 2 + 5 + 1);
}

#[test]
fn the_other_end_follows_a_settled_call() {
    let cap = Capture::new(
        Instant::now(),
        Keep::FirstCallsAndFailures { first: 1 },
        1 << 20,
    );
    let trunk = cap.tap("trunk", addr(40000), addr(5061), TransportKind::Tcp);
    let gw = cap.tap("gw1", addr(5061), addr(40000), TransportKind::Tcp);
    for c in ["c1", "c2"] {
        call(&gw, c, "200 OK", "200 OK");
        // The trunk reads the BYE's answer after the gateway sent it.
        trunk.received(&Bytes::from(resp("200 OK", c, "2 BYE")));
    }
    let kept = cap.finish();
    assert_eq!(call_ids(&kept), ["c1"]);
    assert_eq!(kept.len(), 6, "c1 from both ends, nothing of c2");
}
