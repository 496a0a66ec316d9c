//! Properties of the engine under arbitrary interleavings: no panic, deadlines never in the past,
//! and every transaction gone once the TU has answered and the timers have run out.

#![allow(
    clippy::disallowed_methods,
    reason = "a virtual clock starts at Instant::now(); every later instant is that plus a Duration"
)]

use std::time::{Duration, Instant};

use proptest::prelude::*;
use sip_proto::engine::{
    Incoming, Reliability, ServerTransactions, Timers, TxKey, ack_for_non_2xx, cancel_for,
};
use sip_proto::{Message, Request, Response};

fn req(method: &str, branch: u8, seq: u8, transport: &str) -> Request {
    let text = format!(
        "{method} sip:911@gw SIP/2.0\r\nVia: SIP/2.0/{transport} uac:5060;branch=z9hG4bK{branch}\r\n\
         From: <sip:a@b>;tag=f\r\nTo: <sip:911@gw>\r\nCall-ID: c\r\nCSeq: {seq} {method}\r\n\r\n"
    );
    match Message::parse(text.as_bytes()) {
        Ok(Message::Request(r)) => r,
        other => panic!("{other:?}"),
    }
}

#[derive(Debug, Clone)]
enum Op {
    Invite(u8),
    Options(u8),
    Cancel(u8),
    AckFinal(u8, u16),
    Respond(u8, u16),
    Advance(u16),
}

fn op() -> impl Strategy<Value = Op> {
    let status = prop_oneof![
        Just(100u16),
        Just(180),
        Just(200),
        Just(486),
        Just(503),
        0u16..800
    ];
    prop_oneof![
        (0u8..6).prop_map(Op::Invite),
        (0u8..6).prop_map(Op::Options),
        (0u8..6).prop_map(Op::Cancel),
        ((0u8..6), status.clone()).prop_map(|(b, s)| Op::AckFinal(b, s)),
        ((0u8..12), status).prop_map(|(i, s)| Op::Respond(i, s)),
        (0u16..5000).prop_map(Op::Advance),
    ]
}

proptest! {
    #[test]
    fn server_table_survives_any_interleaving(
        ops in proptest::collection::vec(op(), 0..80),
        reliable in any::<bool>(),
    ) {
        let r = if reliable { Reliability::Reliable } else { Reliability::Unreliable };
        let transport = if reliable { "TLS" } else { "UDP" };
        let mut t = ServerTransactions::new(Timers::default(), r).auto_trying(reliable);
        let t0 = Instant::now();
        let mut now = t0;
        let mut seen: Vec<(TxKey, Request)> = vec![];
        for op in ops {
            let incoming = match &op {
                Op::Invite(b) => Some((req("INVITE", *b, 1, transport), t.on_request(now, &req("INVITE", *b, 1, transport)))),
                Op::Options(b) => Some((req("OPTIONS", *b, 2, transport), t.on_request(now, &req("OPTIONS", *b, 2, transport)))),
                Op::Cancel(b) => {
                    let c = cancel_for(&req("INVITE", *b, 1, transport));
                    let inc = t.on_request(now, &c);
                    Some((c, inc))
                }
                Op::AckFinal(b, s) => {
                    let inv = req("INVITE", *b, 1, transport);
                    let resp = Response::for_request(&inv, *s, Some("g"));
                    t.on_request(now, &ack_for_non_2xx(&inv, &resp));
                    None
                }
                Op::Respond(i, s) => {
                    if let Some((k, rq)) = seen.get(*i as usize).cloned() {
                        let resp = Response { status: *s, ..Response::for_request(&rq, 200, Some("g")) };
                        let _ = t.respond(now, &k, resp);
                    }
                    None
                }
                Op::Advance(ms) => {
                    now += Duration::from_millis(u64::from(*ms));
                    t.handle_timeout(now);
                    None
                }
            };
            if let Some((rq, inc)) = incoming {
                match inc {
                    Incoming::New(k) => seen.push((k, rq)),
                    Incoming::Cancel { cancel, .. } => seen.push((cancel, rq)),
                    _ => {}
                }
            }
            if let Some(at) = t.poll_timeout() {
                prop_assert!(at > now, "a deadline at or before now was left unhandled");
            }
            while t.poll_transmit().is_some() {}
            while t.poll_event().is_some() {}
        }
        // The TU answers whatever is still open, then the timers run out: nothing is left.
        for (k, rq) in &seen {
            let _ = t.respond(now, k, Response::for_request(rq, 500, Some("g")));
        }
        now += Duration::from_secs(120);
        t.handle_timeout(now);
        prop_assert_eq!(t.len(), 0);
        prop_assert_eq!(t.poll_timeout(), None);
    }
}
