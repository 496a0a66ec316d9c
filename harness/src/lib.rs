//! The originating side of e911-harness and its command line.
//!
//! It emulates the contact-center trunk (Genesys Cloud BYOC or a customer SBC) that sends 911
//! and 933 calls to the E911 gateways, replays scenarios, and judges what happened.
//!
//! # Layout
//! - [`trunk`]: builds the INVITE exactly as the trunk sends it (org header, ANI placement, SDP offer).
//! - [`sdp`]: the SDP offer and the checks on the gateway's answer (ICD 4).
//! - [`uac`]: places one call over TCP/TLS and records every timing and response.
//! - [`verdict`]: pure checks: scenario expectations x originator outcome x gateway observations.
//! - [`route`]: the outbound route (ICD 5.3): one call across gw1/gw2, Sequential or Random,
//!   retry on retryable status/Q.850 cause or transport failure; [`health`]: OPTIONS probing.
//! - [`verdict_route`]: pure route checks (answered-by, attempts, failover time, ...).
//! - [`certify`]: the embedded topology (gw1, gw2 in-process) and the scenario runner.
//! - [`standalone`]: `e911-harness gateway`, one mock gateway in the foreground.
//! - [`load`]: `e911-harness load`: open-loop scheduler, multiplexed UAC, HdrHistogram metrics, SLOs.
//! - [`cli`]: clap types and subcommand drivers; `main.rs` only calls [`cli::main`].
//!
//! # Invariants
//! - Every call attempt ends in a [`reports::CallRecord`], whatever the peer does.
//! - The harness only calls loopback addresses unless told `--allow-remote`, and never a
//!   production E911 gateway host.

pub mod caller;
pub mod certify;
pub mod cli;
pub mod conformance;
pub mod correlate;
pub mod faults;
pub mod health;
pub mod load;
pub mod route;
pub mod route_scenario;
pub mod sdp;
pub mod standalone;
#[cfg(test)]
mod test_support;
pub mod tls;
pub mod trunk;
pub mod uac;
pub mod verdict;
pub mod verdict_conformance;
pub mod verdict_route;
pub mod verdict_tls;
pub mod waiver;
