//! What a load run's verdict may never hide: calls that were not answered as expected, and an
//! interruption.
//!
//! - [`calls_check`]: without `--slo`, every attempted call must end as expected: answered, or
//!   rejected with a status the `--mix` declares (a non-emergency number in the mix is expected
//!   to be refused with 404, as the E911 gateways and the shipped Kamailio configuration do).
//!   A timeout, a transport error, a call refused by `--max-concurrent` or an undeclared
//!   rejection fails the run. With `--slo` the SLOs set the tolerance, but a run in which no
//!   call at all was answered still fails (an SLO on latency cannot hold over nothing).
//! - [`finish_line`]: the printed verdict and exit code, INTERRUPTED (exit 4) when a signal
//!   stopped the run, whatever the checks said.

use std::collections::BTreeMap;

use reports::{CheckResult, LoadCounts, Outcome, Verdict};

use crate::exit::EXIT_INTERRUPTED;

/// Statuses the mix (`911=95,4155550100=5`, as the report's config records it) declares as
/// expected rejections: 404 when it dials any number that is not an emergency number (911,
/// 933) with a weight above 0.
pub fn declared_rejections(mix: &str) -> Vec<u16> {
    let non_emergency = mix.split(',').any(|item| {
        let (dial, weight) = item.split_once('=').unwrap_or((item, "1"));
        let weight: u64 = weight.trim().parse().unwrap_or(1);
        weight > 0 && !scenarios::is_emergency_number(dial.trim())
    });
    if non_emergency { vec![404] } else { Vec::new() }
}

/// The `load.calls` check: every call answered as expected (see the module docs).
pub fn calls_check(
    counts: &LoadCounts,
    rejected_by_status: &BTreeMap<u16, u64>,
    errored_by_cause: &BTreeMap<String, u64>,
    mix: &str,
    with_slos: bool,
) -> CheckResult {
    let declared = declared_rejections(mix);
    let expected_rejections: u64 = rejected_by_status
        .iter()
        .filter(|(s, _)| declared.contains(s))
        .map(|(_, n)| n)
        .sum();
    let undeclared: Vec<String> = rejected_by_status
        .iter()
        .filter(|(s, n)| !declared.contains(s) && **n > 0)
        .map(|(s, n)| format!("{n} rejected {s}"))
        .collect();
    let unexpected = counts.timed_out
        + counts.errored
        + (counts.rejected - expected_rejections.min(counts.rejected));
    let mut problems = Vec::new();
    if counts.timed_out > 0 {
        problems.push(format!("{} timed out", counts.timed_out));
    }
    for (cause, n) in errored_by_cause {
        problems.push(format!("{n} errored ({cause})"));
    }
    problems.extend(undeclared);
    let observed = format!(
        "attempted {}, answered {}, rejected {} ({} declared by --mix), timed out {}, errored {}",
        counts.attempted,
        counts.answered,
        counts.rejected,
        expected_rejections,
        counts.timed_out,
        counts.errored
    );
    let expected = if declared.is_empty() {
        "every call answered".to_owned()
    } else {
        format!(
            "every call answered, or rejected with {} for the non-emergency numbers in --mix",
            declared
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join("/")
        )
    };
    let nothing_answered = counts.attempted > 0 && counts.answered == 0 && expected_rejections == 0;
    let (outcome, message) = if counts.attempted == 0 {
        (Outcome::Fail, "no call was attempted".to_owned())
    } else if nothing_answered {
        (
            Outcome::Fail,
            format!("no call was answered: {}", problems.join(", ")),
        )
    } else if unexpected == 0 {
        (Outcome::Pass, "every call ended as expected".to_owned())
    } else if with_slos {
        (
            Outcome::Pass,
            format!(
                "{unexpected} call(s) not answered as expected ({}); judged by --slo",
                problems.join(", ")
            ),
        )
    } else {
        (
            Outcome::Fail,
            format!(
                "{unexpected} of {} call(s) not answered as expected: {} (give --slo to set a tolerance)",
                counts.attempted,
                problems.join(", ")
            ),
        )
    };
    CheckResult {
        id: "load.calls".into(),
        requirement: None,
        outcome,
        expected: Some(expected),
        observed: Some(observed),
        message,
    }
}

/// The verdict line to print and the exit code: INTERRUPTED (4) when a signal stopped the run.
pub fn finish_line(verdict: Verdict, interrupted: bool) -> (String, u8) {
    if interrupted {
        ("INTERRUPTED".to_owned(), EXIT_INTERRUPTED)
    } else {
        (verdict.to_string(), verdict.exit_code() as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(answered: u64, rejected: u64, timed_out: u64, errored: u64) -> LoadCounts {
        LoadCounts {
            attempted: answered + rejected + timed_out + errored,
            answered,
            rejected,
            timed_out,
            errored,
        }
    }

    #[test]
    fn without_slos_any_call_not_answered_as_expected_fails() {
        let none: BTreeMap<u16, u64> = BTreeMap::new();
        let no_cause: BTreeMap<String, u64> = BTreeMap::new();
        let m911 = "911=100";
        // Every call timed out: this used to print PASSED.
        let c = calls_check(&counts(0, 0, 10, 0), &none, &no_cause, m911, false);
        assert_eq!(c.outcome, Outcome::Fail, "{c:?}");
        // Even with an SLO, nothing answered is a failure.
        let c = calls_check(&counts(0, 0, 10, 0), &none, &no_cause, m911, true);
        assert_eq!(c.outcome, Outcome::Fail, "{c:?}");
        // Refused by --max-concurrent (an errored cause).
        let causes = BTreeMap::from([("refused_max_concurrent".to_owned(), 3)]);
        let c = calls_check(&counts(7, 0, 0, 3), &none, &causes, m911, false);
        assert_eq!(c.outcome, Outcome::Fail);
        assert!(
            c.message.contains("refused_max_concurrent"),
            "{}",
            c.message
        );
        // A 404 that the mix does not declare.
        let r404 = BTreeMap::from([(404, 2)]);
        let c = calls_check(&counts(8, 2, 0, 0), &r404, &no_cause, m911, false);
        assert_eq!(c.outcome, Outcome::Fail);
        // All answered.
        let c = calls_check(&counts(10, 0, 0, 0), &none, &no_cause, m911, false);
        assert_eq!(c.outcome, Outcome::Pass);
    }

    #[test]
    fn rejections_of_non_emergency_numbers_in_the_mix_are_declared() {
        let none: BTreeMap<String, u64> = BTreeMap::new();
        let m = "911=90,4155550100=10";
        assert_eq!(declared_rejections(m), [404]);
        let r404 = BTreeMap::from([(404, 1)]);
        let c = calls_check(&counts(9, 1, 0, 0), &r404, &none, m, false);
        assert_eq!(c.outcome, Outcome::Pass, "{c:?}");
        // A 503 is still not declared.
        let r = BTreeMap::from([(404, 1), (503, 1)]);
        let c = calls_check(&counts(8, 2, 0, 0), &r, &none, m, false);
        assert_eq!(c.outcome, Outcome::Fail);
        assert!(declared_rejections("911=95,933=5").is_empty());
        assert!(declared_rejections("911=95,4155550100=0").is_empty());
    }

    #[test]
    fn an_interrupted_run_is_interrupted_whatever_the_checks_said() {
        assert_eq!(
            finish_line(Verdict::Passed, true),
            ("INTERRUPTED".into(), 4)
        );
        assert_eq!(finish_line(Verdict::Passed, false).1, 0);
    }
}
