//! The `e911-harness` command line: clap types and the subcommand drivers. `main.rs` only calls
//! [`main`], so tests can drive every subcommand in-process.
//!
//! Exit codes: 0 every check passed; 1 a check failed (the system under test broke an
//! expectation); 2 bad usage or bad input (an invalid scenario file); 3 a harness or
//! infrastructure error (nothing could be proved).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use sip::transport::{self, TransportKind};

use crate::certify::{self, Embedded, RunContext, TRUNK_HOST};
use crate::uac::{Target, UacConfig};

/// Exit code: every check passed.
pub const EXIT_PASSED: u8 = 0;
/// Exit code: at least one check failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit code: bad usage or bad input.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: harness or infrastructure error.
pub const EXIT_ERROR: u8 = 3;

/// Prove that emergency calls (911/933) work over a SIP/TLS trunk to a pair of E911 gateways.
#[derive(Debug, Parser)]
#[command(name = "e911-harness", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the shipped certification suite against two embedded mock gateways over TLS.
    Certify(CertifyArgs),
    /// Run scenarios against the embedded gateways or any gateway/SBC (--target).
    Run(RunArgs),
    /// Run a standalone mock E911 gateway that logs what it receives as JSON lines.
    Gateway(GatewayArgs),
    /// Write a test CA and gateway certificates.
    Certs(CertsArgs),
    /// Lint scenario files (every problem, with file, line and field).
    Validate(ValidateArgs),
    /// Open-loop load (calls per second) with latency percentiles, SLOs and --find-max.
    Load(crate::load::LoadArgs),
}

/// `certify` options.
#[derive(Debug, Args)]
pub struct CertifyArgs {
    /// Folder for report.json, junit.xml and summary.md.
    #[arg(long, default_value = "out/certify")]
    pub out: PathBuf,
    /// Scenario files or folders (default: the shipped library).
    #[arg(long = "scenarios", value_name = "PATH")]
    pub scenarios: Vec<PathBuf>,
    /// Transport between the harness and the embedded gateways.
    #[arg(long, default_value = "tls")]
    pub transport: TransportKind,
}

/// `run` options.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario files or folders.
    #[arg(required = true, value_name = "SCENARIO")]
    pub scenarios: Vec<PathBuf>,
    /// Send every call to this HOST:PORT instead of the embedded gateways.
    #[arg(long, value_name = "HOST:PORT")]
    pub target: Option<String>,
    /// TLS server name (and Request-URI host) for --target [default: gw1.anywhere.e911cloud.com].
    #[arg(long, value_name = "NAME")]
    pub server_name: Option<String>,
    /// CA certificate (PEM) that must have signed the target's certificate.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Accept any certificate from --target (no identity check at all). Explicit on purpose.
    #[arg(long, conflicts_with = "ca")]
    pub insecure: bool,
    /// Allow a --target that is not on loopback (a lab SBC). Never a production gateway.
    #[arg(long)]
    pub allow_remote: bool,
    /// Transport.
    #[arg(long, default_value = "tls")]
    pub transport: TransportKind,
    /// Folder for the reports.
    #[arg(long, default_value = "out/run")]
    pub out: PathBuf,
}

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
    /// Certificate chain (PEM). Without --cert/--key, a CA and certificate are generated.
    #[arg(long, requires = "key")]
    pub cert: Option<PathBuf>,
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
    /// Stop after this long (default: until Ctrl-C).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub duration: Option<Duration>,
}

/// `certs` options.
#[derive(Debug, Args)]
pub struct CertsArgs {
    /// Output folder.
    #[arg(long, default_value = "out/certs")]
    pub out: PathBuf,
}

/// `validate` options.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario files or folders.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// Parses the process arguments, runs the subcommand, maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    match rt.block_on(run_command(cli.command)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Runs one subcommand and returns its exit code.
pub async fn run_command(command: Command) -> anyhow::Result<u8> {
    match command {
        Command::Certify(a) => certify_cmd(a).await,
        Command::Run(a) => run_cmd(a).await,
        Command::Gateway(a) => gateway_cmd(a).await,
        Command::Certs(a) => certs_cmd(a),
        Command::Validate(a) => Ok(validate_cmd(&a.paths)),
        Command::Load(a) => crate::load::load_cmd(a).await,
    }
}

fn load(paths: &[PathBuf]) -> Result<Vec<scenarios::Scenario>, u8> {
    match scenarios::load_paths(paths) {
        Ok(s) if s.is_empty() => {
            eprintln!(
                "error: no scenario files found in {}",
                paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            Err(EXIT_USAGE)
        }
        Ok(s) => Ok(s),
        Err(e) => {
            eprintln!("{e}");
            Err(EXIT_USAGE)
        }
    }
}

fn validate_cmd(paths: &[PathBuf]) -> u8 {
    match load(paths) {
        Ok(s) => {
            println!("ok: {} scenario(s) valid", s.len());
            EXIT_PASSED
        }
        Err(code) => code,
    }
}

/// Sets a flag on Ctrl-C so runs stop between scenarios and still write their reports.
fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("interrupted: finishing the current scenario, then writing the reports");
            f.store(true, Ordering::SeqCst);
        }
    });
    flag
}

async fn execute(
    command: &str,
    scenarios: &[scenarios::Scenario],
    ctx: &RunContext<'_>,
    out: &std::path::Path,
) -> anyhow::Result<u8> {
    let started = SystemTime::now();
    let t0 = Instant::now();
    let flag = interrupt_flag();
    let total = scenarios.len();
    let mut done = 0;
    let reports = certify::run_scenarios(scenarios, ctx, &|| flag.load(Ordering::SeqCst), |r| {
        done += 1;
        let failed = r
            .checks
            .iter()
            .filter(|c| {
                c.outcome != reports::Outcome::Pass && c.outcome != reports::Outcome::Skipped
            })
            .count();
        eprintln!(
            "[{done}/{total}] {:<32} {}",
            r.name,
            if failed == 0 { "ok" } else { "FAILED" }
        );
    })
    .await;
    let report = certify::assemble(command, &ctx.topology, started, t0.elapsed(), reports);
    let written = reports::write_all(&report, out)
        .with_context(|| format!("writing reports to {}", out.display()))?;
    print!("{}", reports::render_summary_text(&report));
    println!("reports: {written}");
    Ok(report.verdict().exit_code() as u8)
}

async fn certify_cmd(a: CertifyArgs) -> anyhow::Result<u8> {
    let paths = if a.scenarios.is_empty() {
        vec![scenarios::library_dir()]
    } else {
        a.scenarios
    };
    let scenarios = match load(&paths) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let embedded = Embedded::start(a.transport).await?;
    let ctx = RunContext {
        targets: embedded.targets(),
        uac: UacConfig {
            tls: Some(embedded.client_tls.clone()),
            local_host: TRUNK_HOST.to_owned(),
            connect_timeout: Duration::from_secs(3),
        },
        gateways: Some(&embedded.gateways),
        topology: format!(
            "direct: harness -> embedded gw1, gw2 over {} on 127.0.0.1 (certificates generated at start)",
            a.transport
        ),
    };
    let code = execute("certify", &scenarios, &ctx, &a.out).await;
    embedded.shutdown().await;
    code
}

/// Resolves and vets `--target`: never a production E911 gateway, loopback unless allowed.
pub async fn resolve_target(target: &str, allow_remote: bool) -> anyhow::Result<SocketAddr> {
    let host = target
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or(target)
        .trim_matches(['[', ']']);
    if host.to_ascii_lowercase().ends_with("e911cloud.com") {
        bail!(
            "refusing --target {target}: that is a production E911 gateway; the harness only calls mock gateways or a lab SBC"
        );
    }
    let addr = tokio::net::lookup_host(target)
        .await
        .with_context(|| format!("resolving --target {target} (expected HOST:PORT)"))?
        .next()
        .with_context(|| format!("--target {target} resolved to no address"))?;
    if !addr.ip().is_loopback() && !allow_remote {
        bail!(
            "--target {target} ({addr}) is not on loopback; pass --allow-remote to call a lab SBC (never a real PSAP path)"
        );
    }
    Ok(addr)
}

async fn run_cmd(a: RunArgs) -> anyhow::Result<u8> {
    let scenarios = match load(&a.scenarios) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let Some(target) = &a.target else {
        let embedded = Embedded::start(a.transport).await?;
        let ctx = RunContext {
            targets: embedded.targets(),
            uac: UacConfig {
                tls: Some(embedded.client_tls.clone()),
                local_host: TRUNK_HOST.to_owned(),
                connect_timeout: Duration::from_secs(3),
            },
            gateways: Some(&embedded.gateways),
            topology: format!("direct: harness -> embedded gw1, gw2 over {}", a.transport),
        };
        let code = execute("run", &scenarios, &ctx, &a.out).await;
        embedded.shutdown().await;
        return code;
    };
    let addr = resolve_target(target, a.allow_remote).await?;
    let tls = match (a.transport, &a.ca, a.insecure) {
        (TransportKind::Tcp, _, _) => None,
        (TransportKind::Tls, Some(ca), _) => {
            let pem = certify::read_pem(ca).map_err(anyhow::Error::msg)?;
            Some(
                transport::client_config(&pem)
                    .with_context(|| format!("loading --ca {}", ca.display()))?,
            )
        }
        (TransportKind::Tls, None, true) => Some(transport::insecure_client_config()),
        (TransportKind::Tls, None, false) => {
            eprintln!(
                "error: --target over TLS needs --ca FILE (the CA that signed the target's certificate), or --insecure to skip verification explicitly"
            );
            return Ok(EXIT_USAGE);
        }
    };
    let host = a
        .server_name
        .clone()
        .unwrap_or_else(|| certify::GATEWAY_HOSTS[0].1.to_owned());
    // Every scenario's named gateway maps to the one target.
    let mut names: Vec<String> = scenarios.iter().map(|s| s.call.gateway.clone()).collect();
    names.sort();
    names.dedup();
    let targets = names
        .into_iter()
        .map(|name| Target {
            name,
            host: host.clone(),
            addr,
            transport: a.transport,
        })
        .collect();
    let ctx = RunContext {
        targets,
        uac: UacConfig {
            tls,
            local_host: TRUNK_HOST.to_owned(),
            connect_timeout: Duration::from_secs(5),
        },
        gateways: None,
        topology: format!(
            "external target {target} ({addr}) over {}{}",
            a.transport,
            if a.insecure {
                ", certificate NOT verified (--insecure)"
            } else {
                ""
            }
        ),
    };
    execute("run", &scenarios, &ctx, &a.out).await
}

fn certs_cmd(a: CertsArgs) -> anyhow::Result<u8> {
    use sip::transport::certs::{self, Authority, KeyKind, Validity};
    let ca = Authority::generate("e911-harness test CA")?;
    let mut issued = Vec::new();
    for (stem, host) in certify::GATEWAY_HOSTS {
        let names = [host, "localhost", "127.0.0.1", "::1"];
        issued.push((stem, ca.issue(&names, KeyKind::Rsa2048, Validity::Current)?));
    }
    let leaves: Vec<_> = issued.iter().map(|(s, i)| (*s, i)).collect();
    let files = certs::write_bundle(&a.out, &ca, &leaves)?;
    for f in files {
        println!("{}", f.display());
    }
    Ok(EXIT_PASSED)
}

async fn gateway_cmd(a: GatewayArgs) -> anyhow::Result<u8> {
    crate::standalone::run(a).await
}
