//! `--metrics-listen`: scraped over HTTP while a run goes on, parsed as OpenMetrics.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command as Process, Stdio};
use std::time::Duration;

use clap::Parser;
use harness::cli::{Cli, Command};
use harness::load::{self, Hooks, LoadArgs};

fn args(extra: &[&str]) -> LoadArgs {
    let mut v = vec!["e911-harness", "load"];
    v.extend_from_slice(extra);
    match Cli::try_parse_from(v) {
        Ok(Cli {
            command: Command::Load(a),
        }) => a,
        other => panic!("{other:?}"),
    }
}

/// GET `path` over HTTP/1.1 (one request, connection closed); (status line, headers, body).
fn get(addr: SocketAddr, path: &str) -> (String, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let (status, headers) = head.split_once("\r\n").unwrap();
    (status.to_owned(), headers.to_lowercase(), body.to_owned())
}

fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_during_a_load_run_parses_as_openmetrics() {
    let dir = tempfile::tempdir().unwrap();
    let a = args(&[
        "--rate",
        "50",
        "--duration",
        "6s",
        "--max-lag",
        "60s",
        "--metrics-listen",
        "127.0.0.1:0",
        "--quiet",
        "--out",
        dir.path().join("live").to_str().unwrap(),
    ]);
    let (tx, rx) = tokio::sync::oneshot::channel();
    let run = tokio::spawn(load::load_with(
        a,
        Hooks {
            metrics_bound: Some(tx),
        },
    ));
    let addr = rx
        .await
        .expect("the endpoint is bound before the run starts");
    let answered = "e911_load_calls_total{shard=\"0/1\",outcome=\"answered\"}";
    // Scrape until a call has been answered (bounded: the run lasts 6 s).
    let mut scraped = None;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let got = tokio::task::spawn_blocking(move || get(addr, "/metrics"))
            .await
            .unwrap();
        if value(&got.2, answered) >= 1.0 {
            scraped = Some(got);
            break;
        }
    }
    let (status, headers, body) = scraped.expect("a call answered within 5 s");
    assert!(status.contains("200"), "{status}");
    assert!(
        headers.contains("application/openmetrics-text"),
        "{headers}"
    );
    let parsed = openmetrics_parser::openmetrics::parse_openmetrics(&body)
        .unwrap_or_else(|e| panic!("{e:?}\n{body}"));
    for family in [
        "e911_load_calls",
        "e911_load_calls_in_progress",
        "e911_load_setup_seconds",
        "e911_load_generator_lag_seconds",
        "e911_load_tls_handshakes",
        "e911_gateway_invites",
    ] {
        assert!(parsed.families.contains_key(family), "{family}\n{body}");
    }
    // Mid-run: calls have been answered, and not all 300 of the run yet.
    let n = value(&body, answered);
    assert!((1.0..300.0).contains(&n), "{n}\n{body}");
    let (status, _, _) = tokio::task::spawn_blocking(move || get(addr, "/nope"))
        .await
        .unwrap();
    assert!(status.contains("404"), "{status}");
    assert_eq!(run.await.unwrap().unwrap(), 0);
}

#[test]
fn the_gateway_subcommand_serves_its_counters() {
    let mut child = Process::new(env!("CARGO_BIN_EXE_e911-harness"))
        .args([
            "gateway",
            "--transport",
            "tcp",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
            "--duration",
            "20s",
            "--quiet",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read stderr to its end in a thread (a closed pipe would fail the gateway's next line).
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    let drain = std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("metrics: http://") {
                let _ = tx.send(rest.split_once('/').and_then(|(a, _)| a.parse().ok()));
            }
        }
    });
    let addr = rx.recv_timeout(Duration::from_secs(20)).ok().flatten();
    let addr: SocketAddr = addr.expect("the gateway prints where its metrics are");
    let (status, _, body) = get(addr, "/metrics");
    let _ = child.kill();
    let _ = child.wait();
    let _ = drain.join();
    assert!(status.contains("200"), "{status}");
    let parsed = openmetrics_parser::openmetrics::parse_openmetrics(&body)
        .unwrap_or_else(|e| panic!("{e:?}\n{body}"));
    assert!(
        parsed.families.contains_key("e911_gateway_connections"),
        "{body}"
    );
    assert_eq!(
        value(&body, "e911_gateway_invites_total{gateway=\"gw1\"}"),
        0.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metrics_address_in_use_is_a_usage_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never");
    let a = args(&[
        "--transport",
        "tcp",
        "--calls",
        "1",
        "--metrics-listen",
        &addr,
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(load::load_cmd(a).await.unwrap(), harness::exit::EXIT_USAGE);
    assert!(!out.exists(), "nothing ran, nothing was written");
}
