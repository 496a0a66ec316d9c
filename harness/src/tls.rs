//! TLS profiles at run time (ICD 4, 5.1): the trunk's offer (`call.tls`) becomes the client
//! configuration of the scenario's calls, and the profile the gateways enforce (`gateway.tls`)
//! becomes the server configuration of the embedded gateways for that scenario.

use std::sync::Arc;

use mock_gateway::Gateway;
use scenarios::{TlsProfileSpec, TlsVersionSet};
use sip::transport::{self, TlsProfile, TlsVersions};

/// The sip transport's profile for a scenario's.
pub fn profile(spec: &TlsProfileSpec) -> TlsProfile {
    TlsProfile {
        versions: match spec.versions {
            TlsVersionSet::Any => TlsVersions::Any,
            TlsVersionSet::Tls12 => TlsVersions::Tls12Only,
            TlsVersionSet::Tls13 => TlsVersions::Tls13Only,
        },
        groups: spec.groups.clone(),
        cipher_suites: spec.cipher_suites.clone(),
    }
}

/// How the trunk verifies the gateways' certificates, kept so each scenario's calls can offer
/// that scenario's TLS profile with the same trust.
#[derive(Debug, Clone)]
pub enum TlsTrust {
    /// Trust only this CA (PEM), names checked per RFC 5922.
    Ca(Arc<[u8]>),
    /// `--insecure`: no chain, name or date check.
    Insecure,
}

impl TlsTrust {
    /// A client configuration with this trust, offering `spec`.
    pub fn client_config(
        &self,
        spec: &TlsProfileSpec,
    ) -> Result<Arc<rustls::ClientConfig>, String> {
        match self {
            TlsTrust::Ca(pem) => transport::client_config_with(pem, &profile(spec))
                .map_err(|e| format!("the trunk's TLS profile {}: {e}", spec.describe())),
            TlsTrust::Insecure => transport::insecure_client_config_with(&profile(spec))
                .map_err(|e| format!("the trunk's TLS profile {}: {e}", spec.describe())),
        }
    }
}

/// The embedded gateways' certificates and keys (PEM, gw1 then gw2), to serve them under the
/// TLS profile a scenario makes the gateways enforce.
#[derive(Debug, Clone)]
pub struct GatewayIdentities {
    leaves: Vec<(String, String)>,
}

impl GatewayIdentities {
    /// `leaves`: (certificate chain, key) per gateway, in the gateways' order.
    pub fn new(leaves: Vec<(String, String)>) -> Self {
        GatewayIdentities { leaves }
    }

    /// Makes every gateway accept new TLS connections under `spec` only.
    pub fn enforce(&self, gateways: &[Gateway], spec: &TlsProfileSpec) -> Result<(), String> {
        for (gw, (cert, key)) in gateways.iter().zip(&self.leaves) {
            let config = transport::server_config(cert.as_bytes(), key.as_bytes(), &profile(spec))
                .map_err(|e| format!("{}: TLS profile {}: {e}", gw.name(), spec.describe()))?;
            gw.set_tls(config)
                .map_err(|e| format!("{}: {e}", gw.name()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every group and suite a scenario may name is one the TLS library provides.
    #[test]
    fn every_name_scenarios_accept_is_known_to_the_provider() {
        let spec = TlsProfileSpec {
            name: "custom".into(),
            versions: TlsVersionSet::Any,
            groups: Some(
                scenarios::tls::KNOWN_GROUPS
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect(),
            ),
            cipher_suites: Some(
                scenarios::tls::KNOWN_CIPHER_SUITES
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect(),
            ),
        };
        let provider = profile(&spec).provider().expect("every name is known");
        assert_eq!(provider.kx_groups.len(), scenarios::tls::KNOWN_GROUPS.len());
        assert_eq!(
            provider.cipher_suites.len(),
            scenarios::tls::KNOWN_CIPHER_SUITES.len()
        );
        // And the provider has nothing scenarios cannot name.
        let all = rustls::crypto::aws_lc_rs::default_provider();
        assert_eq!(all.kx_groups.len(), provider.kx_groups.len());
        assert_eq!(all.cipher_suites.len(), provider.cipher_suites.len());
    }

    #[test]
    fn genesys_profile_maps_to_tls12_secp384r1_rsa_suites() {
        let p = profile(&TlsProfileSpec::genesys_byoc());
        assert_eq!(p, TlsProfile::genesys_byoc());
    }
}
