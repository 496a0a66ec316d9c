//! A stable-toolchain fuzz target (proptest-driven, no nightly, no cargo-fuzz): arbitrary and
//! mutated inputs through everything that reads what a peer or a user sends, which must answer
//! or refuse and never panic:
//! - the SIP parser (`sip::Message::parse`), on random bytes and on mutated torture messages;
//! - the gateway's whole decision (`mock_gateway::decide::decide`) on whatever parses, and
//!   the answer it builds to whatever does not;
//! - SDP: the strict check, the offer reader and the answer;
//! - multipart bodies (`sip::multipart::parse`);
//! - the scenario loader (`scenarios::load_str`), on mutated library scenarios and random text.
//!
//! Bounded by a case count per target: `E911_FUZZ_CASES` (default 256, which `cargo test`
//! runs in seconds); `.ci/run` runs it again with more cases under a time limit.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn cases() -> u32 {
    std::env::var("E911_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    })
}

/// Every torture message, the seeds of the byte mutations.
fn seeds() -> Vec<Vec<u8>> {
    harness::torture::cases::corpus()
        .into_iter()
        .map(|(_, b, _)| b.to_vec())
        .collect()
}

/// A seed with random bytes overwritten, inserted and cut.
fn mutated(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let n = seeds.len();
    (
        0..n,
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..12),
    )
        .prop_map(move |(i, edits)| {
            let mut b = seeds[i].clone();
            for (at, byte, kind) in edits {
                if b.is_empty() {
                    b.push(byte);
                    continue;
                }
                let at = at.index(b.len());
                match kind {
                    0 => b[at] = byte,
                    1 => b.insert(at, byte),
                    _ => {
                        b.remove(at);
                    }
                }
            }
            b
        })
}

/// Parses `bytes`; a request goes through the gateway's decision, an error through the answer
/// built for it. Neither may panic.
fn judge(bytes: &[u8]) {
    let ctx = mock_gateway::decide::Context {
        host: "gw1.anywhere.e911cloud.com",
        local: std::net::SocketAddr::from(([127, 0, 0, 1], 5061)),
        transport: "tcp",
        record: true,
        media: None,
    };
    let policy = mock_gateway::Policy::default();
    match sip::Message::parse(bytes) {
        Ok(sip::Message::Request(r)) => {
            let d = mock_gateway::decide::decide(&r, &policy, &ctx);
            if let mock_gateway::decide::Plan::Respond(rs) = d.plan {
                for resp in rs {
                    let _ = resp.to_bytes();
                }
            }
        }
        Ok(sip::Message::Response(_)) => {}
        Err(e) => {
            let _ = e.to_string();
            let _ = e.status();
        }
    }
}

#[test]
fn fuzz_parser_and_gateway_decision() {
    let mut r = runner();
    r.run(&prop::collection::vec(any::<u8>(), 0..2048), |b| {
        judge(&b);
        Ok(())
    })
    .unwrap();
    let mut r = runner();
    r.run(&mutated(seeds()), |b| {
        judge(&b);
        Ok(())
    })
    .unwrap();
}

const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
    m=audio 40000 RTP/SAVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n\
    a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n";

#[test]
fn fuzz_sdp_and_multipart() {
    let sdp = |s: &str| {
        let strict = mock_gateway::strict::sdp_problem(s);
        let answer = mock_gateway::sdp_answer(s, std::net::Ipv4Addr::LOCALHOST.into());
        let _ = sip::sdp::first_audio(s);
        // Control bytes or a negative number never get an answer.
        if s.bytes().any(|b| b == 0) {
            assert!(strict.is_some(), "NUL passed the strict check: {s:?}");
        }
        let _ = answer;
    };
    let mut r = runner();
    r.run(&mutated(vec![OFFER.as_bytes().to_vec()]), |b| {
        sdp(&String::from_utf8_lossy(&b));
        Ok(())
    })
    .unwrap();
    let mut r = runner();
    r.run(&".{0,400}", |s| {
        sdp(&s);
        Ok(())
    })
    .unwrap();
    let part = format!("--b1\r\nContent-Type: application/sdp\r\n\r\n{OFFER}\r\n--b1--\r\n");
    let mut r = runner();
    r.run(
        &(
            mutated(vec![part.into_bytes()]),
            "[a-z0-9'()+_,./:=? -]{0,12}",
        ),
        |(body, boundary)| {
            let _ = sip::multipart::parse(&body, "b1");
            let _ = sip::multipart::parse(&body, &boundary);
            let _ = sip::multipart::boundary(&format!("multipart/mixed;boundary={boundary}"));
            Ok(())
        },
    )
    .unwrap();
}

#[test]
fn fuzz_scenario_loader() {
    let texts: Vec<Vec<u8>> = scenarios::SHIPPED_FILES
        .iter()
        .map(|f| f.text.as_bytes().to_vec())
        .collect();
    assert!(!texts.is_empty());
    let mut r = runner();
    r.run(&mutated(texts), |b| {
        if let Err(e) = scenarios::load_str(&String::from_utf8_lossy(&b), "fuzz.toml") {
            // Every problem has a position inside the text or none at all.
            for p in e.problems() {
                assert!(p.line <= b.len() + 1, "{p}");
            }
        }
        Ok(())
    })
    .unwrap();
    let mut r = runner();
    r.run(&"(?s).{0,300}", |s| {
        let _ = scenarios::load_str(&s, "fuzz.toml");
        Ok(())
    })
    .unwrap();
}
