//! TLS profiles in scenarios (ICD 4, 5.1): what the trunk offers (`call.tls`) and what the
//! gateways accept (`gateway.tls`).
//!
//! A profile is named (`genesys-byoc`, `any`) or given by parts: protocol versions, key-exchange
//! groups and cipher suites, by the IANA names the harness's TLS library (rustls over aws-lc-rs)
//! speaks ([`KNOWN_GROUPS`], [`KNOWN_CIPHER_SUITES`]).

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

/// Key-exchange groups a profile may name.
pub const KNOWN_GROUPS: &[&str] = &["X25519", "secp256r1", "secp384r1", "X25519MLKEM768"];

/// Cipher suites a profile may name.
pub const KNOWN_CIPHER_SUITES: &[&str] = &[
    "TLS13_AES_256_GCM_SHA384",
    "TLS13_AES_128_GCM_SHA256",
    "TLS13_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
];

/// The cipher suites of the Genesys BYOC trunk profile that rustls implements (ICD 4).
pub const GENESYS_BYOC_SUITES: &[&str] = &[
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
];

/// The protocol versions a profile allows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TlsVersionSet {
    /// TLS 1.2 and 1.3.
    #[default]
    Any,
    /// TLS 1.2 only.
    Tls12,
    /// TLS 1.3 only.
    Tls13,
}

/// A TLS profile: what one end offers or accepts. `None` lists mean "everything the TLS
/// library has". Serializes as scenario files write it: a name, or a table by parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsProfileSpec {
    /// `genesys-byoc`, `any`, or `custom` for a profile given by parts.
    pub name: String,
    /// Protocol versions.
    pub versions: TlsVersionSet,
    /// Key-exchange groups, in preference order.
    pub groups: Option<Vec<String>>,
    /// Cipher suites, in preference order.
    pub cipher_suites: Option<Vec<String>>,
}

impl TlsProfileSpec {
    /// The Genesys Cloud BYOC trunk profile (ICD 4, 5.1): TLS 1.2, ECDHE on secp384r1, the two
    /// RSA AES-GCM suites. The trunk emulation offers it unless a scenario says otherwise.
    pub fn genesys_byoc() -> Self {
        TlsProfileSpec {
            name: "genesys-byoc".to_owned(),
            versions: TlsVersionSet::Tls12,
            groups: Some(vec!["secp384r1".to_owned()]),
            cipher_suites: Some(
                GENESYS_BYOC_SUITES
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect(),
            ),
        }
    }

    /// Everything the TLS library speaks (TLS 1.2 and 1.3, every group and suite). The
    /// gateways accept this unless a scenario makes them enforce a profile.
    pub fn any() -> Self {
        TlsProfileSpec {
            name: "any".to_owned(),
            versions: TlsVersionSet::Any,
            groups: None,
            cipher_suites: None,
        }
    }

    /// One line for reports: `genesys-byoc (TLS 1.2; secp384r1; TLS_ECDHE_RSA_...)`.
    pub fn describe(&self) -> String {
        let versions = match self.versions {
            TlsVersionSet::Any => "TLS 1.2 or 1.3",
            TlsVersionSet::Tls12 => "TLS 1.2",
            TlsVersionSet::Tls13 => "TLS 1.3",
        };
        let list = |l: &Option<Vec<String>>, all: &str| {
            l.as_ref().map_or_else(|| all.to_owned(), |v| v.join(", "))
        };
        format!(
            "{} ({versions}; groups {}; suites {})",
            self.name,
            list(&self.groups, "any"),
            list(&self.cipher_suites, "any")
        )
    }
}

impl Default for TlsProfileSpec {
    fn default() -> Self {
        TlsProfileSpec::any()
    }
}

impl Serialize for TlsProfileSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if *self == TlsProfileSpec::genesys_byoc() || *self == TlsProfileSpec::any() {
            return s.serialize_str(&self.name);
        }
        let mut m = s.serialize_map(None)?;
        match self.versions {
            TlsVersionSet::Any => {}
            TlsVersionSet::Tls12 => m.serialize_entry("versions", &["1.2"])?,
            TlsVersionSet::Tls13 => m.serialize_entry("versions", &["1.3"])?,
        }
        if let Some(g) = &self.groups {
            m.serialize_entry("groups", g)?;
        }
        if let Some(c) = &self.cipher_suites {
            m.serialize_entry("cipher_suites", c)?;
        }
        m.end()
    }
}
