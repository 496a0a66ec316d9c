//! The `e911-harness` command line: clap types and the subcommand drivers. `main.rs` only calls
//! [`main`], so tests can drive every subcommand in-process.
//!
//! Exit codes are [`crate::exit`]'s.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

pub mod gateway;

use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use sip::transport::TransportKind;

use crate::exit::{EXIT_ERROR, EXIT_PASSED, EXIT_USAGE};
use crate::originate::peer::{ResolvedTarget, TargetArgs, client_tls, resolve_target};
use crate::originate::trunk::TRUNK_HOST;
use crate::originate::uac::{Target, UacConfig};
use crate::run::{self, Embedded, RunContext};

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
    /// Attack a system under test with RFC 4475/5118 messages and INVITE mutations, checking
    /// after each batch that it still answers OPTIONS and completes a 911 call.
    Torture(crate::torture::TortureArgs),
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
    /// Waiver file: accepted deviations become skipped-with-reason (see README "Waivers").
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,
    /// Certify a system under test (SBC or proxy) at HOST:PORT: every call goes to it, and the
    /// embedded gw1/gw2 (at --gateway-listen) judge what it forwards.
    #[arg(long, value_name = "HOST:PORT")]
    pub sut: Option<String>,
    /// TLS server name of the system under test [default: gw1.anywhere.e911cloud.com].
    #[arg(long, value_name = "NAME", requires = "sut")]
    pub sut_name: Option<String>,
    /// CA certificate (PEM) that signed the system under test's certificate.
    #[arg(long, value_name = "FILE", requires = "sut")]
    pub sut_ca: Option<PathBuf>,
    /// Accept any certificate from the system under test. Explicit on purpose.
    #[arg(long, requires = "sut", conflicts_with = "sut_ca")]
    pub insecure: bool,
    /// Allow a system under test that is not on loopback (a lab SBC). Never a production gateway.
    #[arg(long, requires = "sut")]
    pub allow_remote: bool,
    /// Where gw1 and gw2 listen with --sut (the system under test routes to these).
    #[arg(
        long,
        num_args = 2,
        value_names = ["GW1", "GW2"],
        default_values = ["127.0.0.1:15061", "127.0.0.1:15062"]
    )]
    pub gateway_listen: Vec<SocketAddr>,
    /// With --sut: where the gateways' CA and certificates are written for the system under
    /// test to trust (ca.pem, gw1.pem, gw1.key, gw2.pem, gw2.key).
    #[arg(long, default_value = "out/certify/gateway-certs")]
    pub certs_dir: PathBuf,
}

/// `run` options.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario files or folders.
    #[arg(required = true, value_name = "SCENARIO")]
    pub scenarios: Vec<PathBuf>,
    /// Where the calls go (default: the embedded gateways).
    #[command(flatten)]
    pub peer: TargetArgs,
    /// Transport.
    #[arg(long, default_value = "tls")]
    pub transport: TransportKind,
    /// Folder for the reports.
    #[arg(long, default_value = "out/run")]
    pub out: PathBuf,
    /// Waiver file: accepted deviations become skipped-with-reason (see README "Waivers").
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,
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
    /// Location table (TOML: `unknown_ani` and `[[location]]` rows, ICD 5.2): routes each ANI to
    /// its PSAP and makes a 933 read back the registered address.
    #[arg(long, value_name = "FILE")]
    pub locations: Option<PathBuf>,
    /// Certificate chain (PEM). Without --cert/--key, a CA and certificate are generated.
    #[arg(long, requires = "key")]
    pub cert: Option<PathBuf>,
    /// TLS profile the gateway enforces: `any` (accept what the trunk offers, and record it) or
    /// `genesys-byoc` (TLS 1.2 only, ECDHE secp384r1, the RSA AES-GCM suites; ICD 5.1).
    #[arg(long, default_value = "any", value_parser = ["any", "genesys-byoc"])]
    pub tls_profile: String,
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
    /// Print no observations, only a count of calls every 10 s and at exit (capacity runs: the
    /// gateway then keeps nothing per call).
    #[arg(long)]
    pub quiet: bool,
    /// Connection and message limits (admission control).
    #[command(flatten)]
    pub limits: gateway::LimitArgs,
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
            ExitCode::from(crate::exit::code_for_error(&e))
        }
    }
}

/// Runs one subcommand and returns its exit code.
pub async fn run_command(command: Command) -> anyhow::Result<u8> {
    // SIGINT/SIGTERM handlers from the start, so a signal never kills a run unreported.
    let _ = crate::signals::shutdown_token();
    match command {
        Command::Certify(a) => certify_cmd(a).await,
        Command::Run(a) => run_cmd(a).await,
        Command::Gateway(a) => gateway_cmd(a).await,
        Command::Certs(a) => certs_cmd(a),
        Command::Validate(a) => Ok(validate_cmd(&a.paths)),
        Command::Load(a) => crate::load::load_cmd(a).await,
        Command::Torture(a) => {
            crate::torture::torture_cmd(a, crate::signals::shutdown_token()).await
        }
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
        Ok(s) => {
            let problems = crate::originate::conformance::caller_problems(&s);
            for p in &problems {
                eprintln!("{p}");
            }
            if problems.is_empty() {
                Ok(s)
            } else {
                Err(EXIT_USAGE)
            }
        }
        Err(e) => {
            eprintln!("{e}");
            Err(EXIT_USAGE)
        }
    }
}

fn validate_cmd(paths: &[PathBuf]) -> u8 {
    match load(paths) {
        Ok(s) => {
            crate::stdout::println_quietly(&format!("ok: {} scenario(s) valid", s.len()));
            EXIT_PASSED
        }
        Err(code) => code,
    }
}

async fn execute(
    command: &str,
    scenarios: &[scenarios::Scenario],
    ctx: &RunContext<'_>,
    out: &std::path::Path,
    waivers: Option<&std::path::Path>,
) -> anyhow::Result<u8> {
    let waivers = match waivers.map(crate::run::waiver::load).transpose() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(EXIT_USAGE);
        }
    };
    let started = SystemTime::now();
    let t0 = Instant::now();
    let cancel = crate::signals::shutdown_token();
    let total = scenarios.len();
    let mut done = 0;
    let reports = run::run_scenarios(scenarios, ctx, &|| cancel.is_cancelled(), |r| {
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
    let mut reports = reports;
    let stale = waivers
        .as_ref()
        .map(|w| w.apply(&mut reports))
        .unwrap_or_default();
    let interrupted = cancel.is_cancelled();
    if interrupted {
        reports.push(reports::ScenarioReport {
            name: "run".into(),
            description: "whether the run finished".into(),
            checks: vec![crate::exit::interrupted_check(&format!(
                "{} of {total} scenario(s) ran",
                done
            ))],
            ..reports::ScenarioReport::default()
        });
    }
    let report = run::assemble(command, &ctx.topology, started, t0.elapsed(), reports);
    let written = reports::write_all(&report, out)
        .with_context(|| format!("writing reports to {}", out.display()))?;
    crate::stdout::print_quietly(&reports::render_summary_text(&report));
    crate::stdout::println_quietly(&format!("reports: {written}"));
    for e in &stale {
        eprintln!("error: {e}");
    }
    if interrupted {
        crate::stdout::println_quietly("verdict: INTERRUPTED");
        return Ok(crate::exit::EXIT_INTERRUPTED);
    }
    let code = report.verdict().exit_code() as u8;
    // A stale waiver is bad input to fix, whatever the checks said (a harness error still wins).
    Ok(if stale.is_empty() || code > EXIT_USAGE {
        code
    } else {
        EXIT_USAGE
    })
}

async fn certify_cmd(a: CertifyArgs) -> anyhow::Result<u8> {
    let paths = if a.scenarios.is_empty() {
        vec![scenarios::library_dir()]
    } else {
        a.scenarios.clone()
    };
    let scenarios = match load(&paths) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    if let Some(sut) = &a.sut {
        return certify_sut(&a, sut, &scenarios).await;
    }
    let embedded = Embedded::start(a.transport).await?;
    let ctx = embedded.context(format!(
        "direct: harness -> embedded gw1, gw2 over {} on 127.0.0.1 (certificates generated at start)",
        a.transport
    ));
    let code = execute("certify", &scenarios, &ctx, &a.out, a.waivers.as_deref()).await;
    embedded.shutdown().await;
    code
}

/// `certify --sut`: harness -> system under test -> embedded gw1/gw2, judged on both sides.
async fn certify_sut(
    a: &CertifyArgs,
    sut: &str,
    scenarios: &[scenarios::Scenario],
) -> anyhow::Result<u8> {
    let addr = resolve_target(sut, a.allow_remote).await?;
    let Some(tls) = client_tls(a.transport, a.sut_ca.as_deref(), a.insecure, "--sut")? else {
        return Ok(EXIT_USAGE);
    };
    // A [route] scenario emulates the trunk's own failover across gw1/gw2; behind an SBC the
    // failover is the SBC's (its own tests: README "Certify an SBC"), so those are left out.
    let (routed, scenarios): (Vec<_>, Vec<_>) =
        scenarios.iter().cloned().partition(|s| s.route.is_some());
    if !routed.is_empty() {
        eprintln!(
            "note: {} trunk-failover scenario(s) left out with --sut (the SBC does the failover): {}",
            routed.len(),
            routed
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if scenarios.is_empty() {
        eprintln!("error: no scenario left to run through the system under test");
        return Ok(EXIT_USAGE);
    }
    let scenarios = &scenarios[..];
    let listen = [a.gateway_listen[0], a.gateway_listen[1]];
    let embedded = Embedded::start_on(a.transport, listen, Some(&a.certs_dir)).await?;
    eprintln!(
        "gateways: gw1 {} and gw2 {} over {}; their CA for the system under test: {}",
        listen[0],
        listen[1],
        a.transport,
        a.certs_dir.join("ca.pem").display()
    );
    let host = a
        .sut_name
        .clone()
        .unwrap_or_else(|| run::GATEWAY_HOSTS[0].1.to_owned());
    let ctx = RunContext {
        targets: one_target_for_all(scenarios, &host, addr, a.transport),
        uac: UacConfig {
            tls: tls.as_ref().map(|t| t.config.clone()),
            tls_trust: tls.map(|t| t.trust),
            local_host: TRUNK_HOST.to_owned(),
            connect_timeout: Duration::from_secs(5),
        },
        gateways: Some(&embedded.gateways),
        gateway_identities: Some(&embedded.identities),
        topology: format!(
            "through a system under test: harness -> {sut} -> embedded gw1 {}, gw2 {} over {}",
            listen[0], listen[1], a.transport
        ),
    };
    let code = execute("certify", scenarios, &ctx, &a.out, a.waivers.as_deref()).await;
    embedded.shutdown().await;
    code
}

/// Every gateway a scenario names (its call's and its route's) maps to the one address (a
/// target or a system under test).
fn one_target_for_all(
    scenarios: &[scenarios::Scenario],
    host: &str,
    addr: SocketAddr,
    transport: TransportKind,
) -> Vec<Target> {
    let mut names: Vec<String> = scenarios
        .iter()
        .flat_map(|s| {
            let route = s.route.iter().flat_map(|r| r.gateways.iter().cloned());
            std::iter::once(s.call.gateway.clone()).chain(route)
        })
        .collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|name| Target {
            name,
            host: host.to_owned(),
            addr,
            transport,
        })
        .collect()
}

async fn run_cmd(a: RunArgs) -> anyhow::Result<u8> {
    let scenarios = match load(&a.scenarios) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let Some(target) = &a.peer.target else {
        let embedded = Embedded::start(a.transport).await?;
        let ctx = embedded.context(format!(
            "direct: harness -> embedded gw1, gw2 over {}",
            a.transport
        ));
        let code = execute("run", &scenarios, &ctx, &a.out, a.waivers.as_deref()).await;
        embedded.shutdown().await;
        return code;
    };
    let Some(ResolvedTarget { addr, tls, host }) = a.peer.resolve(target, a.transport).await?
    else {
        return Ok(EXIT_USAGE);
    };
    let targets = one_target_for_all(&scenarios, &host, addr, a.transport);
    let ctx = RunContext {
        targets,
        uac: UacConfig {
            tls: tls.as_ref().map(|t| t.config.clone()),
            tls_trust: tls.map(|t| t.trust),
            local_host: TRUNK_HOST.to_owned(),
            connect_timeout: Duration::from_secs(5),
        },
        gateways: None,
        gateway_identities: None,
        topology: format!(
            "external target {target} ({addr}) over {}{}",
            a.transport,
            if a.peer.insecure {
                ", certificate NOT verified (--insecure)"
            } else {
                ""
            }
        ),
    };
    execute("run", &scenarios, &ctx, &a.out, a.waivers.as_deref()).await
}

fn certs_cmd(a: CertsArgs) -> anyhow::Result<u8> {
    run::write_gateway_certs(&a.out)?;
    for (name, _) in run::GATEWAY_HOSTS {
        for ext in ["pem", "key"] {
            crate::stdout::println_quietly(
                &a.out.join(format!("{name}.{ext}")).display().to_string(),
            );
        }
    }
    crate::stdout::println_quietly(&a.out.join("ca.pem").display().to_string());
    Ok(EXIT_PASSED)
}

async fn gateway_cmd(a: GatewayArgs) -> anyhow::Result<u8> {
    crate::cli::gateway::run(a).await
}
