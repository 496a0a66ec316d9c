//! `--metrics-listen ADDR`: live metrics while a run goes on, as OpenMetrics text (which
//! Prometheus scrapes), written by `prometheus-client` and served over HTTP by hyper.
//!
//! - `load`: calls by outcome, calls issued, in-progress calls, setup latency (from the intended
//!   start, answered calls) and generator lag histograms, TLS handshakes by kind (full,
//!   resumed), the target rate. [`LoadMetrics`] is fed by the run's aggregator (one task), so a
//!   call costs a few atomic adds.
//! - `gateway`: the gateway's own counters (INVITEs, answers, rejections, BYEs, OPTIONS,
//!   connections, TLS handshakes by kind), read at scrape time ([`GatewayCollector`]).
//!
//! The report files remain the record of a run; these are for watching it.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric as _};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::metrics::{CLASS_NAMES, CallResult};

/// The content type of OpenMetrics text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Labels = Vec<(&'static str, &'static str)>;

/// The live metrics of a load generator.
#[derive(Debug)]
pub struct LoadMetrics {
    calls: [Counter; 4],
    issued: Counter,
    in_progress: Gauge,
    target_rate: Gauge<f64, std::sync::atomic::AtomicU64>,
    setup: Histogram,
    lag: Histogram,
    tls: [Counter; 2],
}

impl LoadMetrics {
    /// Registers the families in `registry` (prefix `e911_load_`).
    pub fn register(registry: &mut Registry, shard: &str) -> Arc<LoadMetrics> {
        let r = registry.sub_registry_with_label(("shard".into(), shard.to_owned().into()));
        let calls = Family::<Labels, Counter>::default();
        let tls = Family::<Labels, Counter>::default();
        let m = LoadMetrics {
            calls: CLASS_NAMES.map(|o| calls.get_or_create(&vec![("outcome", o)]).clone()),
            issued: Counter::default(),
            in_progress: Gauge::default(),
            target_rate: Gauge::default(),
            // 100 us .. ~13 s.
            setup: Histogram::new(exponential_buckets(0.000_1, 2.0, 18)),
            // 10 us .. ~0.33 s.
            lag: Histogram::new(exponential_buckets(0.000_01, 2.0, 16)),
            tls: ["full", "resumed"].map(|k| tls.get_or_create(&vec![("kind", k)]).clone()),
        };
        r.register(
            "e911_load_calls",
            "Attempted calls by outcome (each call ends in exactly one)",
            calls,
        );
        r.register(
            "e911_load_calls_issued",
            "Calls the open-loop schedule issued",
            m.issued.clone(),
        );
        r.register(
            "e911_load_calls_in_progress",
            "Calls started and not yet ended",
            m.in_progress.clone(),
        );
        r.register(
            "e911_load_target_rate",
            "Calls per second the schedule offers now (this shard)",
            m.target_rate.clone(),
        );
        // The unit is in the name only: a `# UNIT` line on a histogram trips some parsers.
        r.register(
            "e911_load_setup_seconds",
            "Intended start to final response of answered calls, in seconds",
            m.setup.clone(),
        );
        r.register(
            "e911_load_generator_lag_seconds",
            "INVITE write minus intended start (the generator's own delay), in seconds",
            m.lag.clone(),
        );
        r.register(
            "e911_load_tls_handshakes",
            "TLS handshakes by kind (full: the server signed; resumed: no signature)",
            tls,
        );
        Arc::new(m)
    }

    /// Folds one finished call in.
    pub fn record(&self, c: &CallResult) {
        let class = c.outcome.class();
        self.calls[class].inc();
        if let Some(lag) = c.lag_us {
            self.lag.observe(lag as f64 / 1e6);
            if let (0, Some(fin)) = (class, c.final_us) {
                self.setup.observe((lag + fin) as f64 / 1e6);
            }
        }
        if c.tls_handshake_us.is_some() {
            self.handshake(c.tls_resumed);
        }
    }

    /// Counts a handshake.
    pub fn handshake(&self, resumed: bool) {
        self.tls[usize::from(resumed)].inc();
    }

    /// Counts issued calls.
    pub fn issued(&self, n: u64) {
        self.issued.inc_by(n);
    }

    /// Sets the in-progress gauge and the target rate.
    pub fn set_now(&self, in_progress: u64, rate: f64) {
        self.in_progress
            .set(i64::try_from(in_progress).unwrap_or(i64::MAX));
        self.target_rate.set(rate);
    }
}

/// The counters of running gateways, read at each scrape.
pub struct GatewayCollector {
    stats: Box<dyn Fn() -> Vec<(String, mock_gateway::Stats)> + Send + Sync>,
}

impl std::fmt::Debug for GatewayCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GatewayCollector")
    }
}

impl GatewayCollector {
    /// `stats` returns (gateway name, counters) of each gateway.
    pub fn new(
        stats: impl Fn() -> Vec<(String, mock_gateway::Stats)> + Send + Sync + 'static,
    ) -> GatewayCollector {
        GatewayCollector {
            stats: Box::new(stats),
        }
    }
}

impl Collector for GatewayCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let all = (self.stats)();
        type Pick = fn(&mock_gateway::Stats) -> u64;
        let families: [(&str, &str, Option<&str>, Pick); 8] = [
            (
                "e911_gateway_invites",
                "New INVITE transactions",
                None,
                |s| s.invites,
            ),
            ("e911_gateway_answered", "INVITEs answered 200", None, |s| {
                s.answered
            }),
            (
                "e911_gateway_rejected",
                "INVITEs answered >= 300",
                None,
                |s| s.rejected,
            ),
            ("e911_gateway_byes", "BYEs answered", None, |s| s.byes),
            ("e911_gateway_options", "OPTIONS answered", None, |s| {
                s.options
            }),
            (
                "e911_gateway_connections",
                "Connections accepted",
                None,
                |s| s.connections,
            ),
            (
                "e911_gateway_tls_handshakes",
                "TLS handshakes completed, by kind",
                Some("full"),
                |s| s.tls_full,
            ),
            (
                "e911_gateway_tls_handshakes",
                "TLS handshakes completed, by kind",
                Some("resumed"),
                |s| s.tls_resumed,
            ),
        ];
        let mut k = 0;
        while k < families.len() {
            let (name, help, _, _) = families[k];
            let counter = ConstCounter::new(0u64);
            let mut fam = encoder.encode_descriptor(name, help, None, counter.metric_type())?;
            // One descriptor per name, every (gateway, kind) under it.
            while k < families.len() && families[k].0 == name {
                let (_, _, kind, pick) = families[k];
                for (gw, stats) in &all {
                    let mut labels: Vec<(&str, &str)> = vec![("gateway", gw.as_str())];
                    if let Some(kind) = kind {
                        labels.push(("kind", kind));
                    }
                    let enc = fam.encode_family(&labels)?;
                    ConstCounter::new(pick(stats)).encode(enc)?;
                }
                k += 1;
            }
        }
        Ok(())
    }
}

/// The OpenMetrics text of `registry`, `# EOF` included.
pub fn render(registry: &Registry) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, registry);
    out
}

/// Binds `addr` for the metrics endpoint; the error names the flag and the address.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, String> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| format!("--metrics-listen {addr}: {e}"))
}

/// Serves `GET /metrics` (and `/`) from `registry` until `stop`; anything else gets 404.
pub async fn serve(listener: TcpListener, registry: Arc<Registry>, stop: CancellationToken) {
    let conns = tokio_util::task::TaskTracker::new();
    loop {
        let accepted = tokio::select! {
            () = stop.cancelled() => break,
            a = listener.accept() => a,
        };
        let Ok((tcp, _)) = accepted else {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        };
        let registry = registry.clone();
        let stop = stop.clone();
        conns.spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let registry = registry.clone();
                async move { Ok::<_, std::convert::Infallible>(answer(&req, &registry)) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), service);
            tokio::select! {
                _ = conn => {}
                () = stop.cancelled() => {}
            }
        });
    }
    conns.close();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), conns.wait()).await;
}

fn answer(req: &Request<Incoming>, registry: &Registry) -> Response<Full<Bytes>> {
    let (status, ctype, body) = match (req.method(), req.uri().path()) {
        (&hyper::Method::GET, "/metrics" | "/") => (StatusCode::OK, CONTENT_TYPE, render(registry)),
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "not found: the metrics are at GET /metrics\n".to_owned(),
        ),
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    if let Ok(v) = hyper::header::HeaderValue::from_str(ctype) {
        resp.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    resp
}

/// A metrics endpoint running in the background; dropping it does not stop it, [`Self::stop`]
/// does.
#[derive(Debug)]
pub struct Endpoint {
    /// The bound address.
    pub addr: SocketAddr,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Endpoint {
    /// Binds `addr` and serves `registry` on the current runtime.
    pub async fn start(addr: SocketAddr, registry: Arc<Registry>) -> Result<Endpoint, String> {
        Ok(Endpoint::serve(bind(addr).await?, registry))
    }

    /// Serves `registry` on a bound listener, on the current runtime.
    pub fn serve(listener: TcpListener, registry: Arc<Registry>) -> Endpoint {
        let addr = listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
        let stop = CancellationToken::new();
        let task = tokio::spawn(serve(listener, registry, stop.clone()));
        Endpoint { addr, stop, task }
    }

    /// Stops serving and waits for the server task.
    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::metrics::Outcome;

    #[test]
    fn load_metrics_render_as_openmetrics() {
        let mut reg = Registry::default();
        let m = LoadMetrics::register(&mut reg, "0/1");
        let mut c = CallResult::errored(0, 0, "");
        c.outcome = Outcome::Answered;
        c.lag_us = Some(20);
        c.final_us = Some(1_500);
        c.tls_handshake_us = Some(300);
        m.record(&c);
        m.record(&CallResult::errored(0, 0, "tcp_connect_failed"));
        m.issued(2);
        m.set_now(3, 100.0);
        let text = render(&reg);
        let parsed = openmetrics_parser::openmetrics::parse_openmetrics(&text)
            .unwrap_or_else(|e| panic!("{e:?}\n{text}"));
        assert!(
            parsed.families.contains_key("e911_load_setup_seconds"),
            "{text}"
        );
        assert!(
            text.contains("e911_load_calls_total{shard=\"0/1\",outcome=\"answered\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("e911_load_tls_handshakes_total{shard=\"0/1\",kind=\"full\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("e911_load_calls_in_progress{shard=\"0/1\"} 3"),
            "{text}"
        );
    }

    #[test]
    fn gateway_counters_render_as_openmetrics() {
        let mut reg = Registry::default();
        reg.register_collector(Box::new(GatewayCollector::new(|| {
            vec![(
                "gw1".to_owned(),
                mock_gateway::Stats {
                    invites: 5,
                    tls_full: 2,
                    tls_resumed: 1,
                    ..Default::default()
                },
            )]
        })));
        let text = render(&reg);
        openmetrics_parser::openmetrics::parse_openmetrics(&text)
            .unwrap_or_else(|e| panic!("{e:?}\n{text}"));
        assert!(
            text.contains("e911_gateway_invites_total{gateway=\"gw1\"} 5"),
            "{text}"
        );
        assert!(
            text.contains("e911_gateway_tls_handshakes_total{gateway=\"gw1\",kind=\"resumed\"} 1"),
            "{text}"
        );
    }
}
