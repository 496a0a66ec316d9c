//! An external peer (a gateway, an SBC, a lab system under test) the harness calls instead of the
//! embedded gateways: vetted (never a production E911 host, loopback unless allowed), resolved,
//! and the TLS client configuration that trusts it.

use std::net::SocketAddr;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use sip::transport::{self, TransportKind};

use crate::exit::BadInput;
use crate::originate::tls::TlsTrust;
use crate::originate::trunk::GATEWAY_HOSTS;

/// An external gateway or SBC to call instead of the embedded gateways (`run`, `load`).
#[derive(Debug, Clone, Default, Args)]
pub struct TargetArgs {
    /// Send every call to this HOST:PORT instead of the embedded gateways.
    #[arg(long, value_name = "HOST:PORT")]
    pub target: Option<String>,
    /// How the target is named and trusted.
    #[command(flatten)]
    pub peer: PeerArgs,
}

/// How an external peer is named, trusted and allowed (`--target` of `run`, `load`, `torture`).
#[derive(Debug, Clone, Default, Args)]
pub struct PeerArgs {
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
}

/// A vetted external peer: its address, the TLS client configuration, and the host name it is
/// called by (Request-URI and TLS server name).
pub(crate) struct ResolvedTarget {
    pub(crate) addr: SocketAddr,
    pub(crate) tls: Option<PeerTls>,
    pub(crate) host: String,
}

impl PeerArgs {
    /// Vets and resolves `target` ([`resolve_target`]) and picks the TLS client configuration
    /// ([`client_tls`]); `Ok(None)` after a usage error was printed.
    pub(crate) async fn resolve(
        &self,
        target: &str,
        transport: TransportKind,
    ) -> anyhow::Result<Option<ResolvedTarget>> {
        let addr = resolve_target(target, self.allow_remote).await?;
        let Some(tls) = client_tls(transport, self.ca.as_deref(), self.insecure, "--target")?
        else {
            return Ok(None);
        };
        let host = self
            .server_name
            .clone()
            .unwrap_or_else(|| GATEWAY_HOSTS[0].1.to_owned());
        Ok(Some(ResolvedTarget { addr, tls, host }))
    }
}

/// The TLS client configuration for an external peer: its CA, or no verification when asked
/// for explicitly, with that trust kept for scenarios that offer another TLS profile.
/// `Ok(None)` after telling the user what is missing (a usage error); `Ok(Some(None))` for TCP.
pub(crate) fn client_tls(
    transport: TransportKind,
    ca: Option<&std::path::Path>,
    insecure: bool,
    flag: &str,
) -> anyhow::Result<Option<Option<PeerTls>>> {
    Ok(Some(match (transport, ca, insecure) {
        (TransportKind::Tcp, _, _) => None,
        (TransportKind::Tls, Some(ca), _) => {
            let pem = read_pem(ca).map_err(BadInput::new)?;
            let config = transport::client_config(&pem)
                .map_err(|e| BadInput::new(format!("loading the CA {}: {e}", ca.display())))?;
            Some(PeerTls {
                config,
                trust: TlsTrust::ca(pem),
            })
        }
        (TransportKind::Tls, None, true) => Some(PeerTls {
            config: transport::insecure_client_config(),
            trust: TlsTrust::insecure(),
        }),
        (TransportKind::Tls, None, false) => {
            eprintln!(
                "error: {flag} over TLS needs the CA that signed its certificate (--ca / --sut-ca FILE), or --insecure to skip verification explicitly"
            );
            return Ok(None);
        }
    }))
}

/// A peer's TLS client configuration and the trust it was built from.
pub(crate) struct PeerTls {
    pub(crate) config: Arc<rustls::ClientConfig>,
    pub(crate) trust: TlsTrust,
}

/// Resolves and vets `--target` ([`crate::originate::interlock`]): never a production E911
/// gateway, loopback unless allowed, every resolved address checked; the first is called.
/// A refusal is [`crate::exit::BadInput`].
pub async fn resolve_target(target: &str, allow_remote: bool) -> anyhow::Result<SocketAddr> {
    let addrs = crate::originate::interlock::resolve(target, allow_remote).await?;
    Ok(addrs[0])
}

/// Largest PEM file read (a certificate chain or a key is a few KiB).
pub const MAX_PEM_BYTES: u64 = 256 * 1024;

/// Reads a PEM file (`--ca`, `--cert`, `--key`), bounded, with the path in the error.
pub fn read_pem(path: &Path) -> Result<Vec<u8>, String> {
    scenarios::read_input_file(path, MAX_PEM_BYTES)
        .map_err(|e| format!("reading {}: {e}", path.display()))
}
