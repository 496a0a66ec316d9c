//! A real originator's OPTIONS probing of the gateways, as the gateways received it (ICD 5.1.3:
//! the trunk is in service; ICD 5.3: "trunks may be probed with SIP OPTIONS").
//!
//! | check | passes when |
//! |---|---|
//! | `health.probing` (per gateway) | the gateway received OPTIONS from the originator, with a median interval within the plan's `interval_max` when it sets one |
//! | `health.recovery` (per outage) | after a gateway's outage ended, the originator probed it again within the bound, so it can put it back in service |
//!
//! A plan that does not require probing gets `health.probing` skipped, with the reason, for a
//! gateway no OPTIONS reached; nothing passes for probing that did not happen.

use std::time::Duration;

use reports::{CheckResult, Observation};
use scenarios::plan::ProbingSpec;

use super::route::ms;
use super::{req, result, skipped};

/// A gateway kept down during a step, on the run's clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outage {
    /// The gateway.
    pub gateway: String,
    /// The step it was down for.
    pub step: String,
    /// When the outage began, µs since the run's epoch.
    pub from_us: u64,
    /// When it ended (the gateway listened again), µs since the run's epoch.
    pub until_us: u64,
}

/// What the probing verdict looks at.
#[derive(Debug, Clone, Copy)]
pub struct ProbeEvidence<'a> {
    /// Every OPTIONS the gateways received during the run.
    pub options: &'a [Observation],
    /// Every new INVITE the gateways received during the run (where calls went after an
    /// outage).
    pub invites: &'a [Observation],
    /// The gateways the originator routes to.
    pub gateways: &'a [String],
    /// The outages of the run's steps.
    pub outages: &'a [Outage],
    /// When the run ended, µs since the epoch.
    pub ended_us: u64,
}

/// Bound on a re-probe when neither the plan nor the probes themselves give one.
const DEFAULT_REPROBE: Duration = Duration::from_secs(60);

/// The probe times at `gateway`, in order.
fn probes(ev: &ProbeEvidence<'_>, gateway: &str) -> Vec<u64> {
    let mut at: Vec<u64> = ev
        .options
        .iter()
        .filter(|o| o.gateway == gateway && o.method == "OPTIONS")
        .map(|o| o.at_us)
        .collect();
    at.sort_unstable();
    at
}

/// The median gap between consecutive probes, µs (`None` with fewer than two).
fn median_interval(at: &[u64]) -> Option<u64> {
    let mut gaps: Vec<u64> = at.windows(2).map(|w| w[1] - w[0]).collect();
    gaps.sort_unstable();
    gaps.get(gaps.len() / 2).copied()
}

fn us(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// The probing checks of a run.
pub fn judge(spec: &ProbingSpec, ev: &ProbeEvidence<'_>) -> Vec<CheckResult> {
    let mut out: Vec<CheckResult> = ev.gateways.iter().map(|g| probing(spec, ev, g)).collect();
    out.extend(ev.outages.iter().map(|o| recovery(spec, ev, o)));
    out
}

fn probing(spec: &ProbingSpec, ev: &ProbeEvidence<'_>, gateway: &str) -> CheckResult {
    let at = probes(ev, gateway);
    let expected = match spec.interval_max {
        Some(d) => format!(
            "{gateway} probed with OPTIONS at least every {}",
            humantime::format_duration(d)
        ),
        None => format!("{gateway} probed with OPTIONS"),
    };
    let Some(&first) = at.first() else {
        if spec.required {
            return result(
                "health.probing",
                req::IN_SERVICE,
                false,
                expected,
                "no OPTIONS",
                format!(
                    "{gateway} received no OPTIONS from the originator during the run: the plan requires it to probe every gateway, or it cannot take one that is down out of service (ICD 5.1.3)"
                ),
            );
        }
        return skipped(
            "health.probing",
            req::IN_SERVICE,
            Some(expected),
            &format!(
                "the originator sent no OPTIONS to {gateway}: probing is optional in this plan (ICD 5.3: trunks may be probed), so it was not exercised"
            ),
        );
    };
    let Some(median) = median_interval(&at) else {
        return match spec.interval_max {
            Some(max) if ev.ended_us.saturating_sub(first) > us(max) => result(
                "health.probing",
                req::IN_SERVICE,
                false,
                expected,
                "1 OPTIONS",
                format!(
                    "{gateway} received a single OPTIONS, and none in the {} after it (at most {} apart, ICD 5.1.3)",
                    ms(ev.ended_us.saturating_sub(first)),
                    humantime::format_duration(max)
                ),
            ),
            Some(_) => skipped(
                "health.probing",
                req::IN_SERVICE,
                Some(expected),
                &format!(
                    "{gateway} received a single OPTIONS: the run was too short after it to measure the probing interval"
                ),
            ),
            None => result(
                "health.probing",
                req::IN_SERVICE,
                true,
                expected,
                "1 OPTIONS",
                format!("the originator probed {gateway} with OPTIONS (once in this run)"),
            ),
        };
    };
    let longest = at.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    let observed = format!(
        "{} OPTIONS, median interval {}, longest {}",
        at.len(),
        ms(median),
        ms(longest)
    );
    let pass = spec.interval_max.is_none_or(|max| median <= us(max));
    result(
        "health.probing",
        req::IN_SERVICE,
        pass,
        expected,
        observed.clone(),
        if pass {
            format!("the originator probed {gateway}: {observed}")
        } else {
            format!(
                "the originator probes {gateway} too seldom: {observed} (ICD 5.1.3: a gateway that goes down is noticed only at the next probe)"
            )
        },
    )
}

fn recovery(spec: &ProbingSpec, ev: &ProbeEvidence<'_>, o: &Outage) -> CheckResult {
    let g = o.gateway.as_str();
    let expected = format!("{g} probed again after its outage (step {})", o.step);
    let at = probes(ev, g);
    if at.is_empty() {
        return skipped(
            "health.recovery",
            req::IN_SERVICE,
            Some(expected),
            &format!(
                "the originator does not probe {g}, so how it finds {g} back in service is not observable here (the next step's route.gateway-order shows where its calls went)"
            ),
        );
    }
    let bound = spec
        .interval_max
        .map(us)
        .or_else(|| median_interval(&at).map(|m| m.saturating_mul(3)))
        .unwrap_or(us(DEFAULT_REPROBE));
    let back = at.iter().copied().find(|t| *t >= o.until_us);
    let next_call = ev
        .invites
        .iter()
        .filter(|i| i.gateway == g && i.is_new_invite() && i.at_us >= o.until_us)
        .map(|i| i.at_us)
        .min()
        .map(|t| {
            format!(
                "; the next call reached {g} {} after it came back",
                ms(t - o.until_us)
            )
        })
        .unwrap_or_default();
    match back {
        Some(t) if t - o.until_us <= bound => result(
            "health.recovery",
            req::IN_SERVICE,
            true,
            expected,
            format!("re-probed after {}", ms(t - o.until_us)),
            format!(
                "the originator probed {g} again {} after its outage ended, so it can put it back in service{next_call}",
                ms(t - o.until_us)
            ),
        ),
        _ if ev.ended_us.saturating_sub(o.until_us) < bound && back.is_none() => skipped(
            "health.recovery",
            req::IN_SERVICE,
            Some(expected),
            &format!(
                "the run ended {} after {g} came back, before its next probe was due (within {})",
                ms(ev.ended_us.saturating_sub(o.until_us)),
                ms(bound)
            ),
        ),
        other => result(
            "health.recovery",
            req::IN_SERVICE,
            false,
            expected,
            other.map_or_else(
                || "not probed again".to_owned(),
                |t| format!("re-probed after {}", ms(t - o.until_us)),
            ),
            format!(
                "{g} came back after step {}, but the originator did not probe it again within {}: a gateway it stops probing is never put back in service (ICD 5.1.3){next_call}",
                o.step,
                ms(bound)
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{check, invite_obs};
    use reports::Outcome;

    fn options(gateway: &str, at_us: u64) -> Observation {
        let mut o = invite_obs(gateway, at_us, 200);
        o.method = "OPTIONS".into();
        o
    }

    fn gws() -> Vec<String> {
        vec!["gw1".into(), "gw2".into()]
    }

    fn ev<'a>(
        options: &'a [Observation],
        gateways: &'a [String],
        outages: &'a [Outage],
        ended_us: u64,
    ) -> ProbeEvidence<'a> {
        ProbeEvidence {
            options,
            invites: &[],
            gateways,
            outages,
            ended_us,
        }
    }

    /// gw1 down from 1 s to 2 s (a plan step's outage).
    fn gw1_down_1s_to_2s() -> [Outage; 1] {
        [Outage {
            gateway: "gw1".into(),
            step: "failover-gw1-down".into(),
            from_us: 1_000_000,
            until_us: 2_000_000,
        }]
    }

    const SPEC: ProbingSpec = ProbingSpec {
        required: true,
        interval_max: Some(Duration::from_secs(1)),
    };

    #[test]
    fn probing_passes_within_the_interval_and_fails_beyond_it() {
        let g = gws();
        let opts: Vec<Observation> = (0..5)
            .flat_map(|i| {
                [
                    options("gw1", i * 500_000),
                    options("gw2", i * 500_000 + 10),
                ]
            })
            .collect();
        let c = judge(&SPEC, &ev(&opts, &g, &[], 3_000_000));
        assert_eq!(c.len(), 2);
        assert!(c.iter().all(|c| c.outcome == Outcome::Pass), "{c:#?}");
        assert!(c[0].message.contains("5 OPTIONS, median interval 500.0 ms"));
        assert_eq!(c[0].requirement.as_deref(), Some("ICD 5.1.3"));
        let slow: Vec<Observation> = (0..3).map(|i| options("gw1", i * 2_000_000)).collect();
        let c = judge(&SPEC, &ev(&slow, &g, &[], 5_000_000));
        assert_eq!(c[0].outcome, Outcome::Fail, "{c:#?}");
        assert!(c[0].message.contains("too seldom"));
    }

    #[test]
    fn no_probes_fail_when_required_and_are_skipped_when_optional() {
        let g = gws();
        let c = judge(&SPEC, &ev(&[], &g, &[], 5_000_000));
        assert!(c.iter().all(|c| c.outcome == Outcome::Fail), "{c:#?}");
        let optional = ProbingSpec {
            required: false,
            interval_max: None,
        };
        let c = judge(&optional, &ev(&[], &g, &[], 5_000_000));
        assert!(c.iter().all(|c| c.outcome == Outcome::Skipped), "{c:#?}");
        assert!(c[0].message.contains("optional"));
    }

    #[test]
    fn a_single_probe_is_measured_only_when_the_run_is_long_enough() {
        let g = vec!["gw1".to_owned()];
        let one = [options("gw1", 0)];
        assert_eq!(
            judge(&SPEC, &ev(&one, &g, &[], 3_000_000))[0].outcome,
            Outcome::Fail
        );
        assert_eq!(
            judge(&SPEC, &ev(&one, &g, &[], 500_000))[0].outcome,
            Outcome::Skipped
        );
    }

    #[test]
    fn recovery_needs_a_probe_after_the_outage() {
        let g = vec!["gw1".to_owned()];
        let outage = gw1_down_1s_to_2s();
        let probed = [
            options("gw1", 0),
            options("gw1", 500_000),
            options("gw1", 2_400_000),
        ];
        let c = judge(&SPEC, &ev(&probed, &g, &outage, 5_000_000));
        let r = check(&c, "health.recovery");
        assert_eq!(r.outcome, Outcome::Pass, "{r:#?}");
        assert!(r.message.contains("400.0 ms after"), "{}", r.message);
        let stopped = [options("gw1", 0), options("gw1", 500_000)];
        let c = judge(&SPEC, &ev(&stopped, &g, &outage, 5_000_000));
        assert_eq!(check(&c, "health.recovery").outcome, Outcome::Fail);
        // The run ended before the next probe was due: not exercised.
        let c = judge(&SPEC, &ev(&stopped, &g, &outage, 2_300_000));
        assert_eq!(check(&c, "health.recovery").outcome, Outcome::Skipped);
        // An originator that never probes: not observable.
        let c = judge(&SPEC, &ev(&[], &g, &outage, 9_000_000));
        assert_eq!(check(&c, "health.recovery").outcome, Outcome::Skipped);
        // The run lasted exactly the bound after the outage: the probe was due, and missing.
        let c = judge(&SPEC, &ev(&stopped, &g, &outage, 3_000_000));
        assert_eq!(check(&c, "health.recovery").outcome, Outcome::Fail);
        // Probed again, but later than the bound allows.
        let late = [
            options("gw1", 0),
            options("gw1", 500_000),
            options("gw1", 3_500_000),
        ];
        let c = judge(&SPEC, &ev(&late, &g, &outage, 5_000_000));
        let r = check(&c, "health.recovery");
        assert_eq!(r.outcome, Outcome::Fail, "{r:#?}");
        assert_eq!(r.observed.as_deref(), Some("re-probed after 1500.0 ms"));
    }

    #[test]
    fn recovery_names_the_next_call_the_gateway_received_after_it_came_back() {
        let g = vec!["gw1".to_owned()];
        let outage = gw1_down_1s_to_2s();
        let probed = [
            options("gw1", 0),
            options("gw1", 500_000),
            options("gw1", 2_400_000),
        ];
        let mut resent = invite_obs("gw1", 2_200_000, 200);
        resent.retransmission = true;
        let invites = [
            invite_obs("gw1", 1_500_000, 200),
            invite_obs("gw2", 2_100_000, 200),
            resent,
            invite_obs("gw1", 2_600_000, 200),
        ];
        let evidence = ProbeEvidence {
            invites: &invites,
            ..ev(&probed, &g, &outage, 5_000_000)
        };
        let r = check(&judge(&SPEC, &evidence), "health.recovery").clone();
        assert!(
            r.message
                .ends_with("; the next call reached gw1 600.0 ms after it came back"),
            "{}",
            r.message
        );
    }

    #[test]
    fn the_interval_is_the_median_gap_and_the_longest_is_named() {
        let g = vec!["gw1".to_owned()];
        let at = [0, 100_000, 300_000, 600_000, 2_600_000];
        let opts: Vec<Observation> = at.iter().map(|t| options("gw1", *t)).collect();
        let c = judge(&SPEC, &ev(&opts, &g, &[], 3_000_000));
        assert_eq!(
            c[0].observed.as_deref(),
            Some("5 OPTIONS, median interval 300.0 ms, longest 2000.0 ms")
        );
        // A single probe exactly one interval before the end: not yet due.
        let one = [options("gw1", 0)];
        let c = judge(&SPEC, &ev(&one, &g, &[], 1_000_000));
        assert_eq!(c[0].outcome, Outcome::Skipped);
    }
}
