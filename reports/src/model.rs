//! The run report model: what one harness run did and what it found.
//!
//! Every type here is plain data (serde + schemars), built by the harness and read by the
//! writers in this crate or by anyone consuming `report.json`. Optional fields are left out of
//! the JSON when absent and default to `None` when read back.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One harness run: the scenarios it played, their checks, and the aggregated results.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunReport {
    /// Tool name and version, e.g. `e911-harness 0.1.0`.
    pub tool: String,
    /// Subcommand that produced the report, e.g. `certify` or `run`.
    pub command: String,
    /// When the run started, RFC 3339 in UTC.
    pub started_at: String,
    /// Wall-clock length of the whole run, in milliseconds.
    pub duration_ms: u64,
    /// Free-text description of what was between the harness and the gateways.
    pub topology: String,
    /// One entry per scenario, in the order they ran.
    pub scenarios: Vec<ScenarioReport>,
    /// Requirements matrix, computed by [`RunReport::finish`].
    pub requirements: Vec<RequirementRow>,
    /// Check counts, computed by [`RunReport::finish`].
    pub totals: Totals,
    /// Catalogue requirements no scenario of this run bears on (certify runs), with how to
    /// establish each instead; empty when every one is covered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_covered: Vec<NotCovered>,
    /// Load-test section of `e911-harness load` runs; omitted when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<crate::load::LoadReport>,
}

/// One scenario as it ran: its checks, the calls it placed and what the gateways saw.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScenarioReport {
    /// Scenario name (unique within a run).
    pub name: String,
    /// One-line description from the scenario file.
    pub description: String,
    /// Scenario file the scenario came from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Requirement ids the scenario as a whole exercises (e.g. `ICD 5.1.9`).
    pub requirements: Vec<String>,
    /// Why the scenario was not run in this run's topology (it applies to another one); its
    /// checks are then one skipped check per requirement, with this reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_applicable: Option<String>,
    /// Check results, in the order they were judged.
    pub checks: Vec<CheckResult>,
    /// Calls placed by the originating side.
    pub calls: Vec<CallRecord>,
    /// The gateways' observations of the scenario's calls (and the connection events during
    /// it), as recorded.
    pub observations: Vec<crate::Observation>,
    /// Wall-clock length of the scenario, in milliseconds.
    pub duration_ms: u64,
}

/// The result of one named check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CheckResult {
    /// Stable check id, e.g. `org-header.present-once`.
    pub id: String,
    /// Requirement id this check verifies, if it verifies a specific one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirement: Option<String>,
    /// What the check concluded.
    pub outcome: Outcome,
    /// What the check expected, in words or as a value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What the check observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<String>,
    /// Human explanation; for `skipped` the reason it was skipped.
    pub message: String,
}

/// Outcome of a check (and, aggregated, of a requirement).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The expectation held.
    Pass,
    /// The system under test broke an expectation.
    Fail,
    /// A harness or infrastructure problem prevented a judgement.
    Error,
    /// Not judged, with the reason in the check's message (e.g. a waiver).
    Skipped,
}

impl Outcome {
    /// Upper-case label for tables and terminals: `PASS`, `FAIL`, `ERROR`, `SKIP`.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Fail => "FAIL",
            Outcome::Error => "ERROR",
            Outcome::Skipped => "SKIP",
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Error => "error",
            Outcome::Skipped => "skipped",
        })
    }
}

/// One call placed by the originating side, across every gateway it tried.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CallRecord {
    /// SIP Call-ID of the call.
    pub call_id: String,
    /// Dialed number (`911`, `933`, ...).
    pub dial: String,
    /// Calling number sent as ANI.
    pub ani: String,
    /// The ANI the gateway extracted from the first INVITE that reached it (what an SBC
    /// forwarded may differ from what the trunk sent); absent without gateway evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ani_observed: Option<String>,
    /// One entry per gateway tried, in order.
    pub attempts: Vec<Attempt>,
    /// Final SIP status the call ended with, if any response arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_status: Option<u16>,
    /// Reason phrase of the final status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_reason: Option<String>,
    /// Name of the gateway that answered (200), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_by: Option<String>,
    /// Why the call ended without a final response (transport failure, timeout...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The call's first INVITE (on whichever gateway) to the 2xx that answered it, in
    /// microseconds: a failover call's setup includes the attempts that failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup_us: Option<u64>,
    /// Wall-clock length of the call, in milliseconds.
    pub duration_ms: u64,
    /// Every SIP message of the call on every leg (trunk, system under test, gateways), in
    /// time order, as captured: the SIP ladder. Empty when the run kept no trace of this call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trace: Vec<crate::trace::TraceMessage>,
}

/// One INVITE attempt towards one gateway.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Attempt {
    /// Gateway name, e.g. `gw1` (or the system under test the trunk called).
    pub gateway: String,
    /// How the attempt ended; absent in reports written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<AttemptOutcome>,
    /// Call-ID of this attempt's INVITE (a trunk re-originates each attempt with a new one).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub call_id: String,
    /// When the INVITE was written, in microseconds since the run's epoch (the clock the
    /// gateways' observations use).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite_at_us: Option<u64>,
    /// When the attempt started (connecting), in microseconds since the run's epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at_us: Option<u64>,
    /// When the originator stopped waiting for it, in microseconds since the run's epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at_us: Option<u64>,
    /// Address tried, `host:port`.
    pub target: String,
    /// Transport used: `tls`, `tcp` or `udp`.
    pub transport: String,
    /// Final status of this attempt, if a final response arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Reason phrase of `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Warning header of the response, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// Transport or protocol error that ended the attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Negotiated TLS parameters, when the attempt used TLS and the handshake completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsInfo>,
    /// INVITE sent to 100 Trying, in microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite_to_100_us: Option<u64>,
    /// INVITE sent to first 18x (post-dial delay), in microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite_to_18x_us: Option<u64>,
    /// INVITE sent to final response, in microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite_to_final_us: Option<u64>,
    /// When the caller hung up before a final response and the trunk CANCELled the INVITE (an
    /// abandoned call), in microseconds since the run's epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abandoned_at_us: Option<u64>,
    /// The trunk's media on an answered call, when the run carried media.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<crate::MediaLeg>,
}

/// How one attempt ended, by kind (the text of [`Attempt::error`] says the details).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AttemptOutcome {
    /// A 2xx answered the call.
    Answered,
    /// A failure response (3xx-6xx).
    Rejected,
    /// The TCP connection was refused or unreachable.
    Refused,
    /// No TCP connection or TLS handshake within the connect bound.
    ConnectTimeout,
    /// The TLS handshake failed (certificate, name, expiry, incompatible profile).
    TlsFailed,
    /// The peer closed the connection before a final response.
    Closed,
    /// The connection was reset, or reading or writing failed, before a final response.
    Reset,
    /// No final response within the attempt's timeout.
    TimedOut,
    /// The harness could not try (no TLS configuration, bad server name).
    SetupError,
    /// Not tried: health probing had the gateway down.
    SkippedDown,
    /// Not sent: the trunk's number plan has no route for the number (ICD 5.2).
    NotRouted,
    /// Not tried: the route names a gateway this run has no target for.
    NoTarget,
}

/// Negotiated TLS session parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TlsInfo {
    /// Protocol version, e.g. `TLSv1.2`.
    pub version: String,
    /// Cipher suite, e.g. `TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384`.
    pub cipher: String,
    /// Key-exchange group, e.g. `secp384r1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Server name sent in SNI, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    /// The key of the certificate the server presented, e.g. `RSA 2048` or `ECDSA P-384`
    /// (recorded by the client side).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
}

/// A requirement a certification run did not cover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NotCovered {
    /// Requirement id, e.g. `ICD 5.1.1`.
    pub id: String,
    /// Requirement title.
    pub title: String,
    /// How it is established instead (an admin setting, the test suite, a load run), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One row of the requirements matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RequirementRow {
    /// Requirement id, e.g. `ICD 5.1.9`.
    pub id: String,
    /// Requirement title, when the catalogue knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Scenarios that exercised the requirement, in run order.
    pub scenarios: Vec<String>,
    /// Aggregated outcome of every check that bears on the requirement.
    pub outcome: Outcome,
    /// How many of those checks were waived (skipped with a [`WAIVED_PREFIX`] message).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub waived: usize,
}

/// The start of a skipped check's message when a waiver turned it into a skip.
pub const WAIVED_PREFIX: &str = "waived: ";

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl CheckResult {
    /// Whether a waiver skipped this check.
    pub fn is_waived(&self) -> bool {
        self.outcome == Outcome::Skipped && self.message.starts_with(WAIVED_PREFIX)
    }
}

/// Check counts over a whole run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Totals {
    /// Number of scenarios.
    pub scenarios: usize,
    /// Number of checks, all outcomes.
    pub checks: usize,
    /// Checks that passed.
    pub passed: usize,
    /// Checks that failed.
    pub failed: usize,
    /// Checks that errored.
    pub errors: usize,
    /// Checks that were skipped.
    pub skipped: usize,
}

impl Totals {
    /// Counts the given checks (`scenarios` is left at 0).
    pub fn of_checks<'a>(checks: impl IntoIterator<Item = &'a CheckResult>) -> Totals {
        let mut t = Totals::default();
        for c in checks {
            t.checks += 1;
            match c.outcome {
                Outcome::Pass => t.passed += 1,
                Outcome::Fail => t.failed += 1,
                Outcome::Error => t.errors += 1,
                Outcome::Skipped => t.skipped += 1,
            }
        }
        t
    }
}

/// The verdict of a run (or of one scenario).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every judged check passed.
    Passed,
    /// The system under test broke at least one expectation (whatever else could not be
    /// judged: a failure is proof on its own).
    Failed,
    /// Nothing failed, but the harness could not judge something, or nothing was judged at all.
    Error,
}

impl Verdict {
    /// Process exit code: 0 passed, 1 failed, 3 error (2 is reserved for CLI usage errors).
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Passed => 0,
            Verdict::Failed => 1,
            Verdict::Error => 3,
        }
    }

    /// Upper-case label: `PASSED`, `FAILED`, `ERROR`.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Passed => "PASSED",
            Verdict::Failed => "FAILED",
            Verdict::Error => "ERROR",
        }
    }

    /// The verdict over a set of counted checks: failed if any check failed (a broken
    /// requirement is proof, whatever could not be judged beside it); else error if any check
    /// errored or if none was actually judged (zero checks, or all skipped: the run proved
    /// nothing); else passed.
    pub fn of_totals(t: &Totals) -> Verdict {
        if t.failed > 0 {
            Verdict::Failed
        } else if t.errors > 0 || t.passed == 0 {
            Verdict::Error
        } else {
            Verdict::Passed
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}
