//! TLS configuration for both ends: trust anchors, server certificates and TLS profiles.
//!
//! Every configuration is built on one explicit crypto provider, aws-lc-rs
//! ([`rustls::crypto::aws_lc_rs::default_provider`]), narrowed by a [`TlsProfile`] (protocol
//! versions, key-exchange groups, cipher suites) so a gateway or an originator can be made to
//! speak exactly what a carrier's trunk profile allows.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    ClientConfig, DigitallySignedStruct, ProtocolVersion, RootCertStore, ServerConfig,
    SignatureScheme,
};

use super::identity::Rfc5922Verifier;
use super::{TlsInfo, TransportError};

pub use sip_proto::tls_profile::{TlsProfile, TlsVersions};

/// The protocol versions `profile` offers, as rustls names them.
fn versions(profile: &TlsProfile) -> &'static [&'static rustls::SupportedProtocolVersion] {
    match profile.versions {
        TlsVersions::Any => rustls::DEFAULT_VERSIONS,
        TlsVersions::Tls12Only => TLS12_ONLY,
        TlsVersions::Tls13Only => TLS13_ONLY,
    }
}

/// The aws-lc-rs provider narrowed to `profile`'s groups and suites; a name aws-lc-rs does not
/// provide is an error that lists the ones it does.
pub fn provider(profile: &TlsProfile) -> Result<Arc<CryptoProvider>, TransportError> {
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    if let Some(wanted) = &profile.groups {
        let all = provider.kx_groups.clone();
        provider.kx_groups = wanted
            .iter()
            .map(|name| {
                let canonical = match name.to_ascii_lowercase().as_str() {
                    "p-256" | "prime256v1" => "secp256r1".to_owned(),
                    "p-384" => "secp384r1".to_owned(),
                    other => other.to_owned(),
                };
                all.iter()
                    .find(|g| format!("{:?}", g.name()).eq_ignore_ascii_case(&canonical))
                    .copied()
                    .ok_or_else(|| TransportError::UnknownTlsName {
                        kind: "key-exchange group",
                        name: name.clone(),
                        known: join(all.iter().map(|g| format!("{:?}", g.name()))),
                    })
            })
            .collect::<Result<_, _>>()?;
    }
    if let Some(wanted) = &profile.cipher_suites {
        let all = provider.cipher_suites.clone();
        provider.cipher_suites = wanted
            .iter()
            .map(|name| {
                all.iter()
                    .find(|s| format!("{:?}", s.suite()).eq_ignore_ascii_case(name))
                    .copied()
                    .ok_or_else(|| TransportError::UnknownTlsName {
                        kind: "cipher suite",
                        name: name.clone(),
                        known: join(all.iter().map(|s| format!("{:?}", s.suite()))),
                    })
            })
            .collect::<Result<_, _>>()?;
    }
    Ok(Arc::new(provider))
}

static TLS12_ONLY: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS12];
static TLS13_ONLY: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13];

fn join(names: impl Iterator<Item = String>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

fn read_certs(
    pem: &[u8],
    what: &'static str,
) -> Result<Vec<CertificateDer<'static>>, TransportError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TransportError::Pem { what, source })?;
    if certs.is_empty() {
        return Err(TransportError::Pem {
            what,
            source: rustls::pki_types::pem::Error::NoItemsFound,
        });
    }
    Ok(certs)
}

/// A client configuration that trusts only the certificates in `ca_pem`: CA certificates as
/// trust anchors (the server's chain and name checked per RFC 5922: exact subjectAltName, no
/// wildcards; see [`super::identity`]), and any certificate in it presented as the server's
/// own, as it is (pinned: a self-signed server certificate is trusted by giving it).
pub fn client_config(ca_pem: &[u8]) -> Result<Arc<ClientConfig>, TransportError> {
    client_config_with(ca_pem, &TlsProfile::default())
}

/// Like [`client_config`], offering only what `profile` allows (to emulate a trunk profile).
pub fn client_config_with(
    ca_pem: &[u8],
    profile: &TlsProfile,
) -> Result<Arc<ClientConfig>, TransportError> {
    let mut roots = RootCertStore::empty();
    let given = read_certs(ca_pem, "CA certificate")?;
    for cert in given.iter().cloned() {
        // A certificate that cannot anchor a chain (a self-signed end entity) is still pinned.
        let _ = roots.add(cert);
    }
    let provider = provider(profile)?;
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| TransportError::Tls {
            context: "building the certificate verifier",
            source: rustls::Error::General(e.to_string()),
        })?;
    let config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions(profile))
        .map_err(|source| TransportError::Tls {
            context: "building the tls client configuration",
            source,
        })?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Rfc5922Verifier::new(webpki, given)))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A client configuration that accepts ANY server certificate: no chain, name or date check.
///
/// For pointing the harness at a lab peer whose CA is not at hand; identity is NOT verified, so
/// reports must say so. The verifier still checks the handshake signature against the presented
/// certificate's key, so the TLS session itself is sound.
pub fn insecure_client_config() -> Arc<ClientConfig> {
    insecure_client_config_with(&TlsProfile::default())
        .expect("aws-lc-rs default provider supports the default protocol versions")
}

/// Like [`insecure_client_config`], offering only what `profile` allows.
pub fn insecure_client_config_with(
    profile: &TlsProfile,
) -> Result<Arc<ClientConfig>, TransportError> {
    let provider = provider(profile)?;
    let verifier = Arc::new(AcceptAnyCertificate {
        algorithms: provider.signature_verification_algorithms,
    });
    let config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions(profile))
        .map_err(|source| TransportError::Tls {
            context: "building the tls client configuration",
            source,
        })?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A server configuration presenting `cert_chain_pem` (leaf first) with `key_pem`.
pub fn server_config(
    cert_chain_pem: &[u8],
    key_pem: &[u8],
    profile: &TlsProfile,
) -> Result<Arc<ServerConfig>, TransportError> {
    let chain = read_certs(cert_chain_pem, "server certificate chain")?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|source| TransportError::Pem {
        what: "server private key",
        source,
    })?;
    let config = ServerConfig::builder_with_provider(provider(profile)?)
        .with_protocol_versions(versions(profile))
        .map_err(|source| TransportError::Tls {
            context: "building the tls server configuration",
            source,
        })?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|source| TransportError::Tls {
            context: "loading the server certificate and key",
            source,
        })?;
    Ok(Arc::new(config))
}

/// Accepts every certificate; verifies handshake signatures (see [`insecure_client_config`]).
#[derive(Debug)]
struct AcceptAnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The negotiated parameters of an established session (either side). `sni` is the server name
/// the client asked for, when this end knows it. The peer's certificate key is described when
/// the peer presented one (the server's, seen from the client).
pub fn session_info(common: &rustls::CommonState, sni: Option<String>) -> TlsInfo {
    let version = match common.protocol_version() {
        Some(ProtocolVersion::TLSv1_3) => "TLSv1.3".to_owned(),
        Some(ProtocolVersion::TLSv1_2) => "TLSv1.2".to_owned(),
        Some(other) => format!("{other:?}"),
        None => "none".to_owned(),
    };
    TlsInfo {
        version,
        cipher: common
            .negotiated_cipher_suite()
            .map_or_else(|| "none".to_owned(), |s| format!("{:?}", s.suite())),
        group: common
            .negotiated_key_exchange_group()
            .map(|g| format!("{:?}", g.name())),
        sni,
        certificate: common
            .peer_certificates()
            .and_then(|chain| chain.first())
            .and_then(|leaf| super::spki::describe_key(leaf)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sip_proto::tls_profile::{KNOWN_CIPHER_SUITES, KNOWN_GROUPS};

    /// Every group and suite a profile may name is one aws-lc-rs provides, and it provides
    /// nothing a profile cannot name.
    #[test]
    fn every_known_name_is_one_the_provider_has() {
        let all = TlsProfile {
            versions: TlsVersions::Any,
            groups: Some(KNOWN_GROUPS.iter().map(|s| (*s).to_owned()).collect()),
            cipher_suites: Some(
                KNOWN_CIPHER_SUITES
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect(),
            ),
        };
        let narrowed = provider(&all).expect("every name is known");
        assert_eq!(narrowed.kx_groups.len(), KNOWN_GROUPS.len());
        assert_eq!(narrowed.cipher_suites.len(), KNOWN_CIPHER_SUITES.len());
        let full = rustls::crypto::aws_lc_rs::default_provider();
        assert_eq!(full.kx_groups.len(), narrowed.kx_groups.len());
        assert_eq!(full.cipher_suites.len(), narrowed.cipher_suites.len());
    }
}
