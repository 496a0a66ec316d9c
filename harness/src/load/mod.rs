//! `e911-harness load`: open-loop load against the embedded gateways or a target, measured the
//! way `docs/measurement.md` asks (intended start times, HdrHistograms per metric x outcome x
//! gateway, interval logs, RFC 6076 ratios, a validity check on the generator's own lag), on one
//! machine or several (`--shard I/N`, `--start-at`, then `e911-harness merge`).
//!
//! # Layout
//! - [`flags`]: the typed values of the flags (clap parses straight into them).
//! - [`schedule`]: when call `i` is due (constant, ramp, steps; uniform or Poisson; sharded); pure.
//! - [`slo`]: `--slo` parsing and judging; pure.
//! - [`findmax`]: the `--find-max` rate search; pure.
//! - [`callers`]: `--callers FILE.csv` rows and which row a call uses; pure.
//! - [`metrics`]: the recorder (histograms, counters, slices per dial and step, interval log).
//! - [`breakdown`]: counts and `setup` per dialed number and per step ([`breakdown::Slice`]).
//! - [`state`]: the recorder's exact state in `report.json` and back (for `merge`).
//! - [`wire`]: INVITE templates, ACK/BYE writers, the response scanner.
//! - [`conn`]: one multiplexed UAC connection (connection task + batching writer task).
//! - [`run`]: one run: pool, scheduler, aggregator, progress, drain.
//! - [`anicheck`]: the gateways' observed ANI against each call's caller row.
//! - [`live`]: `--metrics-listen`, OpenMetrics over HTTP (also for `gateway`).
//! - [`report`]: the `load` section, checks, files and exit code; [`verdict`]: the calls
//!   check and the INTERRUPTED exit; [`bounds`]: the rate and concurrency ceilings.
//! - [`merge`]: `e911-harness merge DIR...`: shards combined exactly and judged again.
//!
//! # Invariants
//! - Every attempted call ends in exactly one outcome; `merge` checks the identity again.
//! - Histograms are only ever added, never averaged; percentiles are read off the sum.
//! - Every loop is bounded in count and time; the drain after the schedule is bounded.

pub mod anicheck;
pub mod bounds;
pub mod breakdown;
pub mod callers;
pub mod conn;
pub mod findmax;
pub mod flags;
pub mod live;
pub mod media;
pub mod merge;
pub mod metrics;
pub mod report;
pub mod run;
pub mod schedule;
pub mod slo;
pub mod state;
pub mod verdict;
pub mod wire;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use clap::Args;
use scenarios::{AniPlacement, CallSpec};
use sip::transport::TransportKind;

use crate::exit::{EXIT_ERROR, EXIT_USAGE};
use crate::originate::tls::TlsProfileName;
use crate::originate::tls::TlsTrust;
use crate::originate::trunk::TRUNK_HOST;
use crate::originate::uac::Target;
use crate::run::Embedded;
use flags::{Arrivals, CallerOrder, Mix, Resumption, Shard, SloList, StartAt};
use run::{Model, Plan};
use schedule::{Profile, Schedule};

/// `load` options.
#[derive(Debug, Clone, Args)]
pub struct LoadArgs {
    /// Calls per second (the constant profile's rate; find-max's first rate); over every shard
    /// together.
    #[arg(long, default_value = "100", value_parser = flags::rate, allow_negative_numbers = true)]
    pub rate: f64,
    /// How long calls are started for (0s: bounded by --calls only).
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// Stop after this many calls (over every shard together).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub calls: Option<u64>,
    /// Transport.
    #[arg(long, default_value = "tls")]
    pub transport: TransportKind,
    /// TLS profile the trunk offers: `genesys-byoc` (TLS 1.2, ECDHE secp384r1, the RSA AES-GCM
    /// suites, as the trunk does; ICD 5.1) or `any` (TLS 1.2 and 1.3, every group and suite).
    #[arg(long, value_enum, default_value = "genesys-byoc")]
    pub tls_profile: TlsProfileName,
    /// `off`: every new connection does a full TLS handshake (what an SBC's CPU pays for);
    /// `on`: connections resume the cached session when the server allows it.
    #[arg(long, value_enum, default_value = "on")]
    pub tls_resumption: Resumption,
    /// Where the calls go (default: the embedded gw1/gw2).
    #[command(flatten)]
    pub peer: crate::originate::peer::TargetArgs,
    /// Long-lived connections per gateway, calls multiplexed over them.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub connections: u16,
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
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub max_concurrent: u64,
    /// Dialed numbers and their weights, e.g. 911=95,933=5.
    #[arg(long, default_value = "911=100")]
    pub mix: Mix,
    /// Rate profile: constant, ramp:FROM..TO (over --duration) or steps:R1,R2,..@DURATION.
    #[arg(long, default_value = "constant")]
    pub profile: Profile,
    /// How calls are spaced: `uniform` (evenly) or `poisson` (a seeded Poisson process with
    /// the profile's mean rate: bursts and lulls, as real callers arrive).
    #[arg(long, value_enum, default_value = "uniform")]
    pub arrivals: Arrivals,
    /// Seed of the Poisson gaps, the mix draw and random caller rows (same seed, same calls).
    #[arg(long, default_value_t = 0x911)]
    pub seed: u64,
    /// SLOs, e.g. "p99_setup<50ms,isa<0.1%"; each is a JUnit testcase and drives the exit code.
    #[arg(long)]
    pub slo: Option<SloList>,
    /// Step the rate (x1.5, then bisect) until an SLO breaks (no failed call, without --slo).
    #[arg(long)]
    pub find_max: bool,
    /// Most --find-max steps.
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u16).range(1..=100))]
    pub find_max_steps: u16,
    /// A run whose generator lag p99 exceeds this is INVALID (exit 3).
    #[arg(long, default_value = "10ms", value_parser = humantime::parse_duration)]
    pub max_lag: Duration,
    /// This generator is shard I of N (from 0): it places calls I, I+N, I+2N... of the
    /// schedule, so N shards offer --rate together; `merge` combines their reports.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Start the schedule at this wall-clock time (RFC 3339), so shards on several machines
    /// start together.
    #[arg(long, value_name = "TIME")]
    pub start_at: Option<StartAt>,
    /// Per-call caller data (CSV with a header line: ani, did, user_did, extension, org,
    /// location); each call sends its row's ANI and org, and the embedded gateways check it.
    #[arg(long, value_name = "FILE.csv")]
    pub callers: Option<PathBuf>,
    /// Which row a call uses: sequential, random (seeded) or per-shard.
    #[arg(long, value_enum, default_value = "sequential", requires = "callers")]
    pub caller_order: CallerOrder,
    /// Serve live OpenMetrics (Prometheus) text at http://ADDR/metrics during the run.
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,
    /// Carry two-way SRTP on every answered call (50 packets/s each way, UDP ports
    /// 30000-60000) and report media packets/s, loss and jitter; needs --hold of 200ms or more.
    #[arg(long)]
    pub media: bool,
    /// No live progress.
    #[arg(long)]
    pub quiet: bool,
    /// Folder for report.json, summary.md, junit.xml, report.html and setup.hlog.
    #[arg(long, default_value = "out/load")]
    pub out: PathBuf,
    /// `--pcap` (the first calls and every failed call), `--pcap-first-calls`, `--tls-keylog`.
    #[command(flatten)]
    pub evidence: crate::evidence::options::LoadEvidenceArgs,
}

/// The checked options, before any socket is opened.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Schedule.
    pub schedule: Schedule,
    /// Connection model.
    pub model: Model,
    /// Mix: (dial, weight).
    pub mix: Mix,
    /// SLOs.
    pub slos: Vec<slo::Slo>,
    /// Concurrency cap.
    pub max_concurrent: u64,
    /// Caller rows.
    pub callers: Option<Arc<callers::Callers>>,
}

/// Checks what clap cannot check alone (combinations, files); the error names the flag.
pub fn check(a: &LoadArgs) -> Result<Checked, String> {
    let shard = a.shard.unwrap_or_default();
    let schedule = Schedule {
        profile: a.profile.clone(),
        rate: a.rate,
        duration: a.duration,
        calls: a.calls,
        arrivals: a.arrivals,
        seed: a.seed,
        shard,
    };
    schedule.validate()?;
    if a.timeout.is_zero() {
        return Err("--timeout must be > 0".into());
    }
    // The ceiling is per generator: a shard places rate / count of the calls.
    bounds::check(
        a.rate / f64::from(shard.count.max(1)),
        a.max_concurrent,
        bounds::available_memory(),
    )?;
    if a.media && a.hold < media::MIN_HOLD {
        return Err(format!(
            "--media needs --hold of at least {} (media flows between the ACK and the BYE); --hold is {}",
            humantime::format_duration(media::MIN_HOLD),
            humantime::format_duration(a.hold)
        ));
    }
    if a.find_max && a.duration.is_zero() {
        return Err("--find-max needs a --duration per step".into());
    }
    if a.find_max && a.shard.is_some() {
        return Err("--find-max searches on one generator; shards cannot agree on the next rate without a coordinator (run --profile steps:... on each shard instead)".into());
    }
    if let Some(StartAt(at)) = a.start_at {
        let ahead = at.duration_since(SystemTime::now()).unwrap_or_default();
        if ahead > flags::START_AT_MAX_WAIT {
            return Err(format!(
                "--start-at is {} ahead; at most {} is waited for",
                humantime::format_duration(Duration::from_secs(ahead.as_secs())),
                humantime::format_duration(flags::START_AT_MAX_WAIT)
            ));
        }
    }
    let callers = a
        .callers
        .as_deref()
        .map(|p| callers::Callers::load(p, a.caller_order, a.seed, shard))
        .transpose()?
        .map(Arc::new);
    Ok(Checked {
        schedule,
        model: if a.connection_per_call {
            Model::PerCall
        } else {
            Model::Pool(usize::from(a.connections))
        },
        mix: a.mix.clone(),
        slos: a.slo.clone().map(|s| s.0).unwrap_or_default(),
        max_concurrent: a.max_concurrent,
        callers,
    })
}

fn call_spec(dial: &str, hold: Duration, timeout: Duration, per_call: bool) -> CallSpec {
    CallSpec {
        dial: dial.to_owned(),
        ani: if per_call {
            wire::ANI_HOLE
        } else {
            "+13125550100"
        }
        .to_owned(),
        ani_in: vec![AniPlacement::Pai],
        from_user: None,
        org_headers: vec![
            if per_call {
                wire::ORG_HOLE
            } else {
                scenarios::DEFAULT_ORG_ID
            }
            .to_owned(),
        ],
        extra_headers: Vec::new(),
        hold,
        timeout,
        abandon_after: None,
        gateway: "gw1".to_owned(),
        location: None,
        // The load generator's connections use the TLS client configuration of `load`.
        tls: scenarios::TlsProfile::any(),
    }
}

/// The client configuration `load` uses: the profile's, without session resumption when
/// `--tls-resumption off` (a configuration of its own, so nothing shares its empty cache).
fn client_config(trust: &TlsTrust, a: &LoadArgs) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let shared = trust
        .client_config(&a.tls_profile.spec())
        .map_err(anyhow::Error::msg)?;
    Ok(match a.tls_resumption {
        Resumption::On => shared,
        Resumption::Off => {
            let mut own = (*shared).clone();
            own.resumption = rustls::client::Resumption::disabled();
            Arc::new(own)
        }
    })
}

/// ` (TLS profile genesys-byoc, resumption off)` over TLS, nothing over TCP.
fn profile_note(a: &LoadArgs) -> String {
    match a.transport {
        TransportKind::Tls => format!(
            " (TLS profile {}, resumption {})",
            a.tls_profile.spec().name(),
            a.tls_resumption.as_str()
        ),
        TransportKind::Tcp => String::new(),
    }
}

/// The caller-data check against the embedded gateways.
#[derive(Debug)]
pub struct AniHook {
    checker: anicheck::Checker,
    embedded: Arc<Embedded>,
}

impl AniHook {
    /// The tally since the last take, once the checker has caught up (bounded).
    pub async fn take(&self) -> reports::load_detail::AniCheck {
        self.checker
            .take(&self.embedded.gateways, Duration::from_secs(3))
            .await
    }
}

/// The embedded gateways' runtime. Dropped in the middle of the command's own runtime (an early
/// return, an error), a runtime must not block; this one shuts down in the background.
#[derive(Debug)]
struct GatewayRuntime(Option<tokio::runtime::Runtime>);

impl std::ops::Deref for GatewayRuntime {
    type Target = tokio::runtime::Runtime;

    fn deref(&self) -> &tokio::runtime::Runtime {
        self.0.as_ref().expect("present until dropped")
    }
}

impl Drop for GatewayRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// Hooks for in-process callers (tests): where the metrics endpoint was bound.
#[derive(Debug, Default)]
pub struct Hooks {
    /// Told the bound address of `--metrics-listen`.
    pub metrics_bound: Option<tokio::sync::oneshot::Sender<SocketAddr>>,
}

/// A flag set by SIGINT or SIGTERM (the process's one token, [`crate::signals`]): the
/// schedule stops, in-flight calls drain, reports are written.
fn interrupt_flag() -> Arc<AtomicBool> {
    crate::signals::flag(&crate::signals::shutdown_token())
}

/// Runs `e911-harness load`; returns the exit code.
pub async fn load_cmd(a: LoadArgs) -> anyhow::Result<u8> {
    load_with(a, Hooks::default()).await
}

/// [`load_cmd`] with hooks.
pub async fn load_with(a: LoadArgs, mut hooks: Hooks) -> anyhow::Result<u8> {
    let checked = match check(&a) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(EXIT_USAGE);
        }
    };
    // Bound before anything starts: a port in use is bad input, found before any socket opens.
    let metrics_listener = match a.metrics_listen {
        Some(addr) => match live::bind(addr).await {
            Ok(l) => Some(l),
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(EXIT_USAGE);
            }
        },
        None => None,
    };
    let recording = a.evidence.recording()?;
    // The embedded gateways get a runtime of their own: on a small machine their tasks would
    // otherwise queue in front of the generator's and show up as generator lag.
    let gw_rt = match a.peer.target {
        None => Some(GatewayRuntime(Some(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("gateway")
                .enable_all()
                .build()
                .context("starting the gateways' runtime")?,
        ))),
        Some(_) => None,
    };
    let (targets, tls, embedded, where_) = match (&a.peer.target, &gw_rt) {
        (None, Some(rt)) => {
            let kind = a.transport;
            let gw_recording = recording.clone();
            let e = Arc::new(
                rt.spawn(async move { Embedded::start_unrecorded_with(kind, gw_recording).await })
                    .await??,
            );
            let where_ = format!(
                "embedded gw1, gw2 over {}{} on 127.0.0.1",
                a.transport,
                profile_note(&a)
            );
            let tls = match a.transport {
                TransportKind::Tls => Some(client_config(&TlsTrust::ca(e.ca_pem.as_bytes()), &a)?),
                TransportKind::Tcp => None,
            };
            if checked.callers.is_some() || a.media {
                // The gateways serve the orgs of the caller rows (as a provisioned gateway
                // would) beside the default one, and carry media when the run does.
                let mut orgs = checked.callers.as_ref().map_or_else(Vec::new, |c| c.orgs());
                orgs.push(scenarios::DEFAULT_ORG_ID.to_owned());
                orgs.sort();
                orgs.dedup();
                for gw in &e.gateways {
                    gw.set_policy(mock_gateway::Policy {
                        orgs: orgs.clone(),
                        media: a.media,
                        ..mock_gateway::Policy::default()
                    });
                }
            }
            (e.targets(), tls, Some(e), where_)
        }
        (None, None) => anyhow::bail!("no target and no runtime for the embedded gateways"),
        (Some(t), _) => {
            let Some(crate::originate::peer::ResolvedTarget { addr, tls, host }) =
                a.peer.peer.resolve(t, a.transport).await?
            else {
                return Ok(EXIT_USAGE);
            };
            let target = Target {
                name: "target".into(),
                host,
                addr,
                transport: a.transport,
            };
            let tls = tls.map(|t| client_config(&t.trust, &a)).transpose()?;
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
    let ani = match (&checked.callers, &embedded, &gw_rt) {
        (Some(c), Some(e), Some(rt)) => Some(AniHook {
            checker: anicheck::Checker::start(rt.handle(), &e.gateways, c.clone()),
            embedded: e.clone(),
        }),
        _ => None,
    };
    let mut registry = prometheus_client::registry::Registry::default();
    let live = a.metrics_listen.map(|_| {
        live::LoadMetrics::register(&mut registry, &a.shard.unwrap_or_default().to_string())
    });
    if let (Some(_), Some(e)) = (a.metrics_listen, &embedded) {
        let e = e.clone();
        registry.register_collector(Box::new(live::GatewayCollector::new(move || {
            e.gateways
                .iter()
                .map(|g| (g.name().to_owned(), g.stats()))
                .collect()
        })));
    }
    let endpoint = metrics_listener.map(|l| live::Endpoint::serve(l, Arc::new(registry)));
    if let Some(ep) = &endpoint {
        eprintln!("metrics: http://{}/metrics (OpenMetrics)", ep.addr);
        if let Some(tx) = hooks.metrics_bound.take() {
            let _ = tx.send(ep.addr);
        }
    }
    let per_call = checked.callers.is_some();
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
            .0
            .iter()
            .map(|(d, w)| (call_spec(d, a.hold, a.timeout, per_call), *w))
            .collect(),
        local_host: TRUNK_HOST.to_owned(),
        progress: !a.quiet,
        live,
        start_at: a.start_at.map(|s| s.0),
        callers: checked.callers.clone(),
        capture: recording.capture().cloned(),
        media: a.media.then(|| run::MediaPlan {
            tally: Arc::new(media::Tally::default()),
            gateways: embedded.clone(),
        }),
    };
    let plan = Plan {
        tls: plan.tls.map(|t| recording.client(t)),
        ..plan
    };
    let lanes = crate::evidence::trace::Lanes {
        gateways: match &embedded {
            Some(_) => plan
                .targets
                .iter()
                .map(|t| (t.addr, t.name.clone()))
                .collect(),
            None => Vec::new(),
        },
        other: "target".into(),
    };
    let stop = interrupt_flag();
    let started = SystemTime::now();
    let t = Instant::now();
    let result = if a.find_max {
        report::find_max(&a, &checked, &plan, &stop, &where_, ani.as_ref()).await
    } else {
        report::single(&a, &checked, &plan, &stop, &where_, ani.as_ref()).await
    };
    if let Some(ep) = endpoint {
        ep.stop().await;
    }
    drop(ani);
    if let (Some(e), Some(rt)) = (embedded.and_then(|e| Arc::try_unwrap(e).ok()), &gw_rt) {
        let _ = rt.spawn(async move { e.shutdown().await }).await;
    }
    drop(gw_rt);
    a.evidence.evidence.finish(&recording, &lanes)?;
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(EXIT_ERROR);
        }
    };
    report::finish(&a.out, outcome, started, t.elapsed())
}
