//! `certify --originator PLAN`: gw1 and gw2 run at `--gateway-listen` for a real originator
//! (a lab BYOC trunk, an SBC, a PBX) and the plan's steps are walked: an operator places each
//! call the terminal asks for, or, with `--drive COMMAND`, a command makes the originator place
//! them (CI). The result is the same evidence as `certify`: report.json, junit.xml and
//! summary.md, with the requirements matrix and what the plan did not cover.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use scenarios::plan::{Plan, load_plan_file, shipped_plan};
use sip::transport::TransportKind;

use mock_gateway::Retain;

use super::certify::{CertifyArgs, Finished, interrupt_flag, load_waivers, recording};
use crate::evidence::Topology;
use crate::evidence::trace::Lanes;
use crate::exit::EXIT_USAGE;
use crate::originate::trunk::GATEWAY_HOSTS;
use crate::plan::{self, Drive, Io, Options, drive::RunEnv};
use crate::run::Embedded;
use crate::verdict::Setting;

/// How often the gateways' logs are read during a step.
const POLL: Duration = Duration::from_millis(50);

/// Runs `certify --originator`.
pub async fn certify(a: &CertifyArgs, plan_arg: &str) -> anyhow::Result<u8> {
    let plan = match load(plan_arg) {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    if let Some(unknown) = a
        .plan
        .steps
        .iter()
        .find(|n| !plan.steps.iter().any(|s| s.name() == n.as_str()))
    {
        eprintln!(
            "error: --step {unknown}: the plan has no such step (its steps: {})",
            plan.steps
                .iter()
                .map(|s| s.name())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Ok(EXIT_USAGE);
    }
    let waivers = match load_waivers(a.waivers.as_deref()) {
        Ok(w) => w,
        Err(code) => return Ok(code),
    };
    let listen = [a.gateway_listen[0], a.gateway_listen[1]];
    let embedded = Embedded::start_recorded(
        a.transport,
        listen,
        Some(&a.certs_dir),
        Retain::All,
        recording(&a.evidence)?,
    )
    .await?;
    let lanes = Lanes {
        gateways: embedded
            .gateways
            .iter()
            .map(|g| (g.local_addr(), g.name().to_owned()))
            .collect(),
        other: "originator".to_owned(),
    };
    let ca = a.certs_dir.join("ca.pem");
    let gateways: Vec<(String, String, String)> = GATEWAY_HOSTS
        .iter()
        .zip(&embedded.gateways)
        .map(|((name, host), gw)| {
            (
                (*name).to_owned(),
                (*host).to_owned(),
                gw.local_addr().to_string(),
            )
        })
        .collect();
    eprintln!(
        "{}",
        banner(&plan, &gateways, a.transport, &ca, a.plan.drive.is_some())
    );
    let topology = format!(
        "originator under test -({})-> embedded {}; plan {} ({})",
        a.transport,
        gateways
            .iter()
            .map(|(n, _, addr)| format!("{n} {addr}"))
            .collect::<Vec<_>>()
            .join(", "),
        plan.name,
        plan.source
            .as_ref()
            .map_or_else(String::new, |p| p.display().to_string())
    );
    let opts = Options {
        setting: Setting {
            topology: Topology::Originator,
            trunk_leg: a.transport,
            gateway_leg: Some(a.transport),
            sut_attempt_timeout: Duration::ZERO,
        },
        epoch: embedded.epoch,
        settle: a.plan.settle.unwrap_or(plan.settle),
        step_timeout: a.plan.step_timeout,
        only: a.plan.steps.clone(),
        drive: a.plan.drive.as_ref().map(|command| Drive {
            command: command.clone(),
            logs: a.out.join("drive"),
            run: RunEnv {
                gateways: gateways.clone(),
                transport: a.transport.to_string(),
                ca: ca.clone(),
            },
        }),
        poll: POLL,
        recording: embedded.recording.clone(),
        lanes: lanes.clone(),
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let enter = if a.plan.drive.is_none() {
        // The operator ends a step with Enter; the reader ends with stdin.
        std::thread::spawn(move || {
            for line in std::io::stdin().lines() {
                if line.is_err() || tx.send(()).is_err() {
                    break;
                }
            }
        });
        Some(&mut rx)
    } else {
        None
    };
    let flag = interrupt_flag();
    let interrupted = || flag.load(Ordering::SeqCst);
    let mut say = |s: &str| eprintln!("{s}");
    let started = SystemTime::now();
    let t0 = Instant::now();
    let reports = plan::run(
        &plan,
        &embedded.gateways,
        &opts,
        Io {
            say: &mut say,
            enter,
            interrupted: &interrupted,
        },
    )
    .await;
    let recorded = embedded.recording.clone();
    embedded.shutdown().await;
    Finished {
        command: "certify",
        topology: &topology,
        started,
        elapsed: t0.elapsed(),
        uncovered: Some("no step of the plan covers it: add a step that exercises it"),
        trace: Some((&a.evidence, &recorded, lanes)),
    }
    .write(reports, waivers.as_ref(), &a.out)
}

/// The plan named on the command line: a file, else a shipped plan; a usage error (printed,
/// every problem with file, line, column and field) otherwise.
fn load(arg: &str) -> Result<Plan, u8> {
    let path = Path::new(arg);
    let loaded = if path.exists() {
        load_plan_file(path)
    } else {
        match shipped_plan(arg) {
            Some(p) => p,
            None => {
                eprintln!(
                    "error: --originator {arg}: no such plan file, and no shipped plan of that name (shipped: {})",
                    scenarios::plan::SHIPPED_PLANS
                        .iter()
                        .map(|f| f.name.trim_end_matches(".toml"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                return Err(EXIT_USAGE);
            }
        }
    };
    loaded.map_err(|e| {
        eprintln!("{e}");
        EXIT_USAGE
    })
}

/// What the operator must set up before the first step.
fn banner(
    plan: &Plan,
    gateways: &[(String, String, String)],
    transport: TransportKind,
    ca: &Path,
    driving: bool,
) -> String {
    let mut lines = vec![format!(
        "plan {}: {} step(s). {}",
        plan.name,
        plan.steps.len(),
        plan.description
    )];
    for (name, host, addr) in gateways {
        lines.push(format!(
            "  {name}: {addr} over {transport} (certificate for {host}, localhost, 127.0.0.1)"
        ));
    }
    if transport == TransportKind::Tls {
        lines.push(format!(
            "  the originator must trust {} for the gateways' certificates",
            ca.display()
        ));
    }
    lines.push(format!(
        "  route 911 and 933 to gw1 first, then gw2; every call must carry E911-Organization-ID {}",
        plan.org_id
    ));
    lines.push(if driving {
        "  unattended: the drive command places each step's calls".to_owned()
    } else {
        "  place each call when asked; Enter ends a step early, Ctrl-C ends the run (reports are still written)".to_owned()
    });
    lines.join("\n")
}
