//! `junit.xml`: the report as JUnit XML for CI systems (quick-junit).
//!
//! One `<testsuite>` per scenario (named after it), one `<testcase>` per check with
//! `classname` = scenario and `name` = check id, plus ` [requirement]` when the check names one.
//! `fail` becomes `<failure>`, `error` becomes `<error>`, `skipped` becomes `<skipped>` with the
//! reason. A scenario that judged nothing gets one synthetic `<error>` case so CI cannot
//! mistake it for a pass. The suite's `<system-out>` holds the call records; a failed or
//! errored check's own `<system-out>` holds the SIP ladder of its scenario's traced calls (at
//! most [`LADDERS_PER_CASE`]), as text.
//!
//! Every suite's `time` is its scenario's duration. A check has no duration of its own (the
//! checks judge the evidence of the whole scenario), so the scenario's time is shared out
//! evenly over its testcases: each `time` is the scenario's divided by its checks, and a
//! suite's cases add up to the suite.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::describe::{call_block, failure_text, one_line};
use crate::model::{CheckResult, Outcome, RunReport, ScenarioReport};
use crate::write::WriteError;

/// Check id of the synthetic error case for a scenario without checks.
pub const NO_CHECKS_ID: &str = "scenario.no-checks";

/// The most call ladders a failed testcase carries.
pub const LADDERS_PER_CASE: usize = 3;

/// The report as a JUnit XML document.
pub fn to_junit_string(report: &RunReport) -> Result<String, WriteError> {
    to_junit(report).to_string().map_err(WriteError::Junit)
}

/// The report as a quick-junit [`Report`], for callers that merge it with other results.
pub fn to_junit(report: &RunReport) -> Report {
    let name = match report.command.as_str() {
        "" => report.tool.clone(),
        cmd => format!("{} {cmd}", report.tool),
    };
    let mut out = Report::new(name);
    out.set_time(Duration::from_millis(report.duration_ms));
    out.add_test_suites(report.scenarios.iter().map(suite));
    out
}

fn suite(s: &ScenarioReport) -> TestSuite {
    let mut suite = TestSuite::new(s.name.as_str());
    suite.set_time(Duration::from_millis(s.duration_ms));
    if !s.description.is_empty() {
        suite.add_property(Property::new("description", s.description.as_str()));
    }
    if let Some(file) = &s.file {
        suite.add_property(Property::new("file", file.as_str()));
    }
    if !s.requirements.is_empty() {
        suite.add_property(Property::new("requirements", s.requirements.join(", ")));
    }
    if s.checks.is_empty() {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status
            .set_message("scenario judged no checks: it proved nothing")
            .set_type("error");
        let mut case = TestCase::new(NO_CHECKS_ID, status);
        case.set_classname(s.name.as_str());
        case.set_time(Duration::from_millis(s.duration_ms));
        suite.add_test_case(case);
    }
    let share = Duration::from_millis(s.duration_ms)
        / u32::try_from(s.checks.len().max(1)).unwrap_or(u32::MAX);
    let ladders: String = s
        .calls
        .iter()
        .filter(|c| !c.trace.is_empty())
        .take(LADDERS_PER_CASE)
        .map(crate::trace::ladder_text)
        .collect::<Vec<_>>()
        .join("\n");
    suite.add_test_cases(s.checks.iter().map(|c| {
        let mut case = case(&s.name, c);
        case.set_time(share);
        if matches!(c.outcome, Outcome::Fail | Outcome::Error) && !ladders.is_empty() {
            case.set_system_out(ladders.as_str());
        }
        case
    }));
    if !s.calls.is_empty() {
        let calls: String = s.calls.iter().map(call_block).collect();
        suite.set_system_out(calls);
    }
    suite
}

fn case(scenario: &str, c: &CheckResult) -> TestCase {
    let name = match &c.requirement {
        Some(r) => format!("{} [{r}]", c.id),
        None => c.id.clone(),
    };
    let status = match c.outcome {
        Outcome::Pass => TestCaseStatus::success(),
        Outcome::Fail | Outcome::Error => {
            let (kind, ty) = match c.outcome {
                Outcome::Fail => (NonSuccessKind::Failure, "fail"),
                _ => (NonSuccessKind::Error, "error"),
            };
            let mut status = TestCaseStatus::non_success(kind);
            status
                .set_message(one_line(&failure_text(c)))
                .set_type(ty)
                .set_description(detail(c));
            status
        }
        Outcome::Skipped => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(one_line(&c.message));
            status
        }
    };
    let mut case = TestCase::new(name, status);
    case.set_classname(scenario);
    case
}

/// The element's text body: one field per line, for CI views that show only the body.
fn detail(c: &CheckResult) -> String {
    let mut lines = vec![format!("check: {}", c.id)];
    if let Some(r) = &c.requirement {
        lines.push(format!("requirement: {r}"));
    }
    if let Some(e) = &c.expected {
        lines.push(format!("expected: {e}"));
    }
    if let Some(o) = &c.observed {
        lines.push(format!("observed: {o}"));
    }
    if !c.message.is_empty() {
        lines.push(format!("message: {}", c.message));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::sample_report;

    fn xml() -> String {
        to_junit_string(&sample_report()).unwrap()
    }

    #[test]
    fn one_suite_per_scenario_with_counts() {
        let x = xml();
        assert!(x.starts_with("<?xml"), "{x}");
        assert!(x.contains(r#"<testsuites name="e911-harness 0.1.0 certify" tests="6" skipped="1" failures="1" errors="1" time="1.234">"#), "{x}");
        assert!(x.contains(r#"<testsuite name="933-readback" tests="3" skipped="1" errors="0" failures="0" time="0.021">"#), "{x}");
        assert!(
            x.contains(r#"<property name="requirements" value="ICD 5.2"/>"#),
            "{x}"
        );
        assert_eq!(x.matches("<testsuite ").count(), 3);
        assert_eq!(x.matches("<testcase ").count(), 6);
    }

    #[test]
    fn testcases_name_the_check_and_requirement() {
        let x = xml();
        assert!(
            x.contains(
                r#"<testcase name="org-header.present-once [ICD 5.1.9]" classname="933-readback" time="0.007"/>"#
            ),
            "{x}"
        );
        assert!(
            x.contains(r#"<testcase name="call.answered [ICD 5.2]" classname="933-readback" time="0.007"/>"#),
            "{x}"
        );
    }

    #[test]
    fn fail_becomes_failure_with_expected_and_observed() {
        let x = xml();
        let failure = r#"<failure message="expected E911-Organization-ID: 1 | exactly once, observed absent on gw2 / (present on gw1): header lost on the retry to &lt;gw2&gt;" type="fail">check: org-header.present-once
requirement: ICD 5.1.9
expected: E911-Organization-ID: 1 | exactly once"#;
        assert!(x.contains(failure), "{x}");
        assert_eq!(x.matches("<failure ").count(), 1);
    }

    #[test]
    fn error_and_skipped_elements() {
        let x = xml();
        assert!(x.contains(r#"<error message="scenario sends to gateway &apos;gw3&apos; but this run has only gw1, gw2" type="error">"#), "{x}");
        assert!(
            x.contains(r#"<skipped message="waived: lab SBC offers TLS 1.3 only"/>"#),
            "{x}"
        );
        assert_eq!(x.matches("<error ").count(), 1);
        assert_eq!(x.matches("<skipped ").count(), 1);
    }

    #[test]
    fn calls_go_to_system_out() {
        let x = xml();
        assert!(x.contains("<system-out>call f81d4fae-7dec@harness dial 911 ani +13175550101: 200 OK, answered by gw2"), "{x}");
        assert!(
            x.contains("attempt 1 gw1 tls 127.0.0.1:5061: 503 Service Unavailable"),
            "{x}"
        );
    }

    #[test]
    fn scenario_without_checks_is_an_error_case() {
        let mut r = sample_report();
        r.scenarios[0].checks.clear();
        let x = to_junit_string(&r).unwrap();
        assert!(
            x.contains(
                r#"<testcase name="scenario.no-checks" classname="933-readback" time="0.021">"#
            ),
            "{x}"
        );
        assert!(
            x.contains(
                r#"<error message="scenario judged no checks: it proved nothing" type="error"/>"#
            ),
            "{x}"
        );
    }

    #[test]
    fn every_case_has_a_time_and_a_failed_case_carries_its_ladder() {
        let mut r = sample_report();
        r.scenarios[1].calls[0].trace = vec![crate::trace::TraceMessage {
            at_us: 10,
            received_at_us: None,
            from: "trunk".into(),
            to: "gw2".into(),
            src: "127.0.0.1:40000".into(),
            dst: "127.0.0.1:5062".into(),
            transport: "tls".into(),
            text: "INVITE sip:911@gw2 SIP/2.0\r\n\r\n".into(),
        }];
        let x = to_junit_string(&r).unwrap();
        for line in x.lines().filter(|l| l.contains("<testcase ")) {
            assert!(line.contains(" time=\""), "{line}");
        }
        let failed = x.find("<failure ").unwrap();
        let out = &x[failed..];
        assert!(
            out.contains("<system-out>ladder of call f81d4fae-7dec@harness"),
            "{x}"
        );
        assert!(out.contains("+0.000  trunk -&gt; gw2    INVITE 911"), "{x}");
    }

    #[test]
    fn output_parses_back_as_junit() {
        let parsed = Report::deserialize_from_str(&xml()).unwrap();
        assert_eq!(parsed.test_suites.len(), 3);
        assert_eq!(
            (parsed.tests, parsed.failures, parsed.errors, parsed.skipped),
            (6, 1, 1, 1)
        );
    }
}
