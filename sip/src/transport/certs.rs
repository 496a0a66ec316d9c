//! Test certificates: a private CA and the leaf certificates it issues (rcgen, aws-lc-rs).
//!
//! Everything the harness needs to stand up TLS gateways without outside help: a CA, RSA or
//! ECDSA leaves whose subjectAltNames carry DNS names, IP literals or `sip:` URIs (RFC 5922),
//! leaves that have already expired (to certify that the originator refuses them), and a
//! writer that lays them out as PEM files with private keys readable only by their owner.

use std::fmt;
use std::fs;
use std::io::{self, Write as _};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType, SerialNumber, SignatureAlgorithm,
};

/// The names a mock gateway's certificate carries by default: both production gateway names
/// (ICD 5.1.6), so one certificate serves either role, and the loopback names tests connect to.
pub const GATEWAY_NAMES: &[&str] = &[
    "gw1.anywhere.e911cloud.com",
    "gw2.anywhere.e911cloud.com",
    "localhost",
    "127.0.0.1",
    "::1",
];

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// The key algorithm of a generated certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// RSA 2048 with PKCS#1 SHA-256 signatures (what the Genesys TLS trunk profile expects).
    Rsa2048,
    /// ECDSA on P-256 with SHA-256.
    EcdsaP256,
    /// ECDSA on P-384 with SHA-384.
    EcdsaP384,
}

impl KeyKind {
    fn algorithm(self) -> &'static SignatureAlgorithm {
        match self {
            KeyKind::Rsa2048 => &rcgen::PKCS_RSA_SHA256,
            KeyKind::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyKind::EcdsaP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
        }
    }

    fn generate(self) -> Result<KeyPair, CertError> {
        KeyPair::generate_for(self.algorithm())
            .map_err(|source| CertError::KeyGen { kind: self, source })
    }
}

/// The validity window of an issued certificate, relative to the moment of issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Validity {
    /// From one day ago (tolerates clock skew) to 365 days from now.
    Current,
    /// From 30 days ago to yesterday: expired, but otherwise well formed.
    Expired,
}

/// Why a certificate could not be made or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    /// The key pair could not be generated.
    #[error("generating a {kind:?} key pair: {source}")]
    KeyGen {
        /// The requested key kind.
        kind: KeyKind,
        /// What rcgen reported.
        source: rcgen::Error,
    },
    /// A leaf needs at least one name.
    #[error("a certificate needs at least one subjectAltName; none given")]
    NoNames,
    /// A name is neither an IP literal, a `sip:` URI nor a valid DNS name.
    #[error("{name:?} cannot be a subjectAltName: {source}")]
    Name {
        /// The offending name.
        name: String,
        /// What rcgen reported.
        source: rcgen::Error,
    },
    /// Signing failed.
    #[error("signing the certificate for {subject:?}: {source}")]
    Sign {
        /// The certificate's common name.
        subject: String,
        /// What rcgen reported.
        source: rcgen::Error,
    },
    /// A file stem for [`write_bundle`] is empty or not a plain file name.
    #[error("{stem:?} is not a plain file name for a certificate bundle")]
    BadStem {
        /// The offending stem.
        stem: String,
    },
    /// A CA certificate and key to load do not belong together, or the key does not parse.
    #[error(
        "the CA key does not fit the CA certificate ({why}): keep ca.pem and ca.key as `e911-harness certs` wrote them"
    )]
    CaMismatch {
        /// What is wrong.
        why: String,
    },
    /// Writing a file failed.
    #[error("writing {}: {source}", path.display())]
    Write {
        /// The file (or directory) being written.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
}

/// A private certificate authority that signs leaf certificates.
pub struct Authority {
    common_name: String,
    cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl fmt::Debug for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authority")
            .field("common_name", &self.common_name)
            .finish_non_exhaustive()
    }
}

/// A leaf certificate and its key, both PEM.
#[derive(Clone)]
pub struct Issued {
    /// The leaf certificate followed by the CA certificate.
    pub cert_pem: String,
    /// The leaf's PKCS#8 private key.
    pub key_pem: String,
}

impl fmt::Debug for Issued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issued")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

/// What a harness CA certifies about itself: its name, the issuer constraints and key usages.
fn ca_params(common_name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "e911-harness");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

impl Authority {
    /// A new CA with an ECDSA P-256 key, valid from yesterday for ten years.
    pub fn generate(common_name: &str) -> Result<Self, CertError> {
        Self::generate_with(common_name, KeyKind::EcdsaP256)
    }

    /// A new CA with a key of the given kind (RSA for an all-RSA chain).
    pub fn generate_with(common_name: &str, key: KeyKind) -> Result<Self, CertError> {
        let key_pair = key.generate()?;
        let mut params = ca_params(common_name);
        set_validity(&mut params, -1, 3650);
        params.serial_number = Some(random_serial());
        let cert = params
            .self_signed(&key_pair)
            .map_err(|source| CertError::Sign {
                subject: common_name.to_owned(),
                source,
            })?;
        Ok(Authority {
            common_name: common_name.to_owned(),
            cert_pem: cert.pem(),
            issuer: Issuer::new(params, key_pair),
        })
    }

    /// The CA certificate, PEM: what a peer must trust.
    pub fn cert_pem(&self) -> String {
        self.cert_pem.clone()
    }

    /// The CA's private key, PEM (PKCS#8): what [`Authority::load`] needs to issue more.
    pub fn key_pem(&self) -> String {
        self.issuer.key().serialize_pem()
    }

    /// A CA made by [`Authority::generate`] (or `generate_with`) with `common_name`, loaded
    /// from its certificate and key as [`write_bundle`] wrote them. The key must be the one
    /// the certificate carries, and a leaf issued with it must chain to the certificate: both
    /// are checked, so a mismatched pair is refused here rather than at a peer's handshake.
    pub fn load(common_name: &str, cert_pem: &str, key_pem: &str) -> Result<Self, CertError> {
        let mismatch = |why: &str| CertError::CaMismatch {
            why: why.to_owned(),
        };
        let key_pair = KeyPair::from_pem(key_pem).map_err(|e| mismatch(&format!("ca.key: {e}")))?;
        let der = rustls_pemfile_first_cert(cert_pem)
            .ok_or_else(|| mismatch("ca.pem holds no certificate"))?;
        let spki = key_pair.public_key_raw().to_vec();
        if !der.windows(spki.len()).any(|w| w == spki.as_slice()) {
            return Err(mismatch("the key is not the certificate's"));
        }
        let params = ca_params(common_name);
        let ca = Authority {
            common_name: common_name.to_owned(),
            cert_pem: cert_pem.to_owned(),
            issuer: Issuer::new(params, key_pair),
        };
        // A leaf from the rebuilt issuer must verify against the certificate on disk.
        let probe = ca.issue(
            &["probe.e911-harness.invalid"],
            KeyKind::EcdsaP256,
            Validity::Current,
        )?;
        super::identity::chains_to(&probe.cert_pem, cert_pem, "probe.e911-harness.invalid")
            .map_err(|e| {
                mismatch(&format!(
                    "a certificate issued with it does not chain to ca.pem: {e}"
                ))
            })?;
        Ok(ca)
    }

    /// The CA's common name.
    pub fn common_name(&self) -> &str {
        &self.common_name
    }

    /// Issues a server/client leaf for `names`.
    ///
    /// Each name becomes a subjectAltName: IP literals as iPAddress, `sip:...` as a URI
    /// (RFC 5922), anything else as a dNSName. The first name is also the subject CN.
    pub fn issue(
        &self,
        names: &[&str],
        key: KeyKind,
        validity: Validity,
    ) -> Result<Issued, CertError> {
        let first = *names.first().ok_or(CertError::NoNames)?;
        let mut params = CertificateParams::default();
        params.subject_alt_names = names.iter().map(|n| san(n)).collect::<Result<_, _>>()?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, first);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.use_authority_key_identifier_extension = true;
        params.serial_number = Some(random_serial());
        match validity {
            Validity::Current => set_validity(&mut params, -1, 365),
            Validity::Expired => set_validity(&mut params, -30, -1),
        }
        let key_pair = key.generate()?;
        let cert = params
            .signed_by(&key_pair, &self.issuer)
            .map_err(|source| CertError::Sign {
                subject: first.to_owned(),
                source,
            })?;
        Ok(Issued {
            cert_pem: format!("{}{}", cert.pem(), self.cert_pem),
            key_pem: key_pair.serialize_pem(),
        })
    }
}

fn san(name: &str) -> Result<SanType, CertError> {
    let bad = |source| CertError::Name {
        name: name.to_owned(),
        source,
    };
    if let Ok(ip) = name.trim_matches(['[', ']']).parse::<IpAddr>() {
        return Ok(SanType::IpAddress(ip));
    }
    if name.len() > 4 && name[..4].eq_ignore_ascii_case("sip:") {
        return Ok(SanType::URI(name.try_into().map_err(bad)?));
    }
    Ok(SanType::DnsName(name.try_into().map_err(bad)?))
}

/// Sets the validity window to [now + `from_days`, now + `to_days`] days.
///
/// rcgen's dates are `time::OffsetDateTime`; building them from the Unix epoch plus a
/// `std::time::Duration` avoids a direct dependency on the `time` crate.
fn set_validity(params: &mut CertificateParams, from_days: i64, to_days: i64) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let at = |days: i64| {
        let offset = DAY * u32::try_from(days.unsigned_abs()).unwrap_or(u32::MAX);
        if days < 0 {
            now.saturating_sub(offset)
        } else {
            now.saturating_add(offset)
        }
    };
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    params.not_before = epoch + at(from_days);
    params.not_after = epoch + at(to_days);
}

/// A random positive 16-byte serial number (RFC 5280 allows up to 20 octets).
fn random_serial() -> SerialNumber {
    let mut serial: Vec<u8> = (0..16).map(|_| fastrand::u8(..)).collect();
    serial[0] = (serial[0] & 0x7f) | 0x01;
    SerialNumber::from(serial)
}

/// The DER of the first certificate in `pem`.
fn rustls_pemfile_first_cert(pem: &str) -> Option<Vec<u8>> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .next()?
        .ok()
        .map(|c| c.to_vec())
}

/// Writes `ca.pem` and `ca.key` (the CA's key, mode 0600, so more certificates can be issued
/// later: `e911-harness certs --sbc NAME`) and, per leaf, `<stem>.pem` (chain) and
/// `<stem>.key` into `dir`, creating it.
///
/// Key files are created with mode 0600 on Unix. Returns the paths written, in that order.
pub fn write_bundle(
    dir: &Path,
    ca: &Authority,
    leaves: &[(&str, &Issued)],
) -> Result<Vec<PathBuf>, CertError> {
    for (stem, _) in leaves {
        let plain = !stem.is_empty()
            && *stem != "."
            && *stem != ".."
            && !stem.contains(['/', '\\'])
            && Path::new(stem).file_name() == Some(std::ffi::OsStr::new(stem));
        if !plain {
            return Err(CertError::BadStem {
                stem: (*stem).to_owned(),
            });
        }
    }
    fs::create_dir_all(dir).map_err(|source| CertError::Write {
        path: dir.to_owned(),
        source,
    })?;
    let mut written = Vec::with_capacity(1 + 2 * leaves.len());
    let ca_path = dir.join("ca.pem");
    write_file(&ca_path, ca.cert_pem.as_bytes(), false)?;
    written.push(ca_path);
    let ca_key = dir.join("ca.key");
    write_file(&ca_key, ca.key_pem().as_bytes(), true)?;
    written.push(ca_key);
    for (stem, issued) in leaves {
        let cert = dir.join(format!("{stem}.pem"));
        write_file(&cert, issued.cert_pem.as_bytes(), false)?;
        written.push(cert);
        let key = dir.join(format!("{stem}.key"));
        write_file(&key, issued.key_pem.as_bytes(), true)?;
        written.push(key);
    }
    Ok(written)
}

fn write_file(path: &Path, contents: &[u8], secret: bool) -> Result<(), CertError> {
    let err = |source| CertError::Write {
        path: path.to_owned(),
        source,
    };
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(err)?;
    // The mode only applies when the file is created; tighten a pre-existing key file too.
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(fs::Permissions::from_mode(0o600))
            .map_err(err)?;
    }
    #[cfg(not(unix))]
    let _ = secret;
    file.write_all(contents).map_err(err)?;
    file.sync_all().map_err(err)
}
