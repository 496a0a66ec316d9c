//! E911 conformance sections of a scenario (issue 3): prioritized caller selection
//! (ICD 5.1.7, `[caller]`).
//!
//! The scenario only describes who is calling; the harness computes the ANI from it with its
//! caller-selection rules (`harness::caller`), so the model keeps the sources exactly as written.

use serde::{Serialize, Serializer};

/// The caller-selection sources, in the spelling scenario files use.
pub const CALLER_SOURCES: [&str; 4] = ["call-source", "user-extension", "site-ani", "trunk-ani"];

/// `[caller]`: everything the trunk knows about who is calling (ICD 5.1.7).
///
/// Numbers are kept as written; an empty string is a source that is configured but empty
/// (an empty site ANI falls to the trunk ANI).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallerSpec {
    /// The queue or campaign DID the call is placed for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_source_did: Option<String>,
    /// The user's own DID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_did: Option<String>,
    /// The user's extension.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_extension: Option<String>,
    /// Whether the phone is tied to a user (default `true`).
    pub phone_tied_to_user: bool,
    /// The site's ANI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_ani: Option<String>,
    /// The trunk's own ANI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trunk_ani: Option<String>,
    /// The order the sources are tried in.
    pub order: CallerOrder,
}

/// The order of the caller-selection sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerOrder {
    /// `"with-dids"`: call source, user extension, site ANI, trunk ANI.
    WithDids,
    /// `"without-dids"`: user extension, site ANI, trunk ANI.
    WithoutDids,
    /// An explicit list of [`CALLER_SOURCES`] names, none twice.
    Custom(Vec<String>),
}

impl CallerOrder {
    /// The source names in order.
    pub fn sources(&self) -> Vec<&str> {
        match self {
            CallerOrder::WithDids => CALLER_SOURCES.to_vec(),
            CallerOrder::WithoutDids => CALLER_SOURCES[1..].to_vec(),
            CallerOrder::Custom(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

impl Serialize for CallerOrder {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            CallerOrder::WithDids => s.serialize_str("with-dids"),
            CallerOrder::WithoutDids => s.serialize_str("without-dids"),
            CallerOrder::Custom(v) => v.serialize(s),
        }
    }
}

/// One row of a gateway's location table (ICD 5.2): a caller's number (ANI or alternate id),
/// its registered civic address and the PSAP that serves it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LocationEntry {
    /// The ANI or alternate id the gateway looks up.
    pub ani: String,
    /// The registered address (the same fields as `call.location`).
    #[serde(flatten)]
    pub address: CallLocation,
    /// The PSAP the address routes to.
    pub psap: String,
}

/// What a gateway with a location table does with an ANI it has no row for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownAniPolicy {
    /// Answer and route to the fallback centre (the default).
    #[default]
    Fallback,
    /// Refuse the call with this status.
    Reject(u16),
}

impl Serialize for UnknownAniPolicy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            UnknownAniPolicy::Fallback => s.serialize_str("fallback"),
            UnknownAniPolicy::Reject(code) => s.serialize_str(&format!("reject {code}")),
        }
    }
}

/// A location table loaded from its own file ([`crate::load_location_table`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocationTable {
    /// The rows, in file order.
    pub entries: Vec<LocationEntry>,
    /// What an ANI without a row gets.
    pub unknown_ani: UnknownAniPolicy,
}

/// A civic address (RFC 5139 element names; empty strings are absent elements): what
/// `call.location` conveys by value (RFC 6442, PIDF-LO in a `multipart/mixed` body), and the
/// registered address of a location-table row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CallLocation {
    /// `country` (ISO 3166 alpha-2).
    pub country: String,
    /// `A1`: state or province.
    pub a1: String,
    /// `A3`: city.
    pub a3: String,
    /// `RD`: road.
    pub rd: String,
    /// `STS`: street suffix.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sts: String,
    /// `HNO`: house number.
    pub hno: String,
    /// `FLR`: floor.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub flr: String,
    /// `ROOM`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub room: String,
    /// `PC`: postal code.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub pc: String,
}
