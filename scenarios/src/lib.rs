//! Scenarios for the E911 harness: the model of one scripted emergency call and what must be
//! observed about it, loading from TOML with compiler-style errors, validation, the requirement
//! catalogue, and the shipped scenario library.
//!
//! A pure leaf crate: no async runtime, no sockets. The format is documented in
//! `docs/scenario-format.md`.
//!
//! # Layout
//! - [`model`]: [`Scenario`] and its parts ([`CallSpec`], [`GatewaySpec`], [`Expect`]).
//! - [`caller`]: prioritized caller selection (ICD 5.1.7): which number a `[caller]` sends.
//! - [`ani`]: the ANI policy vocabulary (ICD 5.1.7): [`AniForm`], [`AniFinding`], E.164 forms,
//!   and the dial-string number ([`dialled_number`]).
//! - [`route`]: the failover part (ICD 5.3): [`RouteSpec`], [`FaultSpec`], [`GatewayState`],
//!   [`HealthSpec`], [`RunSpec`] and the route expectations.
//! - [`media`]: media on answered calls (ICD 4): `[media]` bounds, media faults, media findings.
//! - [`tls`]: TLS profiles, offered by the trunk (`call.tls`) and enforced by the gateways
//!   (`gateway.tls`).
//! - [`topology`]: where a scenario applies (directly, through a system under test) and why
//!   it leaves a topology out.
//! - [`plan`]: test plans for certifying a real originator ([`plan::Plan`]: the steps an
//!   operator walks, each a scenario of what must arrive at the gateways).
//! - [`requirements`]: the requirement ids a scenario may cite (`ICD 5.1.9`, `RFC 3261`, ...).
//! - [`error`]: [`LoadError`], a list of [`Problem`]s with file, line, column and dotted field.
//! - `walk`/`parse` (private): a spanned walk over the TOML document that reports every
//!   unknown field, wrong type and rule violation at once.
//! - [`load`]: [`load_str`], [`load_file`], [`load_paths`], and the shipped library built into
//!   the crate ([`shipped`], [`SHIPPED_FILES`]).
//!
//! # Invariants
//! A [`Scenario`] only exists if its file had no problem: defaults are filled in, durations typed,
//! UUIDs canonical, enumerations closed, and the cross-field rules hold (for example a read-back
//! is only expected on a 933 call). Loading never stops at the first problem.
//!
//! The shipped library is built into the crate and never read from the source tree at run time
//! (no `CARGO_MANIFEST_DIR` path outside the tests), so a copied binary runs anywhere; a test
//! holds the built-in copy equal to `scenarios/library/` on disk.

pub mod ani;
pub mod caller;
pub mod conformance;
pub mod error;
pub mod load;
pub mod media;
pub mod model;
mod parse;
pub mod plan;
pub mod requirements;
pub mod route;
pub mod tls;
pub mod topology;
mod walk;

pub use ani::{
    AniFinding, AniForm, EMERGENCY_NUMBERS, dialled_number, e164, is_e164, is_emergency_number,
};
pub use conformance::{
    CALLER_SOURCES, CallLocation, CallerOrder, CallerSpec, LocationEntry, LocationTable,
    UnknownAniPolicy,
};
pub use error::{LoadError, Problem, ProblemKind, quote_prefix};
pub use load::{
    MAX_INPUT_FILE_BYTES, SHIPPED_DIR, SHIPPED_FILES, ShippedFile, load_file, load_location_table,
    load_paths, load_str, read_input_file, read_text, shipped,
};
pub use media::{MediaFault, MediaFinding, MediaSpec};
pub use model::{
    AniHeader, AniPlacement, CallSpec, DEFAULT_ORG_ID, DEFAULT_SUITE, Expect, ExtraHeader,
    GATEWAY_NAMES, GatewaySpec, ORG_HEADER, OrgFinding, Readback, Scenario, UnknownName,
    UnknownOrgPolicy, is_canonical_uuid,
};
pub use route::{
    CallSelect, Distribution, FaultKind, FaultSpec, FaultWhen, Fraction, GatewayState, HealthSpec,
    RandomSplit, RouteSpec, RunSpec, TlsFaultKind, Window,
};
pub use tls::{TlsProfile, TlsVersions};
pub use topology::{Applicability, Topology};
