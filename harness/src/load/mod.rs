//! `e911-harness load`: open-loop load against the embedded gateways or a target, measured the
//! way `docs/measurement.md` asks (intended start times, HdrHistograms per metric x outcome x
//! gateway, interval logs, RFC 6076 ratios, a validity check on the generator's own lag).
//!
//! # Layout
//! - [`schedule`]: when call `i` is due (constant, ramp, steps); pure.
//! - [`slo`]: `--slo` parsing and judging; pure.
//! - [`findmax`]: the `--find-max` rate search; pure.
//! - [`metrics`]: the recorder (histograms, counters, interval log).
//! - [`wire`]: INVITE templates, ACK/BYE writers, the response scanner.
//! - [`conn`]: one multiplexed UAC connection (connection task + batching writer task).
//! - [`run`]: one run: pool, scheduler, aggregator, progress, drain.
//! - [`report`]: the `load` section, checks, files and exit code.

pub mod bounds;
pub mod conn;
pub mod findmax;
pub mod metrics;
pub mod report;
pub mod run;
pub mod schedule;
pub mod slo;
pub mod verdict;
pub mod wire;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use clap::Args;
use scenarios::{AniPlacement, CallSpec};
use sip::transport::TransportKind;

use crate::exit::{EXIT_ERROR, EXIT_USAGE};
use crate::originate::tls::TlsTrust;
use crate::originate::trunk::TRUNK_HOST;
use crate::originate::uac::Target;
use crate::run::Embedded;
use run::{Model, Plan};
use schedule::{Profile, Schedule};

/// `load` options.
#[derive(Debug, Clone, Args)]
pub struct LoadArgs {
    /// Calls per second (the constant profile's rate; find-max's first rate).
    #[arg(long, default_value_t = 100.0, allow_negative_numbers = true)]
    pub rate: f64,
    /// How long calls are started for (0s: bounded by --calls only).
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// Stop after this many calls.
    #[arg(long)]
    pub calls: Option<u64>,
    /// Transport.
    #[arg(long, default_value = "tls")]
    pub transport: TransportKind,
    /// TLS profile the trunk offers: `genesys-byoc` (TLS 1.2, ECDHE secp384r1, the RSA AES-GCM
    /// suites, as the trunk does; ICD 5.1) or `any` (TLS 1.2 and 1.3, every group and suite).
    #[arg(long, default_value = "genesys-byoc", value_parser = ["genesys-byoc", "any"])]
    pub tls_profile: String,
    /// Where the calls go (default: the embedded gw1/gw2).
    #[command(flatten)]
    pub peer: crate::originate::peer::TargetArgs,
    /// Long-lived connections per gateway, calls multiplexed over them.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
    pub connections: i64,
    /// A new connection (TCP connect + TLS handshake) for every call.
    #[arg(long, conflicts_with = "connections")]
    pub connection_per_call: bool,
    /// Time between ACK and BYE.
    #[arg(long, default_value = "0s", value_parser = humantime::parse_duration)]
    pub hold: Duration,
    /// Attempt timeout: INVITE to final response, and BYE to its response.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// Most calls in progress at once; a due call beyond it is refused (and counted).
    #[arg(long, default_value_t = 20_000, allow_negative_numbers = true)]
    pub max_concurrent: i64,
    /// Dialed numbers and their weights.
    #[arg(long, default_value = "911=100")]
    pub mix: String,
    /// Rate profile: constant, ramp:FROM..TO (over --duration) or steps:R1,R2,..@DURATION.
    #[arg(long, default_value = "constant")]
    pub profile: String,
    /// SLOs, e.g. "p99_setup<50ms,isa<0.1%"; each is a JUnit testcase and drives the exit code.
    #[arg(long)]
    pub slo: Option<String>,
    /// Step the rate (x1.5, then bisect) until an SLO breaks (no failed call, without --slo).
    #[arg(long)]
    pub find_max: bool,
    /// Most --find-max steps.
    #[arg(long, default_value_t = 12)]
    pub find_max_steps: usize,
    /// A run whose generator lag p99 exceeds this is INVALID (exit 3).
    #[arg(long, default_value = "10ms", value_parser = humantime::parse_duration)]
    pub max_lag: Duration,
    /// No live progress.
    #[arg(long)]
    pub quiet: bool,
    /// Folder for report.json, summary.md, junit.xml and setup.hlog.
    #[arg(long, default_value = "out/load")]
    pub out: PathBuf,
}

/// The checked options, before any socket is opened.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Schedule.
    pub schedule: Schedule,
    /// Connection model.
    pub model: Model,
    /// Mix: (dial, weight).
    pub mix: Vec<(String, u32)>,
    /// SLOs.
    pub slos: Vec<slo::Slo>,
    /// Concurrency cap.
    pub max_concurrent: u64,
}

/// Checks every option; the error names the flag.
pub fn check(a: &LoadArgs) -> Result<Checked, String> {
    let profile: Profile = a.profile.parse().map_err(|e| format!("--profile: {e}"))?;
    if !(a.rate.is_finite() && a.rate > 0.0) {
        return Err(format!(
            "--rate must be > 0 calls per second, got {}",
            a.rate
        ));
    }
    let schedule = Schedule {
        profile,
        rate: a.rate,
        duration: a.duration,
        calls: a.calls,
    };
    schedule.validate()?;
    if a.connections < 1 {
        return Err(format!("--connections must be >= 1, got {}", a.connections));
    }
    if a.max_concurrent < 1 {
        return Err(format!(
            "--max-concurrent must be >= 1, got {}",
            a.max_concurrent
        ));
    }
    if a.timeout.is_zero() {
        return Err("--timeout must be > 0".into());
    }
    bounds::check(
        a.rate,
        u64::try_from(a.max_concurrent).unwrap_or(1),
        bounds::available_memory(),
    )?;
    if a.find_max && a.find_max_steps == 0 {
        return Err("--find-max-steps must be >= 1".into());
    }
    if a.find_max && a.duration.is_zero() {
        return Err("--find-max needs a --duration per step".into());
    }
    let mix = parse_mix(&a.mix)?;
    let slos = match &a.slo {
        Some(s) => slo::parse_list(s)?,
        None => Vec::new(),
    };
    Ok(Checked {
        schedule,
        model: if a.connection_per_call {
            Model::PerCall
        } else {
            Model::Pool(usize::try_from(a.connections).unwrap_or(1))
        },
        mix,
        slos,
        max_concurrent: u64::try_from(a.max_concurrent).unwrap_or(1),
    })
}

/// `911=95,933=5` -> [("911", 95), ("933", 5)].
pub fn parse_mix(s: &str) -> Result<Vec<(String, u32)>, String> {
    let mut out = Vec::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (dial, w) = item
            .split_once('=')
            .ok_or_else(|| format!("--mix {item:?}: expected NUMBER=WEIGHT, e.g. 911=95"))?;
        let dial = dial.trim();
        if dial.is_empty() || !dial.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("--mix {item:?}: {dial:?} is not a dialed number"));
        }
        let w: u32 = w
            .trim()
            .parse()
            .map_err(|_| format!("--mix {item:?}: weight must be a whole number"))?;
        out.push((dial.to_owned(), w));
    }
    if out.iter().map(|m| u64::from(m.1)).sum::<u64>() == 0 {
        return Err(format!("--mix {s:?}: no dialed number with a weight > 0"));
    }
    Ok(out)
}

fn call_spec(dial: &str, hold: Duration, timeout: Duration) -> CallSpec {
    CallSpec {
        dial: dial.to_owned(),
        ani: "+13125550100".to_owned(),
        ani_in: vec![AniPlacement::Pai],
        from_user: None,
        org_headers: vec![scenarios::DEFAULT_ORG_ID.to_owned()],
        extra_headers: Vec::new(),
        hold,
        timeout,
        gateway: "gw1".to_owned(),
        location: None,
        // The load generator's connections use the TLS client configuration of `load`.
        tls: scenarios::TlsProfileSpec::any(),
    }
}

/// The `--tls-profile` the trunk offers.
fn tls_profile(name: &str) -> scenarios::TlsProfileSpec {
    match name {
        "any" => scenarios::TlsProfileSpec::any(),
        _ => scenarios::TlsProfileSpec::genesys_byoc(),
    }
}

/// ` (TLS profile genesys-byoc)` over TLS, nothing over TCP.
fn profile_note(a: &LoadArgs) -> String {
    match a.transport {
        TransportKind::Tls => format!(" (TLS profile {})", a.tls_profile),
        TransportKind::Tcp => String::new(),
    }
}

/// A flag set by SIGINT or SIGTERM (the process's one token, [`crate::signals`]): the
/// schedule stops, in-flight calls drain, reports are written.
fn interrupt_flag() -> Arc<AtomicBool> {
    crate::signals::flag(&crate::signals::shutdown_token())
}

/// Runs `e911-harness load`; returns the exit code.
pub async fn load_cmd(a: LoadArgs) -> anyhow::Result<u8> {
    let checked = match check(&a) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(EXIT_USAGE);
        }
    };
    // The embedded gateways get a runtime of their own: on a small machine their tasks would
    // otherwise queue in front of the generator's and show up as generator lag.
    let gw_rt = match a.peer.target {
        None => Some(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("gateway")
                .enable_all()
                .build()
                .context("starting the gateways' runtime")?,
        ),
        Some(_) => None,
    };
    let (targets, tls, embedded, where_) = match (&a.peer.target, &gw_rt) {
        (None, Some(rt)) => {
            let kind = a.transport;
            let e = Arc::new(
                rt.spawn(async move { Embedded::start_unrecorded(kind).await })
                    .await??,
            );
            let where_ = format!(
                "embedded gw1, gw2 over {}{} on 127.0.0.1",
                a.transport,
                profile_note(&a)
            );
            let tls = match a.transport {
                TransportKind::Tls => Some(
                    TlsTrust::ca(e.ca_pem.as_bytes())
                        .client_config(&tls_profile(&a.tls_profile))
                        .map_err(anyhow::Error::msg)?,
                ),
                TransportKind::Tcp => None,
            };
            (e.targets(), tls, Some(e), where_)
        }
        (None, None) => anyhow::bail!("no target and no runtime for the embedded gateways"),
        (Some(t), _) => {
            let Some(crate::originate::peer::ResolvedTarget { addr, tls, host }) =
                a.peer.resolve(t, a.transport).await?
            else {
                return Ok(EXIT_USAGE);
            };
            let target = Target {
                name: "target".into(),
                host,
                addr,
                transport: a.transport,
            };
            let tls = tls
                .map(|t| t.trust.client_config(&tls_profile(&a.tls_profile)))
                .transpose()
                .map_err(anyhow::Error::msg)?;
            (
                vec![target],
                tls,
                None,
                format!(
                    "target {t} ({addr}) over {}{}",
                    a.transport,
                    profile_note(&a)
                ),
            )
        }
    };
    let plan = Plan {
        schedule: checked.schedule.clone(),
        targets,
        tls,
        model: checked.model,
        hold: a.hold,
        timeout: a.timeout,
        connect_timeout: a.timeout,
        max_concurrent: checked.max_concurrent,
        mix: checked
            .mix
            .iter()
            .map(|(d, w)| (call_spec(d, a.hold, a.timeout), *w))
            .collect(),
        local_host: TRUNK_HOST.to_owned(),
        progress: !a.quiet,
    };
    let stop = interrupt_flag();
    let started = SystemTime::now();
    let t = Instant::now();
    let result = if a.find_max {
        report::find_max(&a, &checked, &plan, &stop, &where_).await
    } else {
        report::single(&a, &checked, &plan, &stop, &where_).await
    };
    if let (Some(e), Some(rt)) = (embedded.and_then(|e| Arc::try_unwrap(e).ok()), &gw_rt) {
        let _ = rt.spawn(async move { e.shutdown().await }).await;
    }
    if let Some(rt) = gw_rt {
        rt.shutdown_background();
    }
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(EXIT_ERROR);
        }
    };
    report::finish(&a, outcome, started, t.elapsed())
}
