//! TLS profiles as data (ICD 4, 5.1): the protocol versions, key-exchange groups and cipher
//! suites one end offers or accepts, by the IANA names the harness's TLS library (rustls over
//! aws-lc-rs) speaks. Scenarios name them (`call.tls`, `gateway.tls`); the `sip` transport
//! turns one into a rustls configuration. One type for both, so nothing maps between them.

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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum TlsVersions {
    /// TLS 1.2 and 1.3.
    #[default]
    Any,
    /// TLS 1.2 only (the Genesys BYOC trunk profile).
    Tls12Only,
    /// TLS 1.3 only.
    Tls13Only,
}

/// A TLS profile: what one end offers or accepts. `None` lists mean "everything the TLS
/// library has"; the default is [`TlsProfile::any`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TlsProfile {
    /// Protocol versions.
    pub versions: TlsVersions,
    /// Key-exchange groups, in preference order (`"secp384r1"`; `"P-384"` and `"P-256"` are
    /// accepted too).
    pub groups: Option<Vec<String>>,
    /// Cipher suites, in preference order.
    pub cipher_suites: Option<Vec<String>>,
}

impl TlsProfile {
    /// The Genesys Cloud BYOC trunk profile (ICD 4, 5.1): TLS 1.2, ECDHE on secp384r1, the two
    /// RSA AES-GCM suites. The trunk emulation offers it unless a scenario says otherwise.
    pub fn genesys_byoc() -> Self {
        TlsProfile {
            versions: TlsVersions::Tls12Only,
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
        TlsProfile::default()
    }

    /// `genesys-byoc` or `any` when it is that profile, else `custom`.
    pub fn name(&self) -> &'static str {
        if *self == TlsProfile::genesys_byoc() {
            "genesys-byoc"
        } else if *self == TlsProfile::any() {
            "any"
        } else {
            "custom"
        }
    }

    /// One line for reports: `genesys-byoc (TLS 1.2; groups secp384r1; suites ...)`.
    pub fn describe(&self) -> String {
        let versions = match self.versions {
            TlsVersions::Any => "TLS 1.2 or 1.3",
            TlsVersions::Tls12Only => "TLS 1.2",
            TlsVersions::Tls13Only => "TLS 1.3",
        };
        let list = |l: &Option<Vec<String>>| {
            l.as_ref()
                .map_or_else(|| "any".to_owned(), |v| v.join(", "))
        };
        format!(
            "{} ({versions}; groups {}; suites {})",
            self.name(),
            list(&self.groups),
            list(&self.cipher_suites)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_is_named_by_what_it_is() {
        assert_eq!(TlsProfile::genesys_byoc().name(), "genesys-byoc");
        assert_eq!(TlsProfile::any().name(), "any");
        let tls13 = TlsProfile {
            versions: TlsVersions::Tls13Only,
            ..TlsProfile::any()
        };
        assert_eq!(tls13.name(), "custom");
        assert_eq!(
            TlsProfile::genesys_byoc().describe(),
            "genesys-byoc (TLS 1.2; groups secp384r1; suites TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)"
        );
        assert_eq!(tls13.describe(), "custom (TLS 1.3; groups any; suites any)");
    }
}
