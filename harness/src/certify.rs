//! Running scenarios: the embedded topology (two mock gateways over TLS on loopback with
//! certificates generated at start) or an external target, one scenario at a time, each judged
//! by [`crate::verdict`] and gathered into a [`reports::RunReport`].
//!
//! Scenarios run one after another because each one reconfigures the gateways' policy; a
//! scenario's observations are matched to its call by Call-ID, so a stray request can never
//! be judged as part of the wrong call.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use mock_gateway::fault::FaultTlsConfigs;
use mock_gateway::{Gateway, GatewayConfig, Limits, Policy, Retain};
use reports::{CheckResult, Outcome, RunReport, ScenarioReport};
use scenarios::Scenario;
use sip::transport::certs::{self, Authority, KeyKind, Validity};
use sip::transport::{self, TlsProfile, TransportKind};

use crate::correlate::{Correlation, correlate};
use crate::tls::{GatewayIdentities, TlsTrust};
use crate::uac::{self, Target, UacConfig};
use crate::verdict::{self, Evidence};

/// The host names the embedded gateways present, as in the interface (ICD 5.1.6).
pub const GATEWAY_HOSTS: [(&str, &str); 2] = [
    ("gw1", "gw1.anywhere.e911cloud.com"),
    ("gw2", "gw2.anywhere.e911cloud.com"),
];

/// The host the originating trunk puts in its own URIs.
pub const TRUNK_HOST: &str = "trunk.e911-harness.invalid";

/// Something that stopped a run before any scenario could be judged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// Certificate generation failed.
    #[error("generating test certificates: {0}")]
    Certs(String),
    /// TLS configuration failed.
    #[error("tls configuration: {0}")]
    Tls(String),
    /// A gateway could not start.
    #[error("starting embedded gateway {name}: {reason}")]
    Gateway {
        /// Gateway name.
        name: String,
        /// Why.
        reason: String,
    },
}

/// Two mock gateways running in this process, and a TLS client configuration that trusts them.
#[derive(Debug)]
pub struct Embedded {
    /// gw1 then gw2.
    pub gateways: Vec<Gateway>,
    /// The test CA (PEM).
    pub ca_pem: String,
    /// Client configuration trusting only that CA.
    pub client_tls: Arc<rustls::ClientConfig>,
    /// Transport the gateways listen on.
    pub transport: TransportKind,
    /// The gateways' certificates and keys, to serve under a scenario's TLS profile.
    pub identities: GatewayIdentities,
}

impl Embedded {
    /// Generates a CA and one RSA certificate per gateway (the trunk's TLS profile wants RSA),
    /// and starts gw1 and gw2 on 127.0.0.1 with OS-chosen ports.
    pub async fn start(transport_kind: TransportKind) -> Result<Embedded, RunError> {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        Embedded::start_on(transport_kind, [any, any], None).await
    }

    /// Like [`Embedded::start`], keeping no observations (load runs: recording then costs no
    /// lock and no memory; [`Gateway::stats`] still counts).
    pub async fn start_unrecorded(transport_kind: TransportKind) -> Result<Embedded, RunError> {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        Embedded::start_with(transport_kind, [any, any], None, Retain::None).await
    }

    /// Like [`Embedded::start`], with gw1 and gw2 on the given addresses (a system under test
    /// must know where to send). With `certs_dir`, the gateways use the CA and certificates in
    /// it (`ca.pem`, `gw1.pem`/`gw1.key`, `gw2.pem`/`gw2.key`, as `e911-harness certs` writes
    /// them) when `ca.pem` is there, so a system under test configured once keeps trusting
    /// them; otherwise new ones are generated and written there.
    pub async fn start_on(
        transport_kind: TransportKind,
        listen: [SocketAddr; 2],
        certs_dir: Option<&Path>,
    ) -> Result<Embedded, RunError> {
        Embedded::start_with(transport_kind, listen, certs_dir, Retain::All).await
    }

    async fn start_with(
        transport_kind: TransportKind,
        listen: [SocketAddr; 2],
        certs_dir: Option<&Path>,
        retain: Retain,
    ) -> Result<Embedded, RunError> {
        let material = match certs_dir {
            Some(dir) if dir.join("ca.pem").is_file() => GatewayCerts::load(dir)?,
            _ => GatewayCerts::generate(certs_dir)?,
        };
        let mut gateways = Vec::new();
        for (((name, host), listen), (cert, key)) in
            GATEWAY_HOSTS.into_iter().zip(listen).zip(&material.leaves)
        {
            let tls = match transport_kind {
                TransportKind::Tls => Some(
                    transport::server_config(
                        cert.as_bytes(),
                        key.as_bytes(),
                        &TlsProfile::default(),
                    )
                    .map_err(|e| RunError::Tls(format!("{name}: {e}")))?,
                ),
                TransportKind::Tcp => None,
            };
            // Certificates the TLS faults present (untrusted, expired, wrong name), issued by
            // the gateways' own CA; not available with certificates loaded from a folder
            // (no CA key there).
            let fault_tls = match (transport_kind, &material.authority) {
                (TransportKind::Tls, Some(ca)) => Some(
                    FaultTlsConfigs::issue(
                        ca,
                        &[host, "localhost", "127.0.0.1"],
                        KeyKind::Rsa2048,
                        &TlsProfile::default(),
                    )
                    .map_err(|e| RunError::Certs(e.to_string()))?,
                ),
                _ => None,
            };
            let config = GatewayConfig {
                name: name.to_owned(),
                host: host.to_owned(),
                listen,
                transport: transport_kind,
                tls,
                policy: Policy::default(),
                limits: Limits::default(),
                fault_tls,
                retain,
            };
            let gw = Gateway::start(config)
                .await
                .map_err(|e| RunError::Gateway {
                    name: name.to_owned(),
                    reason: e.to_string(),
                })?;
            gateways.push(gw);
        }
        let ca_pem = material.ca_pem;
        let client_tls = transport::client_config(ca_pem.as_bytes())
            .map_err(|e| RunError::Tls(e.to_string()))?;
        Ok(Embedded {
            gateways,
            ca_pem,
            client_tls,
            transport: transport_kind,
            identities: GatewayIdentities::new(material.leaves),
        })
    }

    /// The gateways as call targets.
    pub fn targets(&self) -> Vec<Target> {
        self.gateways
            .iter()
            .zip(GATEWAY_HOSTS)
            .map(|(gw, (name, host))| Target {
                name: name.to_owned(),
                host: host.to_owned(),
                addr: gw.local_addr(),
                transport: self.transport,
            })
            .collect()
    }

    /// A run context that calls these gateways directly and judges with their observations.
    pub fn context(&self, topology: String) -> RunContext<'_> {
        RunContext {
            targets: self.targets(),
            uac: UacConfig {
                tls: Some(self.client_tls.clone()),
                tls_trust: Some(TlsTrust::ca(self.ca_pem.as_bytes())),
                local_host: TRUNK_HOST.to_owned(),
                connect_timeout: Duration::from_secs(3),
            },
            gateways: Some(&self.gateways),
            gateway_identities: Some(&self.identities),
            topology,
        }
    }

    /// Stops both gateways.
    pub async fn shutdown(self) {
        for gw in self.gateways {
            gw.shutdown().await;
        }
    }
}

/// Writes a new CA and gw1/gw2 certificates and keys to `dir` (what `e911-harness certs` does,
/// and what `certify --sut` reuses).
pub fn write_gateway_certs(dir: &Path) -> Result<(), RunError> {
    GatewayCerts::generate(Some(dir)).map(|_| ())
}

/// The CA and the gateways' certificate chains and keys (PEM), gw1 then gw2.
struct GatewayCerts {
    ca_pem: String,
    leaves: Vec<(String, String)>,
    /// The CA itself, when it was generated here (loaded folders hold no CA key).
    authority: Option<Authority>,
}

impl GatewayCerts {
    /// A new CA and one RSA certificate per gateway (the trunk's TLS profile wants RSA), with
    /// the gateway's host name, localhost and 127.0.0.1; written to `write_to` when given.
    fn generate(write_to: Option<&Path>) -> Result<GatewayCerts, RunError> {
        let ca = Authority::generate("e911-harness test CA")
            .map_err(|e| RunError::Certs(e.to_string()))?;
        let mut issued = Vec::new();
        for (name, host) in GATEWAY_HOSTS {
            let names = [host, "localhost", "127.0.0.1", "::1"];
            let leaf = ca
                .issue(&names, KeyKind::Rsa2048, Validity::Current)
                .map_err(|e| RunError::Certs(e.to_string()))?;
            issued.push((name, leaf));
        }
        if let Some(dir) = write_to {
            let leaves: Vec<_> = issued.iter().map(|(n, i)| (*n, i)).collect();
            certs::write_bundle(dir, &ca, &leaves).map_err(|e| {
                RunError::Certs(format!("writing certificates to {}: {e}", dir.display()))
            })?;
        }
        Ok(GatewayCerts {
            ca_pem: ca.cert_pem(),
            leaves: issued
                .into_iter()
                .map(|(_, i)| (i.cert_pem, i.key_pem))
                .collect(),
            authority: Some(ca),
        })
    }

    /// The files `e911-harness certs` (or an earlier run) wrote to `dir`.
    fn load(dir: &Path) -> Result<GatewayCerts, RunError> {
        let read = |file: &str| {
            let path = dir.join(file);
            std::fs::read_to_string(&path)
                .map_err(|e| RunError::Certs(format!("reading {}: {e}", path.display())))
        };
        let mut leaves = Vec::new();
        for (name, _) in GATEWAY_HOSTS {
            leaves.push((read(&format!("{name}.pem"))?, read(&format!("{name}.key"))?));
        }
        Ok(GatewayCerts {
            ca_pem: read("ca.pem")?,
            leaves,
            authority: None,
        })
    }
}

/// Where calls go and who can observe them.
#[derive(Debug)]
pub struct RunContext<'a> {
    /// Named targets; a scenario's `call.gateway` picks one.
    pub targets: Vec<Target>,
    /// Originator settings.
    pub uac: UacConfig,
    /// The embedded gateways, when the topology has them (their observations feed the verdict).
    pub gateways: Option<&'a [Gateway]>,
    /// The embedded gateways' certificates, to serve them under a scenario's TLS profile
    /// (`gateway.tls`); `None` when the topology has no embedded gateways.
    pub gateway_identities: Option<&'a GatewayIdentities>,
    /// Human description for the report.
    pub topology: String,
}

/// Runs every scenario in order and returns their reports. `interrupted` is polled between
/// scenarios: once it is true, the remaining scenarios are reported as not run (Error), so an
/// interrupted run still accounts for every scenario.
pub async fn run_scenarios(
    scenarios: &[Scenario],
    ctx: &RunContext<'_>,
    interrupted: &dyn Fn() -> bool,
    mut on_done: impl FnMut(&ScenarioReport),
) -> Vec<ScenarioReport> {
    let mut out = Vec::with_capacity(scenarios.len());
    for sc in scenarios {
        let report = if interrupted() {
            not_run(sc, "the run was interrupted before this scenario started")
        } else {
            run_one(sc, ctx).await
        };
        on_done(&report);
        out.push(report);
    }
    out
}

fn base_report(sc: &Scenario) -> ScenarioReport {
    ScenarioReport {
        name: sc.name.clone(),
        description: sc.description.clone(),
        file: sc.source.as_ref().map(|p| p.display().to_string()),
        requirements: sc.requirements.clone(),
        checks: Vec::new(),
        calls: Vec::new(),
        observations: Vec::new(),
        duration_ms: 0,
    }
}

fn not_run(sc: &Scenario, why: &str) -> ScenarioReport {
    let mut r = base_report(sc);
    r.checks.push(CheckResult {
        id: "scenario.run".into(),
        requirement: None,
        outcome: Outcome::Error,
        expected: None,
        observed: None,
        message: why.to_owned(),
    });
    r
}

async fn run_one(sc: &Scenario, ctx: &RunContext<'_>) -> ScenarioReport {
    // A [caller] chooses the ANI the trunk sends (ICD 5.1.7).
    let resolved = crate::conformance::with_selected_ani(sc);
    let sc = resolved.as_ref().unwrap_or(sc);
    // The trunk offers the scenario's TLS profile; the gateways enforce theirs (ICD 5.1).
    let scoped = match with_scenario_tls(sc, ctx) {
        Ok(scoped) => scoped,
        Err(why) => return not_run(sc, &why),
    };
    let ctx = scoped.as_ref().unwrap_or(ctx);
    // A scenario with a [route] places its calls across the gateways (ICD 5.3).
    if let Some(route) = &sc.route {
        return crate::route_scenario::run(sc, route, ctx, base_report(sc)).await;
    }
    let started = Instant::now();
    let Some(target) = ctx.targets.iter().find(|t| t.name == sc.call.gateway) else {
        let names: Vec<_> = ctx.targets.iter().map(|t| t.name.as_str()).collect();
        return not_run(
            sc,
            &format!(
                "scenario sends to gateway '{}' but this run has only {}",
                sc.call.gateway,
                names.join(", ")
            ),
        );
    };
    if let Some(gws) = ctx.gateways {
        let policy = Policy::from(&sc.gateway);
        for gw in gws {
            gw.set_policy(policy.clone());
            gw.take_observations();
        }
    }
    let mut outcome = uac::place_call(&sc.call, target, &ctx.uac).await;
    let observations = ctx.gateways.map(|gws| {
        // Refused TLS handshakes carry no Call-ID: during this scenario, they are its own.
        let (refused, logged): (Vec<_>, Vec<_>) = gws
            .iter()
            .flat_map(|gw| gw.take_observations())
            .partition(|o| o.tls_error.is_some());
        let (mut mine, how) = correlate(&outcome.invite, &sc.call.dial, &sc.call.ani, logged);
        mine.extend(refused);
        if how == Correlation::None {
            tracing::debug!(scenario = %sc.name, "{}", how.describe());
        }
        mine
    });
    if let Some(obs) = &observations {
        // Who answered is what the gateways saw, whatever sits in between (a proxy or SBC).
        if let Some(gw) = obs
            .iter()
            .find(|o| o.method == "INVITE" && o.response.is_some_and(|s| (200..300).contains(&s)))
        {
            outcome.record.answered_by = Some(gw.gateway.clone());
        }
    }
    let checks = verdict::judge(
        sc,
        &Evidence {
            call: &outcome,
            observations: observations.as_deref(),
        },
    );
    let mut r = base_report(sc);
    r.checks = checks;
    r.observations = observations
        .unwrap_or_default()
        .iter()
        .filter_map(|o| serde_json::to_value(o).ok())
        .collect();
    r.calls.push(outcome.record);
    r.duration_ms = started.elapsed().as_millis() as u64;
    r
}

/// The run context for `sc` when it runs over TLS: the trunk's client configuration offering
/// `call.tls`, and the embedded gateways serving under `gateway.tls` from now on. `None` over
/// TCP, or when the run's TLS trust is unknown (the configuration given is used as it is).
fn with_scenario_tls<'a>(
    sc: &Scenario,
    ctx: &RunContext<'a>,
) -> Result<Option<RunContext<'a>>, String> {
    if ctx.uac.tls.is_none() {
        return Ok(None);
    }
    if let (Some(gws), Some(ids)) = (ctx.gateways, ctx.gateway_identities) {
        ids.enforce(gws, &sc.gateway.tls)?;
    }
    let Some(trust) = &ctx.uac.tls_trust else {
        return Ok(None);
    };
    let mut uac = ctx.uac.clone();
    uac.tls = Some(trust.client_config(&sc.call.tls)?);
    Ok(Some(RunContext {
        targets: ctx.targets.clone(),
        uac,
        gateways: ctx.gateways,
        gateway_identities: ctx.gateway_identities,
        topology: ctx.topology.clone(),
    }))
}

/// Assembles the run report (requirements matrix and totals included).
pub fn assemble(
    command: &str,
    topology: &str,
    started: SystemTime,
    elapsed: Duration,
    scenarios: Vec<ScenarioReport>,
) -> RunReport {
    let mut report = RunReport {
        tool: format!("e911-harness {}", env!("CARGO_PKG_VERSION")),
        command: command.to_owned(),
        started_at: humantime::format_rfc3339_seconds(started).to_string(),
        duration_ms: elapsed.as_millis() as u64,
        topology: topology.to_owned(),
        scenarios,
        requirements: Vec::new(),
        totals: Default::default(),
        not_covered: Vec::new(),
        load: None,
    };
    report.finish(&|id| scenarios::requirements::find(id).map(|r| r.title.to_owned()));
    // A certification says what it did not prove, and how to establish that instead.
    if command == "certify" {
        report.not_covered = scenarios::requirements::ALL
            .iter()
            .filter(|r| !report.requirements.iter().any(|row| row.id == r.id))
            .map(|r| reports::NotCovered {
                id: r.id.to_owned(),
                title: r.title.to_owned(),
                note: scenarios::requirements::off_the_wire(r.id).map(str::to_owned),
            })
            .collect();
    }
    report
}

/// Reads a PEM file for `--ca`, with the path in the error.
pub fn read_pem(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))
}
