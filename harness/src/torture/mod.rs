//! `e911-harness torture --target HOST:PORT`: attacks a system under test (an SBC, a proxy, a
//! gateway) with the RFC 4475/5118 torture messages and PROTOS-style mutations of the trunk's
//! own INVITE, each on a fresh TCP or TLS connection, and after every batch checks the element
//! is still up: an OPTIONS and a real 911 call must still be answered.
//!
//! Every case becomes a check (answered how, connection fate, against what a correct element
//! does); each batch's liveness probes are checks too. Reports are those of every command
//! (`report.json`, `junit.xml`, `summary.md`). Bounded: at most `--max-cases` cases, each
//! waited on for at most `--case-timeout`, the whole run stopped at `--time-limit` (cases left
//! are reported as skipped). The target goes through the interlock like every other: loopback
//! unless `--allow-remote`, never a production host.
//!
//! # Layout
//! - [`cases`]: the corpus and the mutations, with expectations.
//! - [`probe`]: one case on one connection, and its judgement.

pub mod cases;
pub mod probe;

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use clap::Args;
use reports::{CheckResult, Outcome, ScenarioReport};
use sip::transport::TransportKind;
use tokio_util::sync::CancellationToken;

use crate::exit::{BadInput, EXIT_INTERRUPTED, EXIT_USAGE, interrupted_check};
use crate::originate::peer::{PeerArgs, ResolvedTarget};
use crate::originate::trunk::{LocalEndpoint, TRUNK_HOST, build_invite};
use crate::originate::uac::{Target, UacConfig, place_call};
use cases::{Batch, Invite};

/// `torture` options.
#[derive(Debug, Args)]
pub struct TortureArgs {
    /// The system under test (SBC, proxy or gateway) at HOST:PORT.
    #[arg(long, value_name = "HOST:PORT")]
    pub target: String,
    /// Transport to the target.
    #[arg(long, default_value = "tls")]
    pub transport: TransportKind,
    /// How the target is named and trusted.
    #[command(flatten)]
    pub peer: PeerArgs,
    /// Folder for report.json, junit.xml and summary.md.
    #[arg(long, default_value = "out/torture")]
    pub out: PathBuf,
    /// How long one case waits for an answer (0.1s to 30s).
    #[arg(long, default_value = "2s", value_parser = case_timeout)]
    pub case_timeout: Duration,
    /// The whole run stops after this long (cases left are reported as skipped).
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    pub time_limit: Duration,
    /// Run at most this many cases.
    #[arg(long, value_name = "N")]
    pub max_cases: Option<usize>,
    /// Only cases whose name starts with one of these (`rfc4475/`, `sdp/`, `rfc4475/badvers`).
    #[arg(long, value_name = "PREFIX")]
    pub only: Vec<String>,
    /// The number the liveness call dials after each batch.
    #[arg(long, default_value = "911")]
    pub dial: String,
}

fn case_timeout(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| e.to_string())?;
    if d < Duration::from_millis(100) || d > Duration::from_secs(30) {
        return Err(format!("{s} is outside 0.1s to 30s"));
    }
    Ok(d)
}

/// Runs the torture suite; the exit code follows the report's verdict.
pub async fn torture_cmd(a: TortureArgs, cancel: CancellationToken) -> anyhow::Result<u8> {
    let Some(ResolvedTarget { addr, tls, host }) = a.peer.resolve(&a.target, a.transport).await?
    else {
        return Ok(EXIT_USAGE);
    };
    if !a.dial.bytes().all(|b| b.is_ascii_digit()) || a.dial.is_empty() {
        return Err(BadInput::new(format!("--dial {}: expected digits", a.dial)).into());
    }
    let target = Target {
        name: "target".into(),
        host,
        addr,
        transport: a.transport,
    };
    let cfg = UacConfig {
        tls: tls.as_ref().map(|t| t.config.clone()),
        tls_trust: tls.map(|t| t.trust),
        local_host: TRUNK_HOST.to_owned(),
        connect_timeout: Duration::from_secs(5),
        epoch: crate::evidence::Epoch::now(),
        recording: crate::evidence::recording::Recording::default(),
        media: false,
    };
    let base = || {
        let local = LocalEndpoint {
            host: TRUNK_HOST.to_owned(),
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], 5060)),
        };
        Invite::from_bytes(&build_invite(&liveness_call("911"), &target, &local).to_bytes())
    };
    let mut batches = cases::corpus_batches();
    batches.extend(cases::mutation_batches(&base));
    let batches = select(batches, &a.only, a.max_cases);
    if batches.is_empty() {
        return Err(BadInput::new("--only/--max-cases leave no case to run").into());
    }
    let total: usize = batches.iter().map(|b| b.cases.len()).sum();
    eprintln!(
        "torture: {total} case(s) in {} batch(es) against {} ({addr}) over {}",
        batches.len(),
        a.target,
        a.transport
    );
    let started = SystemTime::now();
    let t0 = Instant::now();
    let deadline = t0 + a.time_limit;
    let mut scenarios = Vec::new();
    for batch in &batches {
        let report = run_batch(batch, &target, &cfg, &a, deadline, &cancel).await;
        let failed = report
            .checks
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Fail | Outcome::Error))
            .count();
        eprintln!(
            "{:<34} {} case(s), {}",
            batch.name,
            batch.cases.len(),
            if failed == 0 {
                "ok".to_owned()
            } else {
                format!("{failed} FAILED")
            }
        );
        scenarios.push(report);
    }
    let topology = format!(
        "torture: harness -> {} ({addr}) over {}{}",
        a.target,
        a.transport,
        if a.peer.insecure {
            ", certificate NOT verified (--insecure)"
        } else {
            ""
        }
    );
    let interrupted = cancel.is_cancelled();
    if interrupted {
        scenarios.push(ScenarioReport {
            name: "run".into(),
            description: "whether the run finished".into(),
            checks: vec![interrupted_check(
                "the cases not run are reported as skipped",
            )],
            ..ScenarioReport::default()
        });
    }
    let report = crate::run::assemble("torture", &topology, started, t0.elapsed(), scenarios);
    let written = reports::write_all(&report, &a.out)
        .with_context(|| format!("writing reports to {}", a.out.display()))?;
    crate::stdout::print_quietly(&reports::render_summary_text(&report));
    crate::stdout::println_quietly(&format!("reports: {written}"));
    if interrupted {
        crate::stdout::println_quietly("verdict: INTERRUPTED");
        return Ok(EXIT_INTERRUPTED);
    }
    Ok(report.verdict().exit_code() as u8)
}

/// The call the liveness probe places (and whose INVITE the mutations start from).
fn liveness_call(dial: &str) -> scenarios::CallSpec {
    scenarios::CallSpec {
        dial: dial.to_owned(),
        ani: "+13125550100".to_owned(),
        ani_in: vec![scenarios::AniPlacement::Pai],
        from_user: None,
        org_headers: vec![scenarios::DEFAULT_ORG_ID.to_owned()],
        extra_headers: Vec::new(),
        hold: Duration::ZERO,
        timeout: Duration::from_secs(5),
        abandon_after: None,
        gateway: "target".to_owned(),
        location: None,
        tls: scenarios::TlsProfile::any(),
    }
}

/// The batches with only the cases `only` names (all when empty), at most `max` cases.
fn select(batches: Vec<Batch>, only: &[String], max: Option<usize>) -> Vec<Batch> {
    let mut left = max.unwrap_or(usize::MAX);
    batches
        .into_iter()
        .filter_map(|mut b| {
            b.cases
                .retain(|c| only.is_empty() || only.iter().any(|p| c.name.starts_with(p.as_str())));
            b.cases.truncate(left);
            left -= b.cases.len();
            (!b.cases.is_empty()).then_some(b)
        })
        .collect()
}

async fn run_batch(
    batch: &Batch,
    target: &Target,
    cfg: &UacConfig,
    a: &TortureArgs,
    deadline: Instant,
    cancel: &CancellationToken,
) -> ScenarioReport {
    let t0 = Instant::now();
    let requirement = batch
        .name
        .starts_with("rfc4475")
        .then(|| "RFC 4475".to_owned())
        .or_else(|| Some("RFC 3261".to_owned()));
    let mut checks = Vec::new();
    let mut stopped = None;
    for case in &batch.cases {
        if stopped.is_none() {
            if cancel.is_cancelled() {
                stopped = Some("interrupted before this case ran");
            } else if Instant::now() >= deadline {
                stopped = Some("--time-limit reached before this case ran");
            }
        }
        if let Some(why) = stopped {
            checks.push(CheckResult {
                id: case.name.clone(),
                requirement: requirement.clone(),
                outcome: Outcome::Skipped,
                expected: Some(case.expect.describe()),
                observed: None,
                message: why.to_owned(),
            });
            continue;
        }
        let seen = tokio::select! {
            s = probe::send_case(target, cfg, &case.bytes, case.expect, a.case_timeout) => s,
            () = cancel.cancelled() => {
                stopped = Some("interrupted while this case ran");
                checks.push(CheckResult {
                    id: case.name.clone(),
                    requirement: requirement.clone(),
                    outcome: Outcome::Skipped,
                    expected: Some(case.expect.describe()),
                    observed: None,
                    message: "interrupted while this case ran".into(),
                });
                continue;
            }
        };
        let verdict = probe::judge(case.expect, &seen);
        checks.push(CheckResult {
            id: case.name.clone(),
            requirement: requirement.clone(),
            outcome: if verdict.is_ok() {
                Outcome::Pass
            } else {
                Outcome::Fail
            },
            expected: Some(case.expect.describe()),
            observed: Some(seen.describe()),
            message: verdict.err().unwrap_or_default(),
        });
    }
    if stopped.is_none() {
        checks.extend(liveness(target, cfg, &a.dial, a.case_timeout).await);
    }
    ScenarioReport {
        name: batch.name.clone(),
        description: batch.description.clone(),
        file: None,
        requirements: requirement.into_iter().collect(),
        checks,
        calls: Vec::new(),
        observations: Vec::new(),
        duration_ms: t0.elapsed().as_millis() as u64,
        ..ScenarioReport::default()
    }
}

/// The element is still up: an OPTIONS is answered, and a real emergency call completes.
async fn liveness(
    target: &Target,
    cfg: &UacConfig,
    dial: &str,
    bound: Duration,
) -> Vec<CheckResult> {
    let options =
        match crate::originate::health::probe(target, cfg, bound.max(Duration::from_secs(2))).await
        {
            Ok(status) => (
                Outcome::Pass,
                format!("OPTIONS answered {status}"),
                String::new(),
            ),
            Err(e) => (
                Outcome::Fail,
                e.clone(),
                format!("the element is not answering: {e}"),
            ),
        };
    let call = place_call(&liveness_call(dial), target, cfg).await;
    let status = call.final_status();
    let answered = status == Some(200);
    let observed = match (status, call.last()) {
        (Some(s), _) => format!("{dial} call answered {s}"),
        (None, Some(a)) => format!("{dial} call failed: {}", a.end.describe()),
        (None, None) => format!("{dial} call got no final answer"),
    };
    vec![
        CheckResult {
            id: "liveness.options".into(),
            requirement: Some("RFC 3261".into()),
            outcome: options.0,
            expected: Some("OPTIONS answered (below 500) after the batch".into()),
            observed: Some(options.1),
            message: options.2,
        },
        CheckResult {
            id: format!("liveness.{dial}-call"),
            requirement: Some("ICD 5.2".into()),
            outcome: if answered {
                Outcome::Pass
            } else {
                Outcome::Fail
            },
            expected: Some(format!("a {dial} call answered 200 after the batch")),
            observed: Some(observed.clone()),
            message: if answered {
                String::new()
            } else {
                format!("emergency calls stopped completing: {observed}")
            },
        },
    ]
}
