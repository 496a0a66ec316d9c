//! `certify` and `run`: scenarios in a topology, judged and written as reports.
//!
//! - `certify`: the embedded gateways called directly (the shipped library by default);
//! - `certify --sut HOST:PORT`: the embedded gateways behind a system under test, which the
//!   trunk calls (the trunk leg, `--transport`) and which calls the gateways (the gateway leg,
//!   `--gateway-transport`); the trust toward it is checked before the first scenario;
//! - `run`: the embedded gateways, or an external `--target` whose gateway side cannot be seen;
//! - `certify --originator PLAN` is [`super::originator`]'s.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use clap::Args;
use rustls::pki_types::ServerName;
use sip::transport::{self, TransportKind};

use super::load;
use mock_gateway::Retain;
use sip::transport::capture::Keep;

use crate::evidence::options::EvidenceArgs;
use crate::evidence::recording::{CERTIFY_CAPTURE_BYTES, Recording};
use crate::evidence::trace::Lanes;
use crate::evidence::{Failure, TlsFailureKind, Topology};
use crate::exit::{EXIT_ERROR, EXIT_USAGE};
use crate::originate::peer::{PeerTls, ResolvedTarget, TargetArgs, client_tls, resolve_target};
use crate::originate::trunk::TRUNK_HOST;
use crate::originate::uac::{Target, UacConfig};
use crate::run::{self, Embedded, RunContext};
use crate::verdict::Setting;

/// `certify` options.
#[derive(Debug, Args)]
pub struct CertifyArgs {
    /// Folder for report.json, junit.xml and summary.md.
    #[arg(long, default_value = "out/certify")]
    pub out: PathBuf,
    /// Scenario files or folders (default: the shipped library).
    #[arg(long = "scenarios", value_name = "PATH")]
    pub scenarios: Vec<PathBuf>,
    /// Transport of the trunk's leg: to the embedded gateways, or with --sut to the system
    /// under test; with --originator, what the gateways listen on for the originator.
    #[arg(long, default_value = "tls")]
    pub transport: TransportKind,
    /// Waiver file: accepted deviations become skipped-with-reason (see README "Waivers").
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,
    /// Certify a system under test (SBC or proxy) at HOST:PORT: every call goes to it, and the
    /// embedded gw1/gw2 (at --gateway-listen) judge what it forwards.
    #[arg(long, value_name = "HOST:PORT", conflicts_with = "originator")]
    pub sut: Option<String>,
    /// `--originator PLAN` and its options.
    #[command(flatten)]
    pub plan: OriginatorArgs,
    /// TLS server name of the system under test [default: gw1.anywhere.e911cloud.com].
    #[arg(long, value_name = "NAME", requires = "sut")]
    pub sut_name: Option<String>,
    /// The CA certificate (PEM) that signed the system under test's certificate, or that
    /// certificate itself (pinned: a self-signed certificate works).
    #[arg(long, value_name = "FILE", requires = "sut")]
    pub sut_ca: Option<PathBuf>,
    /// Accept any certificate from the system under test. Explicit on purpose.
    #[arg(long, requires = "sut", conflicts_with = "sut_ca")]
    pub insecure: bool,
    /// Allow a system under test that is not on loopback (a lab SBC). Never a production gateway.
    #[arg(long, requires = "sut")]
    pub allow_remote: bool,
    /// With --sut: the transport the gateways listen on (the system under test's leg to them).
    #[arg(long, default_value = "tls", requires = "sut")]
    pub gateway_transport: TransportKind,
    /// With --sut: the system under test's own INVITE timeout per gateway, after which it
    /// fails over from a silent gateway (failover-time bounds after silence allow for it).
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration, requires = "sut")]
    pub sut_attempt_timeout: Duration,
    /// Where gw1 and gw2 listen with --sut or --originator (what the system under test or
    /// the originator routes to).
    #[arg(
        long,
        num_args = 2,
        value_names = ["GW1", "GW2"],
        default_values = ["127.0.0.1:15061", "127.0.0.1:15062"]
    )]
    pub gateway_listen: Vec<SocketAddr>,
    /// With --sut or --originator: where the gateways' CA and certificates are kept for the
    /// system under test (or the originator) to trust (ca.pem, ca.key, gw1.pem, gw1.key,
    /// gw2.pem, gw2.key); reused when present.
    #[arg(long, default_value = "out/certify/gateway-certs")]
    pub certs_dir: PathBuf,
    /// `--pcap`, `--tls-keylog`.
    #[command(flatten)]
    pub evidence: EvidenceArgs,
    /// Do not carry media: answered calls exchange no RTP/SRTP and the media.flow, .srtp,
    /// .ports and .quality checks are skipped (media is on by default: ICD 4).
    #[arg(long)]
    pub no_media: bool,
}

/// `certify --originator` options: a real originator calls the gateways and a test plan is
/// walked ([`super::originator`]).
#[derive(Debug, Clone, Default, Args)]
pub struct OriginatorArgs {
    /// Certify a real originator (a trunk, SBC or PBX that calls gw1/gw2 at --gateway-listen)
    /// with a test plan: a plan file, or a shipped plan's name (genesys-byoc).
    #[arg(long, value_name = "PLAN", conflicts_with = "scenarios")]
    pub originator: Option<String>,
    /// With --originator, unattended: a command (run with `sh -c`) that makes the originator
    /// place each step's calls; the step is in its environment (E911_DIAL, E911_ANI, E911_GW1,
    /// ...; see the README).
    #[arg(long, value_name = "COMMAND", requires = "originator")]
    pub drive: Option<String>,
    /// With --originator: run only this step (repeat for several).
    #[arg(long = "step", value_name = "NAME", requires = "originator")]
    pub steps: Vec<String>,
    /// With --originator: how long nothing more may arrive after a step's calls ended before
    /// the step is judged [default: the plan's settle].
    #[arg(long, value_parser = humantime::parse_duration, requires = "originator")]
    pub settle: Option<Duration>,
    /// With --originator: every step's timeout [default: the plan's].
    #[arg(long, value_parser = humantime::parse_duration, requires = "originator")]
    pub step_timeout: Option<Duration>,
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
    /// Carry two-way SRTP media on answered calls (UDP ports 30000-60000) and judge it.
    #[arg(long)]
    pub media: bool,
    /// `--pcap`, `--tls-keylog`.
    #[command(flatten)]
    pub evidence: EvidenceArgs,
}

/// Every message is captured in certify and run: the report's ladders need them.
pub(crate) fn recording(e: &EvidenceArgs) -> anyhow::Result<Recording> {
    e.recording(Some(Keep::All), CERTIFY_CAPTURE_BYTES)
}

/// `certify`.
pub async fn certify_cmd(a: CertifyArgs) -> anyhow::Result<u8> {
    if let Some(plan) = &a.plan.originator {
        return super::originator::certify(&a, plan).await;
    }
    // Without --scenarios, the library built into the binary: it runs from any folder.
    let loaded = if a.scenarios.is_empty() {
        Ok(scenarios::shipped().context("loading the built-in scenario library")?)
    } else {
        load(&a.scenarios)
    };
    let scenarios = match loaded {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    if let Some(sut) = &a.sut {
        return certify_sut(&a, sut, &scenarios).await;
    }
    let topology = format!(
        "direct: harness -> embedded gw1, gw2 over {} on 127.0.0.1 (certificates generated at start)",
        a.transport
    );
    let out = Outputs {
        dir: &a.out,
        waivers: a.waivers.as_deref(),
        evidence: &a.evidence,
    };
    direct(
        "certify",
        &scenarios,
        a.transport,
        topology,
        !a.no_media,
        &out,
    )
    .await
}

/// `certify --sut`: harness -> system under test -> embedded gw1/gw2, judged on both sides.
async fn certify_sut(
    a: &CertifyArgs,
    sut: &str,
    scenarios: &[scenarios::Scenario],
) -> anyhow::Result<u8> {
    if a.transport == TransportKind::Tcp && (a.sut_ca.is_some() || a.insecure) {
        eprintln!(
            "error: --sut-ca/--insecure set the trust of a TLS trunk leg, but --transport tcp makes the trunk leg TCP; drop them, or use --transport tls"
        );
        return Ok(EXIT_USAGE);
    }
    let addr = match resolve_target(sut, a.allow_remote).await {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(EXIT_USAGE);
        }
    };
    let Some(tls) = client_tls(a.transport, a.sut_ca.as_deref(), a.insecure, "--sut")? else {
        return Ok(EXIT_USAGE);
    };
    let host = a
        .sut_name
        .clone()
        .unwrap_or_else(|| run::GATEWAY_HOSTS[0].1.to_owned());
    if let Some(tls) = &tls
        && let Err(fix) = preflight(addr, &host, tls, sut, a.sut_ca.as_deref()).await
    {
        eprintln!("error: {fix}");
        return Ok(EXIT_ERROR);
    }
    let listen = [a.gateway_listen[0], a.gateway_listen[1]];
    let embedded = Embedded::start_recorded(
        a.gateway_transport,
        listen,
        Some(&a.certs_dir),
        Retain::All,
        recording(&a.evidence)?,
    )
    .await?;
    eprintln!(
        "gateways: gw1 {} and gw2 {} over {}; their CA for the system under test: {}",
        listen[0],
        listen[1],
        a.gateway_transport,
        a.certs_dir.join("ca.pem").display()
    );
    let ctx = RunContext {
        targets: one_target_for_all(scenarios, &host, addr, a.transport),
        uac: UacConfig {
            tls: tls.as_ref().map(|t| t.config.clone()),
            tls_trust: tls.map(|t| t.trust),
            local_host: TRUNK_HOST.to_owned(),
            connect_timeout: Duration::from_secs(5),
            epoch: embedded.epoch,
            recording: embedded.recording.clone(),
            media: !a.no_media,
        },
        gateways: Some(&embedded.gateways),
        gateway_identities: Some(&embedded.identities),
        topology: format!(
            "through a system under test: harness -({})-> {sut} -({})-> embedded gw1 {}, gw2 {}",
            a.transport, a.gateway_transport, listen[0], listen[1]
        ),
        setting: Setting {
            topology: Topology::ThroughSut,
            trunk_leg: a.transport,
            gateway_leg: Some(a.gateway_transport),
            sut_attempt_timeout: a.sut_attempt_timeout,
        },
    };
    let code = execute(
        "certify",
        scenarios,
        &ctx,
        &a.out,
        a.waivers.as_deref(),
        &a.evidence,
    )
    .await;
    embedded.shutdown().await;
    code
}

/// One TLS handshake with the system under test, offering the trunk's profile, before any
/// scenario: a certificate the run cannot trust, or nothing listening, would otherwise fail
/// every call for a reason that is the setup's, not the system under test's. The error is one
/// line that says what to fix. What the system under test itself gets wrong is left to the
/// verdicts, with a warning up front: a handshake it refuses on the profile (ICD 5.1), a
/// certificate from the trusted CA that has expired or does not name the host the trunk calls
/// (ICD 5.1, RFC 5922: the trunk refuses it, so every call fails on it).
async fn preflight(
    addr: SocketAddr,
    host: &str,
    tls: &PeerTls,
    sut: &str,
    sut_ca: Option<&Path>,
) -> Result<(), String> {
    let name = ServerName::try_from(host.to_owned())
        .map_err(|_| format!("--sut-name {host:?} is not a valid TLS server name"))?;
    let config = tls
        .trust
        .client_config(&scenarios::TlsProfile::genesys_byoc())
        .unwrap_or_else(|_| tls.config.clone());
    let Err(e) = transport::connect(addr, Some((config, name)), Duration::from_secs(5)).await
    else {
        return Ok(());
    };
    let ca = sut_ca.map_or_else(|| "(none)".to_owned(), |p| p.display().to_string());
    let certs_hint = "`e911-harness certs --sbc NAME --out DIR` issues one from the lab CA";
    Err(match Failure::of_connect(&e) {
        Failure::Refused | Failure::ConnectTimeout => format!(
            "nothing answers at {sut} ({e}): start the system under test there, or fix --sut"
        ),
        Failure::Tls(t) => match t.kind {
            TlsFailureKind::UnknownIssuer | TlsFailureKind::BadCertificate => format!(
                "{sut}'s certificate is not signed by --sut-ca {ca} ({e}): give the CA that issued it, or the certificate itself to pin it; {certs_hint}"
            ),
            TlsFailureKind::CaUsedAsEndEntity => format!(
                "{sut} presents a CA certificate as its own ({e}): give exactly that certificate as --sut-ca to pin it, or {certs_hint}"
            ),
            TlsFailureKind::NotValidForName => {
                eprintln!(
                    "warning: {sut}'s certificate does not name {host} ({e}): the trunk refuses it (RFC 5922: no wildcards), so every call will fail on it; if {host} is not the name the trunk calls, pass --sut-name with the one it does"
                );
                return Ok(());
            }
            TlsFailureKind::Expired => {
                eprintln!(
                    "warning: {sut}'s certificate is expired or not yet valid ({e}): the trunk refuses it, so every call will fail on it; renew it ({certs_hint})"
                );
                return Ok(());
            }
            _ => return Ok(()),
        },
        _ => return Ok(()),
    })
}

/// Every gateway a scenario names (its call's and its route's) maps to the one address (a
/// target or a system under test).
pub fn one_target_for_all(
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

/// `run`.
pub async fn run_cmd(a: RunArgs) -> anyhow::Result<u8> {
    let scenarios = match load(&a.scenarios) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let Some(target) = &a.peer.target else {
        let topology = format!("direct: harness -> embedded gw1, gw2 over {}", a.transport);
        let out = Outputs {
            dir: &a.out,
            waivers: a.waivers.as_deref(),
            evidence: &a.evidence,
        };
        return direct("run", &scenarios, a.transport, topology, a.media, &out).await;
    };
    let Some(ResolvedTarget { addr, tls, host }) = a.peer.peer.resolve(target, a.transport).await?
    else {
        return Ok(EXIT_USAGE);
    };
    let targets = one_target_for_all(&scenarios, &host, addr, a.transport);
    let recording = recording(&a.evidence)?;
    let ctx = RunContext {
        targets,
        uac: UacConfig {
            tls: tls.as_ref().map(|t| t.config.clone()),
            tls_trust: tls.map(|t| t.trust),
            local_host: TRUNK_HOST.to_owned(),
            connect_timeout: Duration::from_secs(5),
            epoch: recording.epoch(),
            recording,
            media: a.media,
        },
        gateways: None,
        gateway_identities: None,
        topology: format!(
            "external target {target} ({addr}) over {}{}; no gateway evidence (gateway-side checks are skipped)",
            a.transport,
            if a.peer.peer.insecure {
                ", certificate NOT verified (--insecure)"
            } else {
                ""
            }
        ),
        setting: Setting {
            topology: Topology::External,
            trunk_leg: a.transport,
            gateway_leg: None,
            sut_attempt_timeout: Duration::ZERO,
        },
    };
    execute(
        "run",
        &scenarios,
        &ctx,
        &a.out,
        a.waivers.as_deref(),
        &a.evidence,
    )
    .await
}

/// gw1 and gw2 in this process on loopback, recording as `--pcap`/`--tls-keylog` say.
async fn start_embedded(kind: TransportKind, e: &EvidenceArgs) -> anyhow::Result<Embedded> {
    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    Ok(Embedded::start_recorded(kind, [any, any], None, Retain::All, recording(e)?).await?)
}

/// Where a run's reports go.
struct Outputs<'a> {
    dir: &'a Path,
    waivers: Option<&'a Path>,
    evidence: &'a EvidenceArgs,
}

/// `scenarios` against embedded gateways called directly (`certify` and `run` without a
/// target): start them, run (with SRTP media on answered calls when `media`), write the reports,
/// stop them.
async fn direct(
    command: &str,
    scenarios: &[scenarios::Scenario],
    transport: TransportKind,
    topology: String,
    media: bool,
    out: &Outputs<'_>,
) -> anyhow::Result<u8> {
    let embedded = start_embedded(transport, out.evidence).await?;
    let mut ctx = embedded.context(topology);
    ctx.uac.media = media;
    let code = execute(command, scenarios, &ctx, out.dir, out.waivers, out.evidence).await;
    embedded.shutdown().await;
    code
}

/// A flag set by SIGINT or SIGTERM (the process's one token, [`crate::signals`]), so runs stop
/// between scenarios and still write their reports.
pub(crate) fn interrupt_flag() -> Arc<AtomicBool> {
    crate::signals::flag(&crate::signals::shutdown_token())
}

/// Runs `scenarios` in `ctx`, applies the waivers, writes the reports, returns the exit code.
async fn execute(
    command: &str,
    scenarios: &[scenarios::Scenario],
    ctx: &RunContext<'_>,
    out: &Path,
    waivers: Option<&Path>,
    evidence: &EvidenceArgs,
) -> anyhow::Result<u8> {
    let waivers = match load_waivers(waivers) {
        Ok(w) => w,
        Err(code) => return Ok(code),
    };
    let started = SystemTime::now();
    let t0 = Instant::now();
    let flag = interrupt_flag();
    let total = scenarios.len();
    let mut done = 0;
    let reports = run::run_scenarios(scenarios, ctx, &|| flag.load(Ordering::SeqCst), |r| {
        done += 1;
        let failed = r
            .checks
            .iter()
            .filter(|c| {
                c.outcome != reports::Outcome::Pass && c.outcome != reports::Outcome::Skipped
            })
            .count();
        let verdict = match (&r.not_applicable, failed) {
            (Some(_), _) => "not applicable",
            (None, 0) => "ok",
            (None, _) => "FAILED",
        };
        eprintln!("[{done}/{total}] {:<32} {verdict}", r.name);
    })
    .await;
    let run = Finished {
        command,
        topology: &ctx.topology,
        started,
        elapsed: t0.elapsed(),
        uncovered: None,
        trace: Some((evidence, &ctx.uac.recording, run::lanes(ctx))),
    };
    run.write(reports, waivers.as_ref(), out)
}

/// The waiver file, loaded before anything runs (a bad one is a usage error, exit 2).
pub(crate) fn load_waivers(path: Option<&Path>) -> Result<Option<crate::run::waiver::Waivers>, u8> {
    path.map(crate::run::waiver::load).transpose().map_err(|e| {
        eprintln!("error: {e}");
        EXIT_USAGE
    })
}

/// A run that has ended, about to be reported.
pub(crate) struct Finished<'a> {
    /// The subcommand.
    pub(crate) command: &'a str,
    /// What stood where.
    pub(crate) topology: &'a str,
    /// When it started.
    pub(crate) started: SystemTime,
    /// How long it took.
    pub(crate) elapsed: Duration,
    /// What the summary says of a requirement nothing in the run covered and nothing else
    /// proves [default: the report's own words].
    pub(crate) uncovered: Option<&'a str>,
    /// `--pcap`: the options, the run's recording and who is who on the wire.
    pub(crate) trace: Option<(&'a EvidenceArgs, &'a Recording, Lanes)>,
}

impl Finished<'_> {
    /// Applies the waivers to `reports`, writes report.json, junit.xml and summary.md to
    /// `out`, prints the summary, and returns the exit code.
    pub(crate) fn write(
        &self,
        mut reports: Vec<reports::ScenarioReport>,
        waivers: Option<&crate::run::waiver::Waivers>,
        out: &Path,
    ) -> anyhow::Result<u8> {
        let stale = waivers.map(|w| w.apply(&mut reports)).unwrap_or_default();
        // A signal stopped the run: the report says so (an error testcase in JUnit), and the
        // exit code is INTERRUPTED whatever the checks said.
        let interrupted = crate::signals::shutdown_token().is_cancelled();
        if interrupted {
            let ran = reports.len();
            reports.push(reports::ScenarioReport {
                name: "run".into(),
                description: "whether the run finished".into(),
                checks: vec![crate::exit::interrupted_check(&format!(
                    "stopped after {ran} scenario(s) or step(s)"
                ))],
                ..reports::ScenarioReport::default()
            });
        }
        let mut report = run::assemble(
            self.command,
            self.topology,
            self.started,
            self.elapsed,
            reports,
        );
        if let Some(note) = self.uncovered {
            for n in report.not_covered.iter_mut().filter(|n| n.note.is_none()) {
                n.note = Some(note.to_owned());
            }
        }
        let written = reports::write_all(&report, out)
            .with_context(|| format!("writing reports to {}", out.display()))?;
        crate::stdout::print_quietly(&reports::render_summary_text(&report));
        crate::stdout::println_quietly(&format!("reports: {written}"));
        if let Some((evidence, recording, lanes)) = &self.trace {
            evidence.finish(recording, lanes)?;
        }
        for e in &stale {
            eprintln!("error: {e}");
        }
        if interrupted {
            crate::stdout::println_quietly("verdict: INTERRUPTED");
            return Ok(crate::exit::EXIT_INTERRUPTED);
        }
        let code = report.verdict().exit_code() as u8;
        // A stale waiver is bad input to fix, whatever the checks said (a harness error still
        // wins).
        Ok(if stale.is_empty() || code > EXIT_USAGE {
            code
        } else {
            EXIT_USAGE
        })
    }
}
