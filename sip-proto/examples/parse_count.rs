//! Runs one of the `parse` bench workloads a fixed number of times, for instruction counts that
//! do not depend on how busy the machine is:
//!
//! ```text
//! cargo build --release -p sip-proto --example parse_count
//! valgrind --tool=callgrind target/release/examples/parse_count parse_invite 10000
//! ```
//!
//! Instructions per message: the difference between two runs (say 10000 and 20000 iterations)
//! divided by the difference in iterations, which cancels the start-up cost.

use std::hint::black_box;

use bytes::BytesMut;
use sip_proto::message::Message;

#[path = "../benches/common/mod.rs"]
mod common;
use common::{invite, ok_200};

fn main() {
    let mut args = std::env::args().skip(1);
    let what = args.next().unwrap_or_else(|| "parse_invite".into());
    let n: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let req = invite();
    let wire = req.to_bytes();
    let resp_wire = ok_200(&req).to_bytes();
    for _ in 0..n {
        match what.as_str() {
            "parse_invite" => {
                black_box(Message::parse_bytes(black_box(wire.clone())).unwrap());
            }
            "parse_200_ok" => {
                black_box(Message::parse_bytes(black_box(resp_wire.clone())).unwrap());
            }
            "build_invite" => {
                let r = invite();
                let mut buf = BytesMut::with_capacity(1400);
                black_box(&r).encode(&mut buf);
                black_box(buf.freeze());
            }
            "build_200_ok" => {
                let r = ok_200(black_box(&req));
                let mut buf = BytesMut::with_capacity(1400);
                r.encode(&mut buf);
                black_box(buf.freeze());
            }
            other => panic!("unknown workload {other}"),
        }
    }
}
