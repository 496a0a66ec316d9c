//! The originating side of e911-harness and its command line.
//!
//! It emulates the contact-center trunk (Genesys Cloud BYOC or a customer SBC) that sends 911
//! and 933 calls to the E911 gateways, replays scenarios, and judges what happened.
//!
//! # Layout
//! The rooms follow the data: an originator places calls, a run collects what the originator
//! and the gateways saw, the verdict judges it, the CLI drives it all.
//! - [`evidence`]: the typed evidence spine: a [`evidence::Call`] of [`evidence::Attempt`]s,
//!   each ending in a typed [`evidence::AttemptEnd`]; turned into the report's records once,
//!   at the edge ([`evidence::record`]). [`evidence::recording`] is what a run records of the
//!   wire (the message capture, TLS secrets), [`evidence::trace`] turns captured messages into
//!   the calls' SIP ladders and the pcapng trace.
//! - [`originate`]: the trunk emulation. [`originate::trunk`] builds the INVITE as the trunk sends
//!   it, [`originate::uac`] places one call, [`originate::route`] tries gw1/gw2 (ICD 5.3),
//!   [`originate::health`] probes with OPTIONS, [`originate::location`] conveys location by value,
//!   [`originate::correlate`] matches gateway observations to calls, [`originate::tls`] holds the
//!   trunk's TLS trust and profile, [`originate::peer`] vets an external target.
//! - [`verdict`]: pure checks from (scenario expectations, originator evidence, gateway
//!   observations) to check results: call, org/ANI, TLS, route, location.
//! - [`run`]: topologies and the scenario runner: [`run::embedded`] (gw1/gw2 in-process),
//!   [`run::place`] (a scenario's calls, routed or through a system under test), calls matched
//!   to the gateways' observations, [`run::faults`], [`run::waiver`].
//! - [`plan`]: `certify --originator`: a test plan walked with a real originator calling the
//!   embedded gateways; its calls matched to the steps and judged from the gateways alone
//!   ([`evidence::Topology::Originator`]), operator guidance, the unattended drive command.
//! - [`load`]: `e911-harness load`: open-loop scheduler, multiplexed UAC, HdrHistogram
//!   metrics, SLOs.
//! - [`torture`]: `e911-harness torture`: RFC 4475/5118 messages and PROTOS-style mutations
//!   against a system under test, with liveness probes after each batch.
//! - [`cli`]: clap types and subcommand drivers ([`cli::gateway`]: the standalone gateway,
//!   [`cli::report`]: the views again from a report.json, [`cli::originator`]:
//!   `certify --originator`, [`cli::call`]: the trunk as a
//!   standalone originator);
//!   `main.rs` only calls [`cli::main`]. [`exit`]: the exit codes every subcommand shares;
//!   [`signals`]: one cancellation for SIGINT and SIGTERM; [`stdout`]: printing that ends
//!   quietly on a closed stdout.
//!
//! Imports point one way: `cli` -> `plan` -> `run`/`load` -> `verdict` -> `evidence` <-
//! `originate`; nothing imports `cli`.
//!
//! # Invariants
//! - Every call attempt ends in a [`reports::CallRecord`], whatever the peer does.
//! - The harness only calls loopback addresses unless told `--allow-remote`, and never a
//!   production E911 gateway host.

pub mod cli;
pub mod evidence;
pub mod exit;
pub mod load;
pub mod originate;
pub mod plan;
pub mod run;
pub mod signals;
pub mod stdout;
#[cfg(test)]
mod test_support;
pub mod torture;
pub mod verdict;
