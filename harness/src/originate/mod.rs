//! The trunk emulation: everything that originates calls toward the gateways (or a system under
//! test in front of them), as the contact-center trunk does.
//!
//! # Layout
//! - [`trunk`]: the INVITE exactly as the trunk sends it (org header, ANI placement, SDP offer).
//! - [`sdp`]: the SDP offer and the checks on the gateway's answer (ICD 4).
//! - [`media`]: the trunk's SRTP media on an answered call (ICD 4).
//! - [`uac`]: places one call over TCP/TLS and records every timing and response.
//! - [`route`]: one call across gw1/gw2, Sequential or Random, retrying as ICD 5.3 says.
//! - [`health`]: OPTIONS probing of the route's gateways.
//! - [`location`]: location by value (RFC 6442) conveyed with the INVITE; the ANI a scenario's
//!   `[caller]` selects is the scenario model's ([`scenarios::caller`]).
//! - [`correlate`]: matching the gateways' observations to a call across a system under test.
//! - [`tls`]: the trunk's TLS trust and the profile it offers (ICD 5.1).
//! - [`interlock`]: the never-a-real-911 check of every external target, before DNS and connect.
//! - [`peer`]: vetting and resolving an external target, and trusting its certificate.

pub mod correlate;
pub mod health;
pub mod interlock;
pub mod location;
pub mod media;
pub mod peer;
pub mod route;
pub mod sdp;
pub mod tls;
pub mod trunk;
pub mod uac;
