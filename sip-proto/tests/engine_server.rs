//! Server transactions (RFC 3261 §17.2, RFC 6026) on a virtual clock: matching, absorption,
//! every timer, CANCEL, bounded memory.

#![allow(
    clippy::disallowed_methods,
    reason = "a virtual clock starts at Instant::now(); every later instant is that plus a Duration"
)]

use std::time::{Duration, Instant};

use sip_proto::engine::{
    EngineError, Incoming, Reliability, ServerEvent, ServerState, ServerTransactions, Timers, TxKey,
};
use sip_proto::{HeaderName, Message, Method, Request, Response};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A request; `via` is the whole top Via value, `to` the To value.
fn raw(method: &str, uri: &str, via: &str, to: &str, cseq: &str) -> Request {
    let text = format!(
        "{method} {uri} SIP/2.0\r\n\
         Via: {via}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:+13125550100@trunk.example>;tag=uac1\r\n\
         To: {to}\r\n\
         Call-ID: call-1@trunk.example\r\n\
         CSeq: {cseq}\r\n\
         Contact: <sip:+13125550100@uac.example>\r\n\r\n"
    );
    match Message::parse(text.as_bytes()) {
        Ok(Message::Request(r)) => r,
        other => panic!("bad test request: {other:?}"),
    }
}

fn req(method: &str, branch: &str, seq: u32) -> Request {
    raw(
        method,
        "sip:911@gw.example",
        &format!("SIP/2.0/UDP uac.example:5060;branch={branch}"),
        "<sip:911@gw.example>",
        &format!("{seq} {method}"),
    )
}

fn answer(r: &Request, status: u16) -> Response {
    let mut resp = Response::for_request(r, status, Some("gw9"));
    if (200..300).contains(&status) {
        resp.headers.push(HeaderName::Contact, "<sip:gw.example>");
    }
    resp
}

fn table(r: Reliability) -> ServerTransactions {
    ServerTransactions::new(Timers::default(), r)
}

fn new_key(inc: Incoming) -> TxKey {
    match inc {
        Incoming::New(k) => k,
        other => panic!("expected New, got {other:?}"),
    }
}

fn statuses(t: &mut ServerTransactions) -> Vec<u16> {
    std::iter::from_fn(|| t.poll_transmit().map(|(_, r)| r.status)).collect()
}

fn events(t: &mut ServerTransactions) -> Vec<ServerEvent> {
    std::iter::from_fn(|| t.poll_event()).collect()
}

/// Runs the table by its own poll_timeout up to `until`, recording (offset, status) sent.
fn run_until(t: &mut ServerTransactions, t0: Instant, until: Instant) -> Vec<(Duration, u16)> {
    let mut sent = vec![];
    while let Some(at) = t.poll_timeout().filter(|&at| at <= until) {
        t.handle_timeout(at);
        while let Some((_, r)) = t.poll_transmit() {
            sent.push((at - t0, r.status));
        }
    }
    sent
}

#[test]
fn retransmitted_invite_resends_the_latest_response() {
    let t0 = Instant::now();
    let mut t = table(Reliability::Unreliable).auto_trying(true);
    let inv = req("INVITE", "z9hG4bKs1", 1);
    let key = new_key(t.on_request(t0, &inv));
    assert_eq!(key.method, Method::Invite);
    assert_eq!(statuses(&mut t), vec![100], "auto 100 Trying");
    assert_eq!(t.state(&key), Some(ServerState::Proceeding));
    assert_eq!(
        t.on_request(t0 + ms(500), &inv),
        Incoming::Retransmission(key.clone())
    );
    assert_eq!(statuses(&mut t), vec![100]);
    t.respond(t0 + ms(600), &key, answer(&inv, 180)).unwrap();
    assert_eq!(statuses(&mut t), vec![180]);
    t.on_request(t0 + ms(1500), &inv);
    assert_eq!(statuses(&mut t), vec![180], "the latest provisional");
    assert_eq!(t.len(), 1);
    assert_eq!(t.poll_timeout(), None, "Proceeding waits for the TU");
}

#[test]
fn without_auto_trying_a_retransmission_before_any_response_sends_nothing() {
    let t0 = Instant::now();
    let mut t = table(Reliability::Unreliable);
    let inv = req("INVITE", "z9hG4bKs2", 1);
    let key = new_key(t.on_request(t0, &inv));
    assert_eq!(statuses(&mut t), Vec::<u16>::new());
    assert_eq!(t.on_request(t0, &inv), Incoming::Retransmission(key));
    assert_eq!(statuses(&mut t), Vec::<u16>::new());
}

#[test]
fn timer_g_retransmits_non_2xx_final_capped_at_t2_and_timer_h_gives_ack_timeout() {
    let t0 = Instant::now();
    let mut t = table(Reliability::Unreliable);
    let inv = req("INVITE", "z9hG4bKs3", 1);
    let key = new_key(t.on_request(t0, &inv));
    t.respond(t0, &key, answer(&inv, 486)).unwrap();
    assert_eq!(statuses(&mut t), vec![486]);
    assert_eq!(t.state(&key), Some(ServerState::Completed));
    let sent = run_until(&mut t, t0, t0 + ms(100_000));
    let offsets: Vec<u64> = sent.iter().map(|(d, _)| d.as_millis() as u64).collect();
    assert_eq!(
        offsets,
        vec![
            500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500
        ]
    );
    assert!(sent.iter().all(|&(_, s)| s == 486));
    assert_eq!(
        events(&mut t),
        vec![
            ServerEvent::AckTimeout { key: key.clone() },
            ServerEvent::Terminated { key: key.clone() }
        ]
    );
    assert_eq!(t.len(), 0);
    assert_eq!(t.poll_timeout(), None);
}

#[test]
fn ack_confirms_stops_timer_g_and_timer_i_terminates() {
    let t0 = Instant::now();
    let mut t = table(Reliability::Unreliable);
    let inv = req("INVITE", "z9hG4bKs4", 1);
    let key = new_key(t.on_request(t0, &inv));
    let busy = answer(&inv, 486);
    t.respond(t0, &key, busy.clone()).unwrap();
    statuses(&mut t);
    run_until(&mut t, t0, t0 + ms(600)); // one Timer G retransmission
    let ack = sip_proto::engine::ack_for_non_2xx(&inv, &busy);
    let now = t0 + ms(700);
    assert_eq!(
        t.on_request(now, &ack),
        Incoming::AckForCompleted(key.clone())
    );
    assert_eq!(t.state(&key), Some(ServerState::Confirmed));
    assert_eq!(t.poll_timeout(), Some(now + ms(5000)), "only Timer I left");
    // A retransmitted ACK or INVITE is absorbed silently in Confirmed.
    assert_eq!(
        t.on_request(now + ms(10), &ack),
        Incoming::Retransmission(key.clone())
    );
    assert_eq!(
        t.on_request(now + ms(10), &inv),
        Incoming::Retransmission(key.clone())
    );
    assert_eq!(statuses(&mut t), Vec::<u16>::new());
    t.handle_timeout(now + ms(4999));
    assert_eq!(t.len(), 1);
    t.handle_timeout(now + ms(5000));
    assert_eq!(t.len(), 0);
    assert_eq!(events(&mut t), vec![ServerEvent::Terminated { key }]);
}

#[test]
fn reliable_transport_has_no_timer_g_and_a_zero_timer_i() {
    let t0 = Instant::now();
    let mut t = table(Reliability::Reliable);
    let inv = req("INVITE", "z9hG4bKs5", 1);
    let key = new_key(t.on_request(t0, &inv));
    let busy = answer(&inv, 503);
    t.respond(t0, &key, busy.clone()).unwrap();
    statuses(&mut t);
    assert_eq!(t.poll_timeout(), Some(t0 + ms(32_000)), "Timer H only");
    let ack = sip_proto::engine::ack_for_non_2xx(&inv, &busy);
    assert_eq!(
        t.on_request(t0 + ms(50), &ack),
        Incoming::AckForCompleted(key)
    );
    assert_eq!(t.len(), 0, "Timer I is zero: terminated at once");
    assert_eq!(t.poll_timeout(), None);
}

#[test]
fn accepted_absorbs_invite_retransmissions_and_retransmits_2xx_until_its_ack() {
    let t0 = Instant::now();
    let mut t = table(Reliability::Reliable);
    let inv = req("INVITE", "z9hG4bKs6", 1);
    let key = new_key(t.on_request(t0, &inv));
    t.respond(t0, &key, answer(&inv, 200)).unwrap();
    assert_eq!(statuses(&mut t), vec![200]);
    assert_eq!(t.state(&key), Some(ServerState::Accepted));
    // RFC 6026: the retransmitted INVITE is not a new transaction; the 2xx goes again.
    assert_eq!(
        t.on_request(t0 + ms(100), &inv),
        Incoming::Retransmission(key.clone())
    );
    assert_eq!(statuses(&mut t), vec![200]);
    // §13.3.1.4: 2xx retransmitted at T1, 2T1 ... on every transport until the ACK.
    let sent = run_until(&mut t, t0, t0 + ms(1600));
    assert_eq!(sent, vec![(ms(500), 200), (ms(1500), 200)]);
    // The ACK of the 2xx has its own branch and Request-URI; matched by dialog.
    let ack = raw(
        "ACK",
        "sip:+13125550100@uac.example",
        "SIP/2.0/UDP uac.example:5060;branch=z9hG4bKack",
        "<sip:911@gw.example>;tag=gw9",
        "1 ACK",
    );
    assert_eq!(
        t.on_request(t0 + ms(1700), &ack),
        Incoming::AckOutsideTransaction
    );
    assert_eq!(run_until(&mut t, t0, t0 + ms(31_999)), vec![]);
    assert_eq!(t.len(), 1, "Accepted lingers until Timer L");
    t.handle_timeout(t0 + ms(32_000));
    assert_eq!(events(&mut t), vec![ServerEvent::Terminated { key }]);
    assert_eq!(t.len(), 0);
    // After termination a stray ACK is still handed to the TU.
    assert_eq!(
        t.on_request(t0 + ms(40_000), &ack),
        Incoming::AckOutsideTransaction
    );
}

#[test]
fn an_unacknowledged_2xx_gives_ack_timeout_then_terminates() {
    let t0 = Instant::now();
    let mut t = table(Reliability::Unreliable);
    let inv = req("INVITE", "z9hG4bKs7", 1);
    let key = new_key(t.on_request(t0, &inv));
    t.respond(t0, &key, answer(&inv, 200)).unwrap();
    assert_eq!(statuses(&mut t), vec![200]);
    let sent = run_until(&mut t, t0, t0 + ms(60_000));
    assert_eq!(sent.len(), 10, "T1 doubling to T2 over 64*T1: {sent:?}");
    assert_eq!(sent.last().unwrap().0, ms(31_500));
    assert_eq!(
        events(&mut t),
        vec![
            ServerEvent::AckTimeout { key: key.clone() },
            ServerEvent::Terminated { key }
        ]
    );
    assert_eq!(t.len(), 0);
}

#[test]
fn wrong_to_tag_ack_does_not_stop_2xx_retransmissions() {
    let t0 = Instant::now();
    let mut t = table(Reliability::Unreliable);
    let inv = req("INVITE", "z9hG4bKs8", 1);
    let key = new_key(t.on_request(t0, &inv));
    t.respond(t0, &key, answer(&inv, 200)).unwrap();
    statuses(&mut t);
    let ack = raw(
        "ACK",
        "sip:+13125550100@uac.example",
        "SIP/2.0/UDP uac.example:5060;branch=z9hG4bKack2",
        "<sip:911@gw.example>;tag=other",
        "1 ACK",
    );
    assert_eq!(t.on_request(t0, &ack), Incoming::AckOutsideTransaction);
    assert_eq!(run_until(&mut t, t0, t0 + ms(500)), vec![(ms(500), 200)]);
}

#[test]
fn non_invite_absorbs_in_trying_resends_final_in_completed_and_timer_j_ends_it() {
    let t0 = Instant::now();
    let mut t = table(Reliability::Unreliable);
    let opt = req("OPTIONS", "z9hG4bKo1", 3);
    let key = new_key(t.on_request(t0, &opt));
    assert_eq!(t.state(&key), Some(ServerState::Trying));
    assert_eq!(
        t.on_request(t0, &opt),
        Incoming::Retransmission(key.clone())
    );
    assert_eq!(statuses(&mut t), Vec::<u16>::new(), "Trying absorbs");
    t.respond(t0 + ms(10), &key, answer(&opt, 100)).unwrap();
    t.on_request(t0 + ms(20), &opt);
    assert_eq!(
        statuses(&mut t),
        vec![100, 100],
        "Proceeding re-sends the 1xx"
    );
    t.respond(t0 + ms(30), &key, answer(&opt, 200)).unwrap();
    assert_eq!(t.state(&key), Some(ServerState::Completed));
    t.on_request(t0 + ms(40), &opt);
    assert_eq!(statuses(&mut t), vec![200, 200]);
    assert_eq!(t.poll_timeout(), Some(t0 + ms(30 + 32_000)), "Timer J");
    assert_eq!(
        t.respond(t0 + ms(50), &key, answer(&opt, 500)),
        Err(EngineError::NotAllowed {
            state: ServerState::Completed,
            status: 500
        })
    );
    t.handle_timeout(t0 + ms(32_030));
    assert_eq!(
        events(&mut t),
        vec![ServerEvent::Terminated { key: key.clone() }]
    );
    // Reliable: Timer J is zero.
    let mut r = table(Reliability::Reliable);
    let key = new_key(r.on_request(t0, &opt));
    r.respond(t0, &key, answer(&opt, 200)).unwrap();
    assert_eq!(r.len(), 0);
    assert_eq!(statuses(&mut r), vec![200]);
}

#[test]
fn unanswered_non_invite_is_abandoned_after_64_t1() {
    let t0 = Instant::now();
    let mut t = table(Reliability::Reliable);
    let key = new_key(t.on_request(t0, &req("INFO", "z9hG4bKo2", 4)));
    assert_eq!(t.poll_timeout(), Some(t0 + ms(32_000)));
    t.handle_timeout(t0 + ms(32_000));
    assert_eq!(
        events(&mut t),
        vec![
            ServerEvent::Abandoned { key: key.clone() },
            ServerEvent::Terminated { key }
        ]
    );
    assert!(t.is_empty());
}

#[test]
fn cancel_is_its_own_transaction_and_finds_its_invite() {
    let t0 = Instant::now();
    let mut t = table(Reliability::Unreliable);
    let inv = req("INVITE", "z9hG4bKc1", 1);
    let ikey = new_key(t.on_request(t0, &inv));
    t.respond(t0, &ikey, answer(&inv, 180)).unwrap();
    statuses(&mut t);
    let cancel = sip_proto::engine::cancel_for(&inv);
    let Incoming::Cancel {
        cancel: ckey,
        invite,
    } = t.on_request(t0 + ms(100), &cancel)
    else {
        panic!("expected Cancel")
    };
    assert_eq!(invite.as_ref(), Some(&ikey));
    assert_eq!(ckey.method, Method::Cancel);
    assert_eq!(ckey.branch, ikey.branch);
    assert_eq!(t.len(), 2);
    // The TU: 200 to the CANCEL, 487 to the INVITE.
    t.respond(t0 + ms(100), &ckey, answer(&cancel, 200))
        .unwrap();
    t.respond(t0 + ms(100), &ikey, answer(&inv, 487)).unwrap();
    assert_eq!(statuses(&mut t), vec![200, 487]);
    // A retransmitted CANCEL re-sends its 200, not the 487.
    assert_eq!(
        t.on_request(t0 + ms(200), &cancel),
        Incoming::Retransmission(ckey)
    );
    let (k, r) = t.poll_transmit().unwrap();
    assert_eq!((k.method, r.status), (Method::Cancel, 200));
    // A CANCEL for an unknown INVITE: its own transaction, no target (answer 481).
    let stray = sip_proto::engine::cancel_for(&req("INVITE", "z9hG4bKc2", 1));
    assert!(matches!(
        t.on_request(t0, &stray),
        Incoming::Cancel { invite: None, .. }
    ));
}

#[test]
fn respond_checks_key_status_and_branch() {
    let t0 = Instant::now();
    let mut t = table(Reliability::Unreliable);
    let inv = req("INVITE", "z9hG4bKe1", 1);
    let key = new_key(t.on_request(t0, &inv));
    assert_eq!(
        t.respond(
            t0,
            &key,
            Response {
                status: 99,
                ..answer(&inv, 100)
            }
        ),
        Err(EngineError::InvalidStatus(99))
    );
    let other = req("INVITE", "z9hG4bKe2", 1);
    assert!(matches!(
        t.respond(t0, &key, answer(&other, 180)),
        Err(EngineError::ResponseMismatch(_))
    ));
    let unknown = TxKey {
        branch: "z9hG4bKe2".into(),
        ..key.clone()
    };
    assert!(matches!(
        t.respond(t0, &unknown, answer(&other, 180)),
        Err(EngineError::UnknownTransaction(_))
    ));
    t.respond(t0, &key, answer(&inv, 404)).unwrap();
    assert_eq!(
        t.respond(t0, &key, answer(&inv, 200)),
        Err(EngineError::NotAllowed {
            state: ServerState::Completed,
            status: 200
        })
    );
}

#[test]
fn rfc2543_requests_without_a_branch_are_matched() {
    let t0 = Instant::now();
    let mut t = table(Reliability::Unreliable);
    let via = "SIP/2.0/UDP old.example:5060";
    let inv = raw(
        "INVITE",
        "sip:911@gw.example",
        via,
        "<sip:911@gw.example>",
        "9 INVITE",
    );
    let key = new_key(t.on_request(t0, &inv));
    assert!(!key.is_rfc3261());
    assert_eq!(
        t.on_request(t0, &inv),
        Incoming::Retransmission(key.clone())
    );
    let busy = answer(&inv, 486);
    t.respond(t0, &key, busy.clone()).unwrap();
    let ack = sip_proto::engine::ack_for_non_2xx(&inv, &busy);
    assert_eq!(t.on_request(t0, &ack), Incoming::AckForCompleted(key));
    // Another CSeq is another transaction.
    let next = raw(
        "INVITE",
        "sip:911@gw.example",
        via,
        "<sip:911@gw.example>",
        "10 INVITE",
    );
    assert!(matches!(t.on_request(t0, &next), Incoming::New(_)));
}

#[test]
fn unkeyable_requests_are_malformed_not_panics() {
    let t0 = Instant::now();
    let mut t = table(Reliability::Unreliable);
    let mut no_via = req("INVITE", "z9hG4bKx1", 1);
    no_via.headers.remove(&HeaderName::Via);
    assert_eq!(
        t.on_request(t0, &no_via),
        Incoming::Malformed(EngineError::MissingHeader("Via"))
    );
    let mut old_no_cseq = raw(
        "INVITE",
        "sip:911@gw.example",
        "SIP/2.0/UDP h",
        "<sip:911@gw.example>",
        "1 INVITE",
    );
    old_no_cseq.headers.remove(&HeaderName::CSeq);
    assert!(matches!(
        t.on_request(t0, &old_no_cseq),
        Incoming::Malformed(_)
    ));
    // An ACK without From tag or CSeq is simply outside any transaction.
    let mut ack = req("ACK", "z9hG4bKx2", 1);
    ack.headers.remove(&HeaderName::CSeq);
    assert_eq!(t.on_request(t0, &ack), Incoming::AckOutsideTransaction);
    assert!(t.is_empty());
}

#[test]
fn memory_is_bounded_after_many_transactions() {
    const N: u32 = 2_400;
    const STEP_MS: u64 = 20;
    let t0 = Instant::now();
    for reliability in [Reliability::Reliable, Reliability::Unreliable] {
        let mut t = table(reliability).auto_trying(true);
        let mut now = t0;
        let mut max_live = 0;
        for i in 0..N {
            now += ms(STEP_MS);
            let inv = req("INVITE", &format!("z9hG4bKmem{i}"), i + 1);
            let key = new_key(t.on_request(now, &inv));
            let status = [200, 486, 503][(i % 3) as usize];
            let resp = answer(&inv, status);
            t.respond(now, &key, resp.clone()).unwrap();
            if status == 200 {
                let mut ack = raw(
                    "ACK",
                    "sip:+13125550100@uac.example",
                    &format!("SIP/2.0/UDP uac.example:5060;branch=z9hG4bKack{i}"),
                    "<sip:911@gw.example>;tag=gw9",
                    &format!("{} ACK", i + 1),
                );
                ack.headers.set(HeaderName::CallId, "call-1@trunk.example");
                assert_eq!(t.on_request(now, &ack), Incoming::AckOutsideTransaction);
            } else {
                let ack = sip_proto::engine::ack_for_non_2xx(&inv, &resp);
                t.on_request(now, &ack);
            }
            let opt = req("OPTIONS", &format!("z9hG4bKopt{i}"), i + 1);
            let okey = new_key(t.on_request(now, &opt));
            t.respond(now, &okey, answer(&opt, 200)).unwrap();
            while t.poll_transmit().is_some() {}
            while t.poll_event().is_some() {}
            t.handle_timeout(now);
            max_live = max_live.max(t.len());
        }
        // Only what lingers for at most 64*T1 is alive: the transactions of the last window.
        let window = (32_000 / STEP_MS) as usize + 1;
        let bound = match reliability {
            // Only Accepted INVITEs (one in three) linger (Timer L).
            Reliability::Reliable => window / 3 + 1,
            // Accepted, Confirmed (Timer I) and Completed non-INVITE (Timer J).
            Reliability::Unreliable => 2 * window,
        };
        assert!(max_live <= bound, "{reliability:?}: {max_live} > {bound}");
        assert!(max_live > 0);
        now += ms(64 * 500);
        t.handle_timeout(now);
        assert_eq!(t.len(), 0, "{reliability:?}");
        assert_eq!(t.poll_timeout(), None);
        let terminated = std::iter::from_fn(|| t.poll_event())
            .filter(|e| matches!(e, ServerEvent::AckTimeout { .. }))
            .count();
        assert_eq!(terminated, 0, "every final was acknowledged");
    }
}
