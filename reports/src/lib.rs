//! The run report of e911-harness and its writers.
//!
//! A [`RunReport`] records what one run did (scenarios, checks, calls, gateway observations)
//! and what it found (requirements matrix, totals, verdict). The harness fills it, calls
//! [`RunReport::finish`], and hands it to [`write_all`], which writes `report.json`,
//! `junit.xml`, `summary.md` and `report.html`; [`render_summary_text`] is the terminal summary.
//!
//! # Layout
//! - [`model`]: the report types (serde + JSON Schema), outcomes and the verdict.
//! - [`observation`]: what a mock gateway recorded per request, typed end to end.
//! - `matrix`: [`RunReport::finish`] (requirements matrix, totals), [`RunReport::verdict`],
//!   [`aggregate`] and the natural order of requirement ids ([`natural_cmp`]).
//! - `json`: `report.json` and its schema, shipped at `reports/schema/report.schema.json`.
//! - `junit`: `junit.xml` via quick-junit.
//! - `markdown`: `summary.md`, one page.
//! - [`html`]: `report.html`, self-contained: matrix, checks, SIP ladders, load plots.
//! - [`trace`]: the SIP messages of a call as captured, and its ladder as text.
//! - [`pcap`]: pcapng traces of SIP messages on synthetic TCP/IP headers.
//! - [`media`]: what each end of a call's RTP/SRTP media saw ([`MediaLeg`]).
//! - [`load`]: the `load` section of load runs (counts, percentiles, RFC 6076, SLOs).
//! - [`load_detail`]: its breakdowns, TLS handshakes, caller-data check, shards, merge state.
//! - `text`: the terminal summary.
//! - `write`: atomic file writing and [`WriteError`].
//!
//! # Invariants
//! - Pure: no I/O except in `write`, no clocks, no networking; rendering is deterministic.
//! - `Fail` means the system under test broke an expectation, `Error` that the harness could
//!   not judge. A run, scenario or requirement with no judged check is `Error`: it proved nothing.
//! - Files are replaced atomically (temp file, sync, rename): never half written.

mod describe;
pub use describe::call_tls;
pub mod html;
mod json;
mod junit;
pub mod load;
pub mod load_detail;
mod markdown;
mod matrix;
pub mod media;
pub mod model;
pub mod observation;
pub mod pcap;
#[cfg(test)]
mod sample;
mod text;
pub mod trace;
mod write;

pub use json::{SCHEMA_FILE, from_json_str, json_schema, json_schema_string, to_json_string};
pub use junit::{NO_CHECKS_ID, to_junit, to_junit_string};
pub use load::{GatewayMedia, LoadCounts, LoadMedia, LoadReport};
pub use markdown::{esc as escape_markdown, to_markdown};
pub use matrix::{aggregate, natural_cmp};
pub use media::MediaLeg;
pub use model::{
    Attempt, AttemptOutcome, CallRecord, CheckResult, NotCovered, Outcome, RequirementRow,
    RunReport, ScenarioReport, TlsInfo, Totals, Verdict, WAIVED_PREFIX,
};
pub use observation::Observation;
pub use text::render_summary_text;
pub use trace::{TraceMessage, ladder_text};
pub use write::{
    HTML_FILE, JSON_FILE, JUNIT_FILE, MARKDOWN_FILE, WriteError, WrittenFiles, write_all,
    write_all_with, write_atomic, write_html, write_json, write_junit, write_markdown,
};
