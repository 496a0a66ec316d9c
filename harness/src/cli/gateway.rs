//! `e911-harness gateway`: one mock gateway in the foreground, for a real originator (a lab
//! trunk or SBC) to call. Every observation is printed to stdout as one JSON line; logs go to
//! stderr. Without `--cert/--key` a CA and a certificate are generated into `--certs-dir` so the
//! originator can be given the CA to trust.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use mock_gateway::{Gateway, GatewayConfig, Limits, Policy, Retain};
use scenarios::UnknownOrgPolicy;
use sip::transport::certs::{self, Authority, KeyKind, Validity};
use sip::transport::{self, TransportKind};

use crate::evidence::options::EvidenceArgs;
use crate::evidence::recording::{CERTIFY_CAPTURE_BYTES, Recording};
use crate::evidence::trace::Lanes;
use crate::exit::{BadInput, EXIT_PASSED, EXIT_USAGE};
use crate::originate::peer::read_pem;
use crate::originate::tls::TlsProfileName;

/// `gateway` options.
#[derive(Debug, Args)]
pub struct GatewayArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:5061")]
    pub listen: SocketAddr,
    /// Transport.
    #[arg(long, default_value = "tls")]
    pub transport: TransportKind,
    /// Organization id (UUID) to accept; repeat for several [default: the harness's lab org].
    #[arg(long = "org", value_name = "UUID")]
    pub orgs: Vec<String>,
    /// Accept calls with an unknown org (recorded as routed to the fallback centre) instead of 403.
    #[arg(long)]
    pub accept_unknown_org: bool,
    /// Carry SRTP media on answered calls (ICD 4): the answer's port (UDP 30000-60000) is
    /// bound, SRTP goes to the offer's address from the 200 OK to the BYE, and what arrives is
    /// recorded on the BYE's observation (`media_flow`).
    #[arg(long)]
    pub media: bool,
    /// Location table (TOML: `unknown_ani` and `[[location]]` rows, ICD 5.2): routes each ANI to
    /// its PSAP and makes a 933 read back the registered address.
    #[arg(long, value_name = "FILE")]
    pub locations: Option<PathBuf>,
    /// Certificate chain (PEM). Without --cert/--key, a CA and certificate are generated.
    #[arg(long, requires = "key")]
    pub cert: Option<PathBuf>,
    /// TLS profile the gateway enforces: `any` (accept what the trunk offers, and record it) or
    /// `genesys-byoc` (TLS 1.2 only, ECDHE secp384r1, the RSA AES-GCM suites; ICD 5.1).
    #[arg(long, value_enum, default_value_t = TlsProfileName::Any)]
    pub tls_profile: TlsProfileName,
    /// Private key (PEM).
    #[arg(long, requires = "cert")]
    pub key: Option<PathBuf>,
    /// Where generated certificates are written.
    #[arg(long, default_value = "out/gateway-certs")]
    pub certs_dir: PathBuf,
    /// Gateway name in observations.
    #[arg(long, default_value = "gw1")]
    pub name: String,
    /// Host name the gateway answers as.
    #[arg(long, default_value = "gw1.anywhere.e911cloud.com")]
    pub host: String,
    /// Stop after this long (default: until SIGINT or SIGTERM).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub duration: Option<Duration>,
    /// Print no observations, only a count of calls every 10 s and at exit (capacity runs: the
    /// gateway then keeps nothing per call).
    #[arg(long)]
    pub quiet: bool,
    /// Connection and message limits (admission control).
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Serve the gateway's counters as OpenMetrics (Prometheus) text at http://ADDR/metrics.
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,
    /// `--pcap` (every message the gateway sent and received, written at exit), `--tls-keylog`.
    #[command(flatten)]
    pub evidence: EvidenceArgs,
}

/// Runs the gateway until SIGINT/SIGTERM or `--duration`.
pub async fn run(a: GatewayArgs) -> anyhow::Result<u8> {
    for org in &a.orgs {
        if !scenarios::is_canonical_uuid(org) {
            eprintln!("error: --org {org}: expected a canonical UUID (8-4-4-4-12 hex digits)");
            return Ok(EXIT_USAGE);
        }
    }
    let recording = a.evidence.recording(None, CERTIFY_CAPTURE_BYTES)?;
    let tls = match a.transport {
        TransportKind::Tcp => None,
        TransportKind::Tls => {
            let (cert, key) = match (&a.cert, &a.key) {
                (Some(c), Some(k)) => (
                    read_pem(c).map_err(|e| BadInput::new(format!("--cert: {e}")))?,
                    read_pem(k).map_err(|e| BadInput::new(format!("--key: {e}")))?,
                ),
                _ => {
                    let ca = Authority::generate("e911-harness gateway CA")?;
                    let ip = a.listen.ip().to_string();
                    let names = [a.host.as_str(), "localhost", ip.as_str()];
                    let leaf = ca.issue(&names, KeyKind::Rsa2048, Validity::Current)?;
                    let files =
                        certs::write_bundle(&a.certs_dir, &ca, &[(a.name.as_str(), &leaf)])?;
                    eprintln!("generated certificates (give the originator ca.pem to trust):");
                    for f in files {
                        eprintln!("  {}", f.display());
                    }
                    (leaf.cert_pem.into_bytes(), leaf.key_pem.into_bytes())
                }
            };
            // Certificates given with --cert/--key that do not load are the user's input.
            let built = transport::server_config(&cert, &key, &a.tls_profile.spec());
            Some(match (built, &a.cert) {
                (Ok(c), _) => recording.server(c),
                (Err(e), Some(c)) => {
                    return Err(BadInput::new(format!(
                        "--cert {} / --key: cannot build the TLS server configuration: {e}",
                        c.display()
                    ))
                    .into());
                }
                (Err(e), None) => {
                    return Err(
                        anyhow::Error::new(e).context("building the TLS server configuration")
                    );
                }
            })
        }
    };
    let mut policy = Policy {
        media: a.media,
        ..Policy::default()
    };
    if !a.orgs.is_empty() {
        policy.orgs = a.orgs.clone();
    }
    if a.accept_unknown_org {
        policy.unknown_org = UnknownOrgPolicy::Accept;
    }
    if let Some(path) = &a.locations {
        let table = scenarios::load_location_table(path)
            .map_err(|e| BadInput::new(format!("--locations:\n{e}")))?;
        policy.location = table.entries;
        policy.unknown_ani = table.unknown_ani;
    }
    let gw = Gateway::start(GatewayConfig {
        name: a.name.clone(),
        host: a.host.clone(),
        listen: a.listen,
        transport: a.transport,
        tls,
        policy,
        limits: a.limits.limits(),
        // Observations stream to stdout as they happen; none is kept in memory.
        retain: Retain::None,
        epoch: Some(recording.epoch().0),
        capture: recording.capture().cloned(),
        ..GatewayConfig::default()
    })
    .await
    .with_context(|| format!("starting the gateway on {}", a.listen))?;
    let gw = std::sync::Arc::new(gw);
    let metrics = match a.metrics_listen {
        Some(addr) => {
            let mut registry = prometheus_client::registry::Registry::default();
            let g = gw.clone();
            registry.register_collector(Box::new(crate::load::live::GatewayCollector::new(
                move || vec![(g.name().to_owned(), g.stats())],
            )));
            match crate::load::live::Endpoint::start(addr, std::sync::Arc::new(registry)).await {
                Ok(ep) => {
                    eprintln!("metrics: http://{}/metrics (OpenMetrics)", ep.addr);
                    Some(ep)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(EXIT_USAGE);
                }
            }
        }
        None => None,
    };
    eprintln!(
        "gateway {} listening on {} ({}); {}; Ctrl-C stops",
        a.name,
        gw.local_addr(),
        a.transport,
        if a.quiet {
            "counts every 10 s (--quiet)"
        } else {
            "observations follow as JSON lines"
        }
    );
    // SIGINT or SIGTERM stops it cleanly, with or without --duration.
    let stop = async {
        let interrupted = crate::signals::shutdown_token().cancelled_owned();
        match a.duration {
            Some(d) => tokio::select! {
                () = tokio::time::sleep(d) => {}
                () = interrupted => {}
            },
            None => interrupted.await,
        }
    };
    tokio::pin!(stop);
    if a.quiet {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(10));
        tick.tick().await;
        loop {
            tokio::select! {
                _ = &mut stop => break,
                _ = tick.tick() => eprintln!("{}", counts(&gw.stats())),
            }
        }
        eprintln!("{}", counts(&gw.stats()));
        finish(gw, metrics, &a, &recording).await?;
        return Ok(EXIT_PASSED);
    }
    let mut rx = gw.subscribe();
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    loop {
        tokio::select! {
            _ = &mut stop => break,
            obs = rx.recv() => match obs {
                Ok(o) => {
                    if let Ok(line) = serde_json::to_string(&o) {
                        let _ = writeln!(stdout, "{line}");
                    }
                    // Flush when nothing else is waiting: whole lines, without a syscall each.
                    if rx.is_empty() {
                        let _ = stdout.flush();
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => eprintln!("warning: {n} observations not printed (output too slow)"),
                Err(_) => break,
            }
        }
    }
    let _ = stdout.flush();
    drop(stdout);
    // The counts (admission refusals and idle closes included) go to stderr at exit.
    eprintln!("{}", counts(&gw.stats()));
    finish(gw, metrics, &a, &recording).await?;
    Ok(EXIT_PASSED)
}

/// Stops the metrics endpoint (which holds the gateway for its scrapes), then the gateway, and
/// writes its trace (`--pcap`).
async fn finish(
    gw: std::sync::Arc<Gateway>,
    metrics: Option<crate::load::live::Endpoint>,
    a: &GatewayArgs,
    recording: &Recording,
) -> anyhow::Result<()> {
    if let Some(ep) = metrics {
        ep.stop().await;
    }
    let lanes = Lanes {
        gateways: vec![(gw.local_addr(), a.name.clone())],
        other: "originator".into(),
    };
    match std::sync::Arc::try_unwrap(gw) {
        Ok(gw) => gw.shutdown().await,
        Err(_) => tracing::warn!("gateway still referenced at exit; not waiting for its tasks"),
    }
    a.evidence.finish(recording, &lanes)
}

fn counts(s: &mock_gateway::Stats) -> String {
    format!(
        "calls: {} INVITEs, {} answered, {} rejected, {} BYEs, {} OPTIONS, {} connections, \
         TLS handshakes {} full + {} resumed; refused: {} over --max-connections, {} over \
         --max-connections-per-source; {} closed without a request in time",
        s.invites,
        s.answered,
        s.rejected,
        s.byes,
        s.options,
        s.connections,
        s.tls_full,
        s.tls_resumed,
        s.refused_total,
        s.refused_per_source,
        s.closed_idle
    )
}

/// The gateway's admission and message limits as flags (the defaults are [`Limits::default`]'s,
/// checked by a test).
#[derive(Debug, Clone, clap::Args)]
pub struct LimitArgs {
    /// Connections served at once; one more is closed at once (never left in the backlog).
    #[arg(long, default_value = "1024", value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub max_connections: u32,
    /// Connections served at once from one source address.
    #[arg(long, default_value = "256", value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub max_connections_per_source: u32,
    /// Largest SIP message accepted, in bytes (larger: 513 and a close).
    #[arg(long, default_value = "65536", value_parser = clap::value_parser!(u32).range(256..=16_777_216))]
    pub max_message_bytes: u32,
    /// How long a started message or TLS handshake may take to arrive.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub read_timeout: std::time::Duration,
    /// How long a new connection may go without a request (keep-alive CRLFs do not count).
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub first_request_timeout: std::time::Duration,
    /// How long a connection may go between requests (keep-alive CRLFs do not count).
    #[arg(long, default_value = "300s", value_parser = humantime::parse_duration)]
    pub idle_timeout: std::time::Duration,
}

impl LimitArgs {
    /// The limits these flags say.
    pub fn limits(&self) -> Limits {
        Limits {
            max_connections: self.max_connections as usize,
            max_connections_per_source: self.max_connections_per_source as usize,
            max_message_bytes: self.max_message_bytes as usize,
            read_timeout: self.read_timeout,
            first_request_timeout: self.first_request_timeout,
            idle_timeout: self.idle_timeout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Probe {
        #[command(flatten)]
        limits: LimitArgs,
    }

    #[test]
    fn the_flag_defaults_are_the_gateway_defaults() {
        let p = Probe::parse_from(["probe"]);
        assert_eq!(p.limits.limits(), Limits::default());
    }
}
