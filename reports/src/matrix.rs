//! Aggregation: the requirements matrix, totals and the run verdict.
//!
//! A requirement id counts exactly the checks that name it (`check.requirement`): a scenario
//! that lists a requirement proves nothing about it unless one of its checks judges it. Its
//! outcome is `fail` if any of those checks failed, else `error` if any errored, else
//! `skipped` if all were skipped, else `pass`. A requirement that scenarios list but no check
//! of the run judged gets a row with outcome `skipped` and no scenarios: it is not covered. Rows are sorted naturally (`ICD 4` < `ICD 5.1` < `ICD 5.1.9` <
//! `ICD 5.1.10` < `ICD 5.2` < `RFC 3261`).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::model::{Outcome, RequirementRow, RunReport, ScenarioReport, Totals, Verdict};

impl RunReport {
    /// Computes the requirements matrix and the totals from the scenarios. `titles` looks up a
    /// requirement's title by id (None when the catalogue does not know it). Idempotent: both
    /// are recomputed from scratch on every call.
    pub fn finish(&mut self, titles: &dyn Fn(&str) -> Option<String>) {
        self.requirements = requirement_matrix(&self.scenarios, titles);
        let mut totals = Totals::of_checks(self.scenarios.iter().flat_map(|s| &s.checks));
        totals.scenarios = self.scenarios.len();
        self.totals = totals;
    }

    /// The run's verdict, from the checks themselves (so it holds even before
    /// [`finish`](Self::finish)): `Error` if any check errored or if something proved nothing
    /// (zero checks in the run, every check skipped, or a scenario with no checks at all);
    /// else `Failed` if any check failed; else `Passed`.
    pub fn verdict(&self) -> Verdict {
        let totals = Totals::of_checks(self.scenarios.iter().flat_map(|s| &s.checks));
        match Verdict::of_totals(&totals) {
            Verdict::Error => Verdict::Error,
            _ if self.scenarios.iter().any(|s| s.checks.is_empty()) => Verdict::Error,
            v => v,
        }
    }
}

impl ScenarioReport {
    /// Aggregated outcome of this scenario's checks, with the matrix's rules (`error` when the
    /// scenario has no checks at all).
    pub fn outcome(&self) -> Outcome {
        aggregate(self.checks.iter().map(|c| c.outcome))
    }
}

/// Folds outcomes: any fail -> fail; else any error -> error; else all skipped -> skipped;
/// else pass. An empty set is `error` (nothing was judged).
pub fn aggregate(outcomes: impl IntoIterator<Item = Outcome>) -> Outcome {
    let (mut any, mut fail, mut error, mut all_skipped) = (false, false, false, true);
    for o in outcomes {
        any = true;
        match o {
            Outcome::Fail => fail = true,
            Outcome::Error => error = true,
            Outcome::Skipped => {}
            Outcome::Pass => {}
        }
        if o != Outcome::Skipped {
            all_skipped = false;
        }
    }
    if !any || (error && !fail) {
        Outcome::Error
    } else if fail {
        Outcome::Fail
    } else if all_skipped {
        Outcome::Skipped
    } else {
        Outcome::Pass
    }
}

#[derive(Default)]
struct Acc {
    scenarios: Vec<String>,
    outcomes: Vec<Outcome>,
    waived: usize,
}

impl Acc {
    fn touch(&mut self, scenario: &str) {
        if !self.scenarios.iter().any(|s| s == scenario) {
            self.scenarios.push(scenario.to_owned());
        }
    }
}

fn requirement_matrix(
    scenarios: &[ScenarioReport],
    titles: &dyn Fn(&str) -> Option<String>,
) -> Vec<RequirementRow> {
    let mut acc: BTreeMap<&str, Acc> = BTreeMap::new();
    for s in scenarios {
        for c in &s.checks {
            let Some(id) = c
                .requirement
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty())
            else {
                continue;
            };
            let a = acc.entry(id).or_default();
            a.touch(&s.name);
            a.outcomes.push(c.outcome);
            a.waived += usize::from(c.is_waived());
        }
    }
    // A requirement a scenario claims but no check of the run judged: listed, proved nothing.
    for s in scenarios {
        for id in dedup(
            s.requirements
                .iter()
                .map(|r| r.trim())
                .filter(|r| !r.is_empty()),
        ) {
            acc.entry(id).or_default();
        }
    }
    let mut rows: Vec<RequirementRow> = acc
        .into_iter()
        .map(|(id, a)| RequirementRow {
            id: id.to_owned(),
            title: titles(id),
            outcome: if a.outcomes.is_empty() {
                Outcome::Skipped
            } else {
                aggregate(a.outcomes)
            },
            scenarios: a.scenarios,
            waived: a.waived,
        })
        .collect();
    rows.sort_by(|a, b| natural_cmp(&a.id, &b.id));
    rows
}

fn dedup<'a>(ids: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for id in ids {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// Natural order for requirement ids: runs of ASCII digits compare as numbers, everything
/// else byte-wise, and a prefix sorts first (`ICD 5.1` < `ICD 5.1.9` < `ICD 5.1.10`).
/// Total: ties on numeric value (`07` vs `7`) fall back to plain string order.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(cx), Some(cy)) if cx.is_ascii_digit() && cy.is_ascii_digit() => {
                let nx = x.iter().take_while(|c| c.is_ascii_digit()).count();
                let ny = y.iter().take_while(|c| c.is_ascii_digit()).count();
                let (dx, dy) = (trim_zeros(&x[..nx]), trim_zeros(&y[..ny]));
                let ord = dx.len().cmp(&dy.len()).then_with(|| dx.cmp(dy));
                if ord != Ordering::Equal {
                    return ord;
                }
                x = &x[nx..];
                y = &y[ny..];
            }
            (Some(cx), Some(cy)) => {
                if cx != cy {
                    return cx.cmp(cy);
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let first = digits
        .iter()
        .position(|&d| d != b'0')
        .unwrap_or(digits.len());
    &digits[first..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CheckResult;

    fn check(id: &str, req: Option<&str>, outcome: Outcome) -> CheckResult {
        CheckResult {
            id: id.into(),
            requirement: req.map(Into::into),
            outcome,
            expected: None,
            observed: None,
            message: String::new(),
        }
    }

    fn scenario(name: &str, reqs: &[&str], checks: Vec<CheckResult>) -> ScenarioReport {
        ScenarioReport {
            name: name.into(),
            requirements: reqs.iter().map(|r| r.to_string()).collect(),
            checks,
            ..Default::default()
        }
    }

    fn report(scenarios: Vec<ScenarioReport>) -> RunReport {
        let mut r = RunReport {
            scenarios,
            ..Default::default()
        };
        r.finish(&|id| (id == "ICD 5.1.9").then(|| "organization header".to_owned()));
        r
    }

    fn row<'a>(r: &'a RunReport, id: &str) -> &'a RequirementRow {
        r.requirements
            .iter()
            .find(|row| row.id == id)
            .unwrap_or_else(|| panic!("no row {id}"))
    }

    #[test]
    fn natural_order_compares_numeric_components_as_numbers() {
        let mut ids = vec![
            "RFC 3261",
            "ICD 5.2",
            "ICD 5.1.10",
            "ICD 5.1.9",
            "ICD 5.1",
            "ICD 4",
            "ICD 10",
            "RFC 5922",
        ];
        ids.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            ids,
            [
                "ICD 4",
                "ICD 5.1",
                "ICD 5.1.9",
                "ICD 5.1.10",
                "ICD 5.2",
                "ICD 10",
                "RFC 3261",
                "RFC 5922"
            ]
        );
        assert_eq!(
            natural_cmp("ICD 5.01", "ICD 5.1"),
            "ICD 5.01".cmp("ICD 5.1")
        );
        assert_ne!(natural_cmp("ICD 5.01", "ICD 5.1"), Ordering::Equal);
        assert_eq!(natural_cmp("ICD 5", "ICD 5"), Ordering::Equal);
    }

    #[test]
    fn matrix_rows_are_sorted_and_titled() {
        let r = report(vec![
            scenario(
                "a",
                &["RFC 3261", "ICD 5.2"],
                vec![check("x", Some("ICD 5.1.10"), Outcome::Pass)],
            ),
            scenario(
                "b",
                &["ICD 4"],
                vec![check("y", Some("ICD 5.1.9"), Outcome::Pass)],
            ),
        ]);
        let ids: Vec<_> = r.requirements.iter().map(|row| row.id.as_str()).collect();
        assert_eq!(
            ids,
            ["ICD 4", "ICD 5.1.9", "ICD 5.1.10", "ICD 5.2", "RFC 3261"]
        );
        assert_eq!(
            row(&r, "ICD 5.1.9").title.as_deref(),
            Some("organization header")
        );
        assert_eq!(row(&r, "ICD 4").title, None);
    }

    #[test]
    fn a_scenario_level_requirement_proves_nothing_without_a_check_naming_it() {
        let r = report(vec![scenario(
            "failover",
            &["ICD 5.3", "ICD 5.1.9"],
            vec![
                check("a", Some("ICD 5.1.6"), Outcome::Pass),
                check("b", Some("ICD 5.1.9"), Outcome::Fail),
            ],
        )]);
        // Listed, judged by no check: not covered, whatever the scenario's other checks say.
        assert_eq!(row(&r, "ICD 5.3").outcome, Outcome::Skipped);
        assert!(row(&r, "ICD 5.3").scenarios.is_empty());
        assert_eq!(row(&r, "ICD 5.1.9").outcome, Outcome::Fail);
        assert_eq!(row(&r, "ICD 5.1.6").outcome, Outcome::Pass);
        assert_eq!(row(&r, "ICD 5.1.9").scenarios, ["failover"]);
    }

    #[test]
    fn skipped_checks_alone_leave_a_requirement_uncovered() {
        let r = report(vec![
            scenario(
                "behind-sbc",
                &["ICD 5.3"],
                vec![check("route.attempts", Some("ICD 5.3"), Outcome::Skipped)],
            ),
            scenario("ok", &[], vec![check("a", Some("ICD 5.2"), Outcome::Pass)]),
        ]);
        assert_eq!(row(&r, "ICD 5.3").outcome, Outcome::Skipped);
        assert_eq!(r.verdict(), Verdict::Passed);
    }

    #[test]
    fn check_requirement_counts_only_that_check() {
        let r = report(vec![scenario(
            "s",
            &[],
            vec![
                check("a", Some("ICD 5.1.7"), Outcome::Pass),
                check("b", Some("ICD 5.1.9"), Outcome::Fail),
            ],
        )]);
        assert_eq!(row(&r, "ICD 5.1.7").outcome, Outcome::Pass);
        assert_eq!(row(&r, "ICD 5.1.9").outcome, Outcome::Fail);
    }

    #[test]
    fn aggregation_prefers_fail_then_error_then_skipped() {
        use Outcome::*;
        assert_eq!(aggregate([Pass, Error, Fail, Skipped]), Fail);
        assert_eq!(aggregate([Pass, Error, Skipped]), Error);
        assert_eq!(aggregate([Skipped, Skipped]), Skipped);
        assert_eq!(aggregate([Pass, Skipped]), Pass);
        assert_eq!(aggregate([]), Error);
    }

    #[test]
    fn matrix_lists_each_scenario_once_in_run_order() {
        let r = report(vec![
            scenario(
                "z-second",
                &["ICD 5.1.9"],
                vec![check("a", Some("ICD 5.1.9"), Outcome::Pass)],
            ),
            scenario(
                "a-first",
                &[],
                vec![
                    check("b", Some("ICD 5.1.9"), Outcome::Skipped),
                    check("c", Some("ICD 5.1.9"), Outcome::Pass),
                ],
            ),
        ]);
        let row = row(&r, "ICD 5.1.9");
        assert_eq!(row.scenarios, ["z-second", "a-first"]);
        assert_eq!(row.outcome, Outcome::Pass);
    }

    #[test]
    fn a_scenario_without_any_check_makes_the_run_an_error() {
        let r = report(vec![
            scenario("empty", &["ICD 5.2"], vec![]),
            scenario("ok", &[], vec![check("a", None, Outcome::Pass)]),
        ]);
        assert_eq!(row(&r, "ICD 5.2").outcome, Outcome::Skipped);
        assert_eq!(r.verdict(), Verdict::Error);
    }

    #[test]
    fn totals_count_every_outcome() {
        use Outcome::*;
        let r = report(vec![
            scenario(
                "a",
                &[],
                vec![check("1", None, Pass), check("2", None, Fail)],
            ),
            scenario(
                "b",
                &[],
                vec![
                    check("3", None, Error),
                    check("4", None, Skipped),
                    check("5", None, Pass),
                ],
            ),
        ]);
        let t = r.totals;
        assert_eq!(
            (
                t.scenarios,
                t.checks,
                t.passed,
                t.failed,
                t.errors,
                t.skipped
            ),
            (2, 5, 2, 1, 1, 1)
        );
    }

    #[test]
    fn finish_is_idempotent() {
        let mut r = report(vec![scenario(
            "a",
            &["ICD 4"],
            vec![check("1", None, Outcome::Pass)],
        )]);
        let first = r.clone();
        r.finish(&|id| (id == "ICD 5.1.9").then(|| "organization header".to_owned()));
        assert_eq!(r, first);
    }

    #[test]
    fn verdict_rules_and_exit_codes() {
        use Outcome::*;
        let v = |outcomes: &[Outcome]| {
            let checks = outcomes
                .iter()
                .enumerate()
                .map(|(i, o)| check(&i.to_string(), None, *o))
                .collect();
            report(vec![scenario("s", &[], checks)]).verdict()
        };
        assert_eq!(v(&[Pass, Pass]), Verdict::Passed);
        assert_eq!(v(&[Pass, Skipped]), Verdict::Passed);
        assert_eq!(v(&[Pass, Fail, Skipped]), Verdict::Failed);
        assert_eq!(v(&[Fail, Error]), Verdict::Error);
        assert_eq!(v(&[Pass, Error]), Verdict::Error);
        assert_eq!(v(&[]), Verdict::Error, "zero checks proved nothing");
        assert_eq!(v(&[Skipped]), Verdict::Error, "all skipped proved nothing");
        assert_eq!(
            report(vec![]).verdict(),
            Verdict::Error,
            "zero scenarios proved nothing"
        );
        let one_empty = report(vec![
            scenario("ok", &[], vec![check("a", None, Pass)]),
            scenario("empty", &[], vec![]),
        ]);
        assert_eq!(
            one_empty.verdict(),
            Verdict::Error,
            "a scenario that judged nothing proved nothing"
        );
        assert_eq!(Verdict::Passed.exit_code(), 0);
        assert_eq!(Verdict::Failed.exit_code(), 1);
        assert_eq!(Verdict::Error.exit_code(), 3);
    }

    #[test]
    fn verdict_does_not_need_finish() {
        let r = RunReport {
            scenarios: vec![scenario("s", &[], vec![check("a", None, Outcome::Fail)])],
            ..Default::default()
        };
        assert_eq!(r.verdict(), Verdict::Failed);
    }
}
