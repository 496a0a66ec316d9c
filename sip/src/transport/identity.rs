//! Server identity for SIP over TLS (RFC 5922): the chain and the name are checked by webpki as
//! usual, and then the name must be presented exactly: RFC 5922 §7.2 forbids wildcard matching
//! for SIP domains, so a certificate that names `gw1.anywhere.e911cloud.com` only through
//! `*.anywhere.e911cloud.com` is refused with a message that says so.
//!
//! Only DNS names are compared here; `sip:` URI subjectAltNames (RFC 5922 §7.1) are not read
//! by webpki and so are not accepted on their own.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};

/// The name was matched only by a wildcard subjectAltName.
#[derive(Debug)]
pub struct WildcardOnly {
    /// The server name asked for.
    pub name: String,
    /// The wildcard names the certificate presents.
    pub wildcards: Vec<String>,
}

impl std::fmt::Display for WildcardOnly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "certificate names {} only through the wildcard {} (RFC 5922 §7.2: no wildcards for SIP)",
            self.name,
            self.wildcards.join(", ")
        )
    }
}

impl std::error::Error for WildcardOnly {}

/// webpki verification plus the RFC 5922 exact-name rule; a certificate given in the trust
/// file itself is accepted as it is (pinned), so a self-signed certificate can be trusted by
/// giving it (webpki refuses a CA certificate presented as the server's own).
#[derive(Debug)]
pub(crate) struct Rfc5922Verifier {
    inner: Arc<WebPkiServerVerifier>,
    pinned: Vec<CertificateDer<'static>>,
}

impl Rfc5922Verifier {
    pub(crate) fn new(
        inner: Arc<WebPkiServerVerifier>,
        pinned: Vec<CertificateDer<'static>>,
    ) -> Self {
        Rfc5922Verifier { inner, pinned }
    }
}

/// Whether `leaf_chain_pem` (leaf first) chains to the CA in `ca_pem` and is valid for `name`
/// now, as a client checks it.
pub(crate) fn chains_to(leaf_chain_pem: &str, ca_pem: &str, name: &str) -> Result<(), String> {
    use rustls::pki_types::pem::PemObject as _;
    let certs = |pem: &str| -> Result<Vec<CertificateDer<'static>>, String> {
        CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())
    };
    let mut roots = rustls::RootCertStore::empty();
    for c in certs(ca_pem)? {
        roots.add(c).map_err(|e| e.to_string())?;
    }
    let chain = certs(leaf_chain_pem)?;
    let (leaf, rest) = chain.split_first().ok_or("no certificate")?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| e.to_string())?;
    let name = ServerName::try_from(name.to_owned()).map_err(|e| e.to_string())?;
    verifier
        .verify_server_cert(leaf, rest, &name, &[], UnixTime::now())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// `Err` when `name` is a DNS name the certificate presents only as a wildcard match.
pub(crate) fn exact_name(
    cert: &CertificateDer<'_>,
    name: &ServerName<'_>,
) -> Result<(), WildcardOnly> {
    let ServerName::DnsName(dns) = name else {
        return Ok(());
    };
    let Ok(ee) = webpki::EndEntityCert::try_from(cert) else {
        // webpki already parsed it successfully for the chain check; nothing more to say.
        return Ok(());
    };
    let wanted = dns.as_ref();
    let (mut exact, mut wildcards) = (false, Vec::new());
    for presented in ee.valid_dns_names() {
        if presented.starts_with("*.") {
            wildcards.push(presented.to_owned());
        } else if presented
            .trim_end_matches('.')
            .eq_ignore_ascii_case(wanted.trim_end_matches('.'))
        {
            exact = true;
        }
    }
    if exact || wildcards.is_empty() {
        Ok(())
    } else {
        Err(WildcardOnly {
            name: wanted.to_owned(),
            wildcards,
        })
    }
}

impl ServerCertVerifier for Rfc5922Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self
            .pinned
            .iter()
            .any(|p| p.as_ref() == end_entity.as_ref())
        {
            return Ok(ServerCertVerified::assertion());
        }
        let verified = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        exact_name(end_entity, server_name).map_err(|e| {
            rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(e))))
        })?;
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
