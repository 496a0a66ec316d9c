//! Parse and build+serialize throughput of a realistic 911 INVITE with SDP (~1 KiB) and of its
//! 200 OK. Target: at least 500,000 messages/s per core for each (2 us per message).
//!
//! `cargo bench -p sip-proto --bench parse -- --warm-up-time 1 --measurement-time 3`
//!
//! On a busy machine wall-clock figures are noisy: `sip-proto/benches/icount.sh` counts instructions
//! per message for the same workloads under callgrind (`examples/parse_count.rs`).

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sip_proto::message::Message;

mod common;
use common::{invite, ok_200};

fn benches(c: &mut Criterion) {
    let req = invite();
    let wire = req.to_bytes();
    assert!(
        (900..1300).contains(&wire.len()),
        "the INVITE is {} bytes",
        wire.len()
    );
    let resp = ok_200(&req);
    let resp_wire = resp.to_bytes();
    // The benchmark must measure a successful parse.
    assert!(Message::parse(&wire).unwrap().as_request().is_some());
    assert!(Message::parse(&resp_wire).unwrap().as_response().is_some());

    let mut g = c.benchmark_group("sip");
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse_invite_1k", |b| {
        b.iter(|| Message::parse_bytes(black_box(wire.clone())).unwrap())
    });
    g.bench_function("parse_200_ok", |b| {
        b.iter(|| Message::parse_bytes(black_box(resp_wire.clone())).unwrap())
    });
    g.bench_function("build_serialize_invite", |b| {
        b.iter(|| {
            let r = invite();
            let mut buf = BytesMut::with_capacity(1400);
            black_box(&r).encode(&mut buf);
            buf.freeze()
        })
    });
    g.bench_function("build_serialize_200_ok", |b| {
        b.iter(|| {
            let r = ok_200(black_box(&req));
            let mut buf = BytesMut::with_capacity(1400);
            r.encode(&mut buf);
            buf.freeze()
        })
    });
    g.finish();
}

criterion_group!(parse, benches);
criterion_main!(parse);
