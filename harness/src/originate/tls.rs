//! TLS profiles at run time (ICD 4, 5.1): the trunk's offer (`call.tls`) becomes the client
//! configuration of the scenario's calls, and the profile the gateways enforce (`gateway.tls`)
//! becomes the server configuration of the embedded gateways for that scenario.

use std::sync::{Arc, Mutex};

use scenarios::TlsProfile;
use sip::transport;

/// A TLS profile named on the command line (`--tls-profile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TlsProfileName {
    /// Whatever the TLS library speaks (TLS 1.2 and 1.3, every group and suite).
    Any,
    /// The Genesys Cloud BYOC trunk profile: TLS 1.2, ECDHE on secp384r1, the RSA AES-GCM
    /// suites (ICD 5.1).
    GenesysByoc,
}

impl TlsProfileName {
    /// The profile it names.
    pub fn spec(self) -> TlsProfile {
        match self {
            TlsProfileName::Any => TlsProfile::any(),
            TlsProfileName::GenesysByoc => TlsProfile::genesys_byoc(),
        }
    }
}

/// How the trunk verifies the gateways' certificates, kept so each scenario's calls can offer
/// that scenario's TLS profile with the same trust. The client configuration of each profile is
/// built once and shared by clones (scenarios mostly offer the same profile, and sharing keeps
/// rustls' session cache across them).
#[derive(Debug, Clone)]
pub struct TlsTrust {
    verify: Verify,
    built: Arc<Mutex<Vec<Built>>>,
}

/// A profile and the client configuration built for it.
type Built = (TlsProfile, Arc<rustls::ClientConfig>);

#[derive(Debug, Clone)]
enum Verify {
    /// Trust only this CA (PEM), names checked per RFC 5922.
    Ca(Arc<[u8]>),
    /// `--insecure`: no chain, name or date check.
    Insecure,
}

impl TlsTrust {
    /// Trust only the CA in `pem`, names checked per RFC 5922.
    pub fn ca(pem: impl Into<Arc<[u8]>>) -> Self {
        TlsTrust::with(Verify::Ca(pem.into()))
    }

    /// `--insecure`: accept any certificate (no chain, name or date check).
    pub fn insecure() -> Self {
        TlsTrust::with(Verify::Insecure)
    }

    fn with(verify: Verify) -> Self {
        TlsTrust {
            verify,
            built: Arc::default(),
        }
    }

    /// A client configuration with this trust, offering `spec`.
    pub fn client_config(&self, spec: &TlsProfile) -> Result<Arc<rustls::ClientConfig>, String> {
        let mut built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, config)) = built.iter().find(|(s, _)| s == spec) {
            return Ok(config.clone());
        }
        let config = match &self.verify {
            Verify::Ca(pem) => transport::client_config_with(pem, spec),
            Verify::Insecure => transport::insecure_client_config_with(spec),
        }
        .map_err(|e| format!("the trunk's TLS profile {}: {e}", spec.describe()))?;
        built.push((spec.clone(), config.clone()));
        Ok(config)
    }
}
