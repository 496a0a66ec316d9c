//! Closed-loop throughput of one mock gateway over loopback: each client connection runs
//! INVITE -> 100/180/200 -> ACK + BYE -> 200 back to back, and the figures are completed cycles
//! per wall-clock second and per CPU-second of the gateway's own threads, for 1 and for 8
//! connections. The gateway runs on its own 2-thread runtime (threads named `gw`), the client
//! on another (`uac`); CPU time is read per thread from /proc, so the per-CPU-second figure
//! holds up when the machine is shared, which the wall-clock one does not. The gateway keeps
//! no observations (`Retain::None`). No test asserts on any of this.
//!
//! ```text
//! cargo run --release -p mock-gateway --example throughput -- [seconds per run] [tls|tcp]
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use mock_gateway::{Gateway, GatewayConfig, Policy, Retain};
use rustls::pki_types::ServerName;
use sip::codec::{Frame, StreamDecoder};
use sip::message::SipHeaders;
use sip::transport::certs::{Authority, KeyKind, Validity};
use sip::transport::{TlsProfile, TransportKind, client_config, server_config};
use sip::{Message, Method, Response};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

const HOST: &str = "gw1.anywhere.e911cloud.com";
const ORG: &str = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
    m=audio 40000 RTP/SAVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n\
    a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n";

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

struct Client {
    io: Box<dyn Io>,
    buf: BytesMut,
    decoder: StreamDecoder,
}

impl Client {
    async fn response(&mut self) -> Response {
        loop {
            if let Some(Frame::Message(m)) = self.decoder.decode(&mut self.buf).expect("framing") {
                match Message::parse_bytes(m).expect("parse") {
                    Message::Response(r) => return r,
                    Message::Request(r) => panic!("unexpected request {}", r.method),
                }
            }
            let n = self.io.read_buf(&mut self.buf).await.expect("read");
            assert!(n > 0, "gateway closed");
        }
    }

    /// One call; returns when the BYE's 200 arrived.
    async fn call(&mut self, conn: usize, i: u64) {
        let call_id = format!("{conn}-{i}@bench");
        let from = format!("<sip:+13125550100@trunk.test>;tag=f{conn}x{i}");
        let common = |method: &str, branch: &str, cseq: u32, to: &str| {
            format!(
                "{method} sip:911@{HOST} SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5061;branch={branch}\r\n\
                 Max-Forwards: 70\r\nFrom: {from}\r\nTo: {to}\r\nCall-ID: {call_id}\r\n\
                 CSeq: {cseq} {method}\r\n"
            )
        };
        let invite = format!(
            "{}Contact: <sip:+13125550100@127.0.0.1;transport=tls>\r\n\
             P-Asserted-Identity: <sip:+13125550142@trunk.test;user=phone>\r\n\
             E911-Organization-ID: {ORG}\r\nContent-Type: application/sdp\r\n\
             Content-Length: {}\r\n\r\n{SDP}",
            common(
                "INVITE",
                &format!("z9hG4bKi{conn}x{i}"),
                1,
                &format!("<sip:911@{HOST}>")
            ),
            SDP.len()
        );
        self.io.write_all(invite.as_bytes()).await.expect("write");
        let ok = loop {
            let r = self.response().await;
            if r.status >= 200 {
                assert_eq!(r.status, 200, "{r:?}");
                break r;
            }
        };
        let to = ok.headers.get(&sip::HeaderName::To).expect("To").to_owned();
        let mut out = common("ACK", &format!("z9hG4bKa{conn}x{i}"), 1, &to);
        out.push_str("Content-Length: 0\r\n\r\n");
        out.push_str(&common("BYE", &format!("z9hG4bKb{conn}x{i}"), 2, &to));
        out.push_str("Content-Length: 0\r\n\r\n");
        self.io.write_all(out.as_bytes()).await.expect("write");
        let bye = self.response().await;
        assert_eq!(
            (bye.status, bye.cseq().map(|c| c.method)),
            (200, Some(Method::Bye))
        );
    }
}

async fn connect(addr: SocketAddr, tls: Option<Arc<rustls::ClientConfig>>) -> Client {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.set_nodelay(true).expect("nodelay");
    let io: Box<dyn Io> = match tls {
        Some(c) => Box::new(
            tokio_rustls::TlsConnector::from(c)
                .connect(ServerName::try_from(HOST).expect("name"), tcp)
                .await
                .expect("handshake"),
        ),
        None => Box::new(tcp),
    };
    Client {
        io,
        buf: BytesMut::with_capacity(16 * 1024),
        decoder: StreamDecoder::default(),
    }
}

fn rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib / 1024)
}

/// CPU seconds used so far by this process's threads whose name starts with `prefix`.
fn cpu_secs(prefix: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    let mut ticks = 0u64;
    for t in tasks.flatten() {
        let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
        if !comm.starts_with(prefix) {
            continue;
        }
        let stat = std::fs::read_to_string(t.path().join("stat")).unwrap_or_default();
        // Fields after the ")" that closes the name: state is field 3, utime 14, stime 15.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let f: Vec<&str> = rest.split_whitespace().collect();
        let n = |i: usize| {
            f.get(i - 3)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        ticks += n(14) + n(15);
    }
    // USER_HZ is 100 on Linux.
    ticks as f64 / 100.0
}

fn main() {
    let gw_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("gw")
        .enable_all()
        .build()
        .expect("gateway runtime");
    let uac_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("uac")
        .enable_all()
        .build()
        .expect("client runtime");
    uac_rt.block_on(bench(&gw_rt));
}

async fn bench(gw_rt: &tokio::runtime::Runtime) {
    let mut args = std::env::args().skip(1);
    let secs: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let use_tls = args.next().is_none_or(|t| t != "tcp");
    let ca = Authority::generate("bench CA").expect("ca");
    let leaf = ca
        .issue(&[HOST], KeyKind::EcdsaP256, Validity::Current)
        .expect("leaf");
    let server = server_config(
        leaf.cert_pem.as_bytes(),
        leaf.key_pem.as_bytes(),
        &TlsProfile::default(),
    )
    .expect("server config");
    let client = client_config(ca.cert_pem().as_bytes()).expect("client config");
    // Started from a task on the gateway's runtime, so its tasks run there.
    let gw = gw_rt
        .spawn(Gateway::start(GatewayConfig {
            transport: if use_tls {
                TransportKind::Tls
            } else {
                TransportKind::Tcp
            },
            tls: use_tls.then_some(server),
            policy: Policy {
                orgs: vec![ORG.to_owned()],
                ..Policy::default()
            },
            retain: Retain::None,
            ..GatewayConfig::default()
        }))
        .await
        .expect("start task")
        .expect("gateway");
    let addr = gw.local_addr();
    println!(
        "transport {}, {} cores, {secs} s per run, gateway (2 threads) and client (2 threads) \
         in one process",
        if use_tls { "TLS" } else { "TCP" },
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    for conns in [1usize, 8] {
        let before = gw.stats();
        let cpu_before = cpu_secs("gw");
        let deadline = Instant::now() + Duration::from_secs(secs);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..conns {
            let tls = use_tls.then(|| client.clone());
            tasks.push(tokio::spawn(async move {
                let mut cl = connect(addr, tls).await;
                let mut n = 0u64;
                while Instant::now() < deadline {
                    cl.call(c, n).await;
                    n += 1;
                }
                n
            }));
        }
        let mut total = 0;
        for t in tasks {
            total += t.await.expect("client task");
        }
        let took = started.elapsed().as_secs_f64();
        let gw_cpu = cpu_secs("gw") - cpu_before;
        let after = gw.stats();
        println!(
            "{conns} connection(s): {total} cycles in {took:.2} s = {:.0} cycles/s wall; \
             gateway threads used {gw_cpu:.2} CPU-s = {:.0} cycles per gateway CPU-second \
             (gateway counted {} INVITEs, {} answered, {} BYEs; RSS {} MiB)",
            total as f64 / took,
            total as f64 / gw_cpu.max(0.01),
            after.invites - before.invites,
            after.answered - before.answered,
            after.byes - before.byes,
            rss_mib()
        );
    }
    gw_rt.spawn(gw.shutdown()).await.expect("shutdown task");
}
