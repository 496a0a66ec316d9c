//! TLS profiles in scenarios (ICD 4, 5.1): what the trunk offers (`call.tls`) and what the
//! gateways accept (`gateway.tls`).
//!
//! A profile is named (`genesys-byoc`, `any`) or given by parts: protocol versions, key-exchange
//! groups and cipher suites, by the IANA names the harness's TLS library (rustls over aws-lc-rs)
//! speaks ([`KNOWN_GROUPS`], [`KNOWN_CIPHER_SUITES`]).

use serde::Serializer;
use serde::ser::SerializeMap;

pub use sip_proto::tls_profile::{
    GENESYS_BYOC_SUITES, KNOWN_CIPHER_SUITES, KNOWN_GROUPS, TlsProfile, TlsVersions,
};

/// Writes a profile as scenario files do: its name, or a table by parts (for
/// `#[serde(serialize_with)]`: the type lives in `sip-proto`, which has no serde).
pub(crate) fn serialize_profile<S: Serializer>(p: &TlsProfile, s: S) -> Result<S::Ok, S::Error> {
    if p.name() != "custom" {
        return s.serialize_str(p.name());
    }
    let mut m = s.serialize_map(None)?;
    match p.versions {
        TlsVersions::Any => {}
        TlsVersions::Tls12Only => m.serialize_entry("versions", &["1.2"])?,
        TlsVersions::Tls13Only => m.serialize_entry("versions", &["1.3"])?,
    }
    if let Some(g) = &p.groups {
        m.serialize_entry("groups", g)?;
    }
    if let Some(c) = &p.cipher_suites {
        m.serialize_entry("cipher_suites", c)?;
    }
    m.end()
}
