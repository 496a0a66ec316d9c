//! The embedded topology: gw1 and gw2 as mock gateways in this process, on loopback, with a CA
//! and RSA certificates generated at start (or loaded from a folder a system under test trusts).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mock_gateway::fault::FaultTlsConfigs;
use mock_gateway::{Gateway, GatewayConfig, Limits, Policy, Retain};
use sip::transport::certs::{self, Authority, KeyKind, Validity};
use sip::transport::{self, TlsProfile, TransportKind};

use crate::evidence::Epoch;
use crate::evidence::recording::Recording;
use crate::originate::tls::TlsTrust;
use crate::originate::trunk::{GATEWAY_HOSTS, TRUNK_HOST};
use crate::originate::uac::{Target, UacConfig};
use crate::run::RunContext;
use crate::verdict::Setting;

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
    /// The run's clock: the gateways stamp their observations with it.
    pub epoch: Epoch,
    /// The CA the gateways' certificates chain to, with its key when it was generated here or
    /// loaded with one (the TLS faults' certificates and a system under test's come from it).
    pub authority: Option<Authority>,
    /// What the run records (the gateways' messages, TLS secrets); the trunk records the same.
    pub recording: Recording,
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
        Embedded::start_unrecorded_with(transport_kind, Recording::default()).await
    }

    /// Like [`Embedded::start_unrecorded`], the gateways' messages captured and their TLS
    /// secrets logged as `recording` says (`load --pcap`, `--tls-keylog`).
    pub async fn start_unrecorded_with(
        transport_kind: TransportKind,
        recording: Recording,
    ) -> Result<Embedded, RunError> {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        Embedded::start_recorded(transport_kind, [any, any], None, Retain::None, recording).await
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
        Embedded::start_recorded(
            transport_kind,
            listen,
            certs_dir,
            Retain::All,
            Recording::default(),
        )
        .await
    }

    /// Like [`Embedded::start_on`], keeping `retain` observations and recording what
    /// `recording` says; the run's clock is the recording's.
    pub async fn start_recorded(
        transport_kind: TransportKind,
        listen: [SocketAddr; 2],
        certs_dir: Option<&Path>,
        retain: Retain,
        recording: Recording,
    ) -> Result<Embedded, RunError> {
        let material = match certs_dir {
            Some(dir) if dir.join("ca.pem").is_file() => GatewayCerts::load(dir)?,
            _ => GatewayCerts::generate(certs_dir)?,
        };
        let epoch = recording.epoch();
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
                    .map(|c| recording.server(c))
                    .map_err(|e| RunError::Tls(format!("{name}: {e}")))?,
                ),
                TransportKind::Tcp => None,
            };
            // Certificates the TLS faults present (untrusted, expired, wrong name), issued by
            // the gateways' own CA; not available with certificates loaded from a folder
            // without the CA's key.
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
                // Every connection comes from the harness's own generator on loopback: no
                // per-source cap below the total one.
                limits: Limits {
                    max_connections_per_source: Limits::default().max_connections,
                    ..Limits::default()
                },
                fault_tls,
                retain,
                epoch: Some(epoch.0),
                capture: recording.capture().cloned(),
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
            identities: GatewayIdentities::new(material.leaves).with_recording(&recording),
            epoch,
            authority: material.authority,
            recording,
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
        let tls = self.transport == TransportKind::Tls;
        RunContext {
            targets: self.targets(),
            uac: UacConfig {
                tls: tls.then(|| self.client_tls.clone()),
                tls_trust: tls.then(|| TlsTrust::ca(self.ca_pem.as_bytes())),
                local_host: TRUNK_HOST.to_owned(),
                connect_timeout: Duration::from_secs(3),
                epoch: self.epoch,
                recording: self.recording.clone(),
                media: false,
            },
            gateways: Some(&self.gateways),
            gateway_identities: Some(&self.identities),
            topology,
            setting: Setting::direct(self.transport),
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

/// Issues a certificate for a system under test named `names` (the first is its TLS server
/// name) from the lab CA in `dir`, making the CA and the gateways' certificates there first
/// when the folder has none; writes `sbc.pem` (chain) and `sbc.key`.
pub fn issue_sbc_cert(dir: &Path, names: &[&str]) -> Result<(PathBuf, PathBuf), RunError> {
    issue_sbc_cert_with(dir, names, Validity::Current)
}

/// [`issue_sbc_cert`] with this validity (tests present expired certificates with it).
pub fn issue_sbc_cert_with(
    dir: &Path,
    names: &[&str],
    validity: Validity,
) -> Result<(PathBuf, PathBuf), RunError> {
    let material = if dir.join("ca.pem").is_file() {
        GatewayCerts::load(dir)?
    } else {
        GatewayCerts::generate(Some(dir))?
    };
    let Some(ca) = material.authority else {
        return Err(RunError::Certs(format!(
            "{} holds ca.pem but no ca.key (written by an older e911-harness): write a new lab CA with `e911-harness certs --out DIR` and configure its ca.pem where the gateways' CA is trusted",
            dir.display()
        )));
    };
    let issued = ca
        .issue(names, KeyKind::Rsa2048, validity)
        .map_err(|e| RunError::Certs(e.to_string()))?;
    let (cert, key) = (dir.join("sbc.pem"), dir.join("sbc.key"));
    for (path, text) in [(&cert, &issued.cert_pem), (&key, &issued.key_pem)] {
        std::fs::write(path, text)
            .map_err(|e| RunError::Certs(format!("writing {}: {e}", path.display())))?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let _ = std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600));
    }
    Ok((cert, key))
}

/// The common name of the lab CA `e911-harness certs` writes.
pub const CA_NAME: &str = "e911-harness test CA";

/// The CA and the gateways' certificate chains and keys (PEM), gw1 then gw2.
struct GatewayCerts {
    ca_pem: String,
    leaves: Vec<(String, String)>,
    /// The CA itself, when it was generated here or loaded with its key.
    authority: Option<Authority>,
}

impl GatewayCerts {
    /// A new CA and one RSA certificate per gateway (the trunk's TLS profile wants RSA), with
    /// the gateway's host name, localhost and 127.0.0.1; written to `write_to` when given.
    fn generate(write_to: Option<&Path>) -> Result<GatewayCerts, RunError> {
        let ca = Authority::generate(CA_NAME).map_err(|e| RunError::Certs(e.to_string()))?;
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

    /// The files `e911-harness certs` (or an earlier run) wrote to `dir`; with `ca.key` the
    /// CA can issue more (the TLS faults' certificates, a system under test's certificate).
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
        let ca_pem = read("ca.pem")?;
        let authority = if dir.join("ca.key").is_file() {
            let key = read("ca.key")?;
            Some(
                Authority::load(CA_NAME, &ca_pem, &key)
                    .map_err(|e| RunError::Certs(format!("{}: {e}", dir.display())))?,
            )
        } else {
            None
        };
        Ok(GatewayCerts {
            ca_pem,
            leaves,
            authority,
        })
    }
}

/// The embedded gateways' certificates and keys (PEM, gw1 then gw2), to serve them under the
/// TLS profile a scenario makes the gateways enforce.
#[derive(Debug, Clone)]
pub struct GatewayIdentities {
    leaves: Vec<(String, String)>,
    /// The profile the gateways serve now (they start with `any`); unchanged, nothing is rebuilt.
    serving: Arc<Mutex<TlsProfile>>,
    /// The run's key log, for the configurations built here.
    recording: Recording,
}

impl GatewayIdentities {
    /// `leaves`: (certificate chain, key) per gateway, in the gateways' order; the gateways
    /// serve them under the `any` profile.
    pub fn new(leaves: Vec<(String, String)>) -> Self {
        GatewayIdentities {
            leaves,
            serving: Arc::new(Mutex::new(TlsProfile::any())),
            recording: Recording::default(),
        }
    }

    /// The same, logging the TLS secrets of the configurations it builds as `recording` says.
    pub fn with_recording(mut self, recording: &Recording) -> Self {
        self.recording = Recording {
            capture: None,
            key_log: recording.key_log.clone(),
        };
        self
    }

    /// Makes every gateway accept new TLS connections under `spec` only.
    pub fn enforce(&self, gateways: &[Gateway], spec: &TlsProfile) -> Result<(), String> {
        let mut serving = self.serving.lock().unwrap_or_else(|p| p.into_inner());
        if *serving == *spec {
            return Ok(());
        }
        for (gw, (cert, key)) in gateways.iter().zip(&self.leaves) {
            let config = transport::server_config(cert.as_bytes(), key.as_bytes(), spec)
                .map_err(|e| format!("{}: TLS profile {}: {e}", gw.name(), spec.describe()))?;
            gw.set_tls(self.recording.server(config))
                .map_err(|e| format!("{}: {e}", gw.name()))?;
        }
        *serving = spec.clone();
        Ok(())
    }
}
