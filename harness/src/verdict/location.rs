//! Where the call goes: `location.routing` (ICD 5.2: the gateway routed the call by its
//! location table to the PSAP of the caller's registered address, or to the fallback centre)
//! `location.by-value` (RFC 6442: the location the trunk conveyed by value reached the gateway
//! usable: `Geolocation` pointing at a body part of a `multipart/mixed` body) and
//! `location.pidf-lo` (RFC 4119: that part is a PIDF-LO carrying the civic address sent).

use reports::{CheckResult, Outcome};
use scenarios::Scenario;

use super::{CallEvidence, NO_GATEWAYS, outcome, req, result, skipped};

/// The location checks of one call.
pub fn judge(scenario: &Scenario, c: &CallEvidence<'_>) -> Vec<CheckResult> {
    let mut out = Vec::new();
    if let Some(expected) = &scenario.expect.routing {
        out.push(routing(expected, c));
    }
    if let Some(sent) = &scenario.call.location {
        out.extend(by_value(&mock_gateway::location::civic(sent).one_line(), c));
    }
    out
}

fn routing(expected: &str, c: &CallEvidence<'_>) -> CheckResult {
    if c.observations.is_none() {
        return skipped(
            "location.routing",
            req::NUMBER_PLAN,
            Some(expected.to_owned()),
            NO_GATEWAYS,
        );
    }
    let observed = c.invites().into_iter().find_map(|o| o.routing.clone());
    let pass = observed
        .as_deref()
        .is_some_and(|o| o == expected || (expected == "fallback" && o == "fallback centre"));
    let shown = observed.unwrap_or_else(|| "(not routed)".into());
    result(
        "location.routing",
        req::NUMBER_PLAN,
        pass,
        expected,
        shown.clone(),
        if pass {
            format!("the gateway routed the call to {shown}")
        } else {
            format!("the gateway routed the call to {shown}, expected {expected} (ICD 5.2)")
        },
    )
}

fn by_value(expected: &str, c: &CallEvidence<'_>) -> Vec<CheckResult> {
    let conveyed = "Geolocation <cid:...> pointing at a usable body part (multipart/mixed)";
    if c.observations.is_none() {
        return vec![
            skipped(
                "location.by-value",
                req::BY_VALUE,
                Some(conveyed.into()),
                NO_GATEWAYS,
            ),
            skipped(
                "location.pidf-lo",
                req::PIDF_LO,
                Some(expected.to_owned()),
                NO_GATEWAYS,
            ),
        ];
    }
    let invites = c.invites();
    if invites.is_empty() {
        // Sent and lost on the way is a failure; never sent (the first hop unreachable) left
        // the location unexercised.
        let sent = c.call.tried().any(|a| a.invite_sent());
        return vec![outcome(
            "location.by-value",
            req::BY_VALUE,
            if sent { Outcome::Fail } else { Outcome::Error },
            Some(conveyed.into()),
            Some("(no INVITE observed)".into()),
            format!(
                "no INVITE reached a gateway, so no location did (RFC 6442): {}",
                c.call.path()
            ),
        )];
    }
    // Every INVITE of the call, the retries included: the gateway that handles it needs the
    // location, and a system under test that drops the body on the retry is caught.
    let lost = invites.iter().find(|o| o.location.is_none());
    let unusable = invites.iter().find_map(|o| {
        o.location
            .as_ref()
            .filter(|l| !l.findings.is_empty())
            .map(|l| (o, l))
    });
    let by_value = match (lost, unusable) {
        (Some(o), _) => result(
            "location.by-value",
            req::BY_VALUE,
            false,
            conveyed,
            format!("(no location at {})", o.gateway),
            format!(
                "no Geolocation reached {} with the INVITE{} (RFC 6442)",
                o.gateway,
                retry_note(o, &invites)
            ),
        ),
        (None, Some((o, l))) => result(
            "location.by-value",
            req::BY_VALUE,
            false,
            conveyed,
            l.findings.join("; "),
            format!(
                "location by value is not usable at {}: {}",
                o.gateway,
                l.findings.join("; ")
            ),
        ),
        (None, None) => result(
            "location.by-value",
            req::BY_VALUE,
            true,
            conveyed,
            "usable",
            format!(
                "the location conveyed by value reached {} usable",
                gateways(&invites)
            ),
        ),
    };
    let read: Vec<(&str, String)> = invites
        .iter()
        .filter_map(|o| o.location.as_ref().map(|l| (o.gateway.as_str(), l)))
        .map(|(g, l)| (g, l.civic.clone().unwrap_or_else(|| "(none)".into())))
        .collect();
    let pidf = match read.iter().find(|(_, civic)| civic != expected) {
        _ if read.is_empty() => result(
            "location.pidf-lo",
            req::PIDF_LO,
            false,
            expected,
            "(no location)",
            "no PIDF-LO reached a gateway",
        ),
        None => result(
            "location.pidf-lo",
            req::PIDF_LO,
            true,
            expected,
            expected,
            format!("the gateway read the address sent by value from the PIDF-LO: {expected}"),
        ),
        Some((gateway, civic)) => result(
            "location.pidf-lo",
            req::PIDF_LO,
            false,
            expected,
            civic.clone(),
            format!(
                "{gateway} read the address {civic} from the PIDF-LO, but the trunk sent {expected}"
            ),
        ),
    };
    vec![by_value, pidf]
}

/// The gateways that received the call's INVITEs, in order.
fn gateways(invites: &[&reports::Observation]) -> String {
    invites
        .iter()
        .map(|o| o.gateway.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `" (the retry; the first INVITE at gw1 carried it)"` when `o`, the first INVITE without a
/// location, is not the call's first (which therefore carried one).
fn retry_note(o: &reports::Observation, invites: &[&reports::Observation]) -> String {
    match invites.first() {
        Some(first) if !std::ptr::eq(*first, o) => format!(
            " (the retry; the first INVITE, at {}, carried it)",
            first.gateway
        ),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use reports::observation::LocationObservation;

    use super::*;
    use crate::evidence::Failure;
    use crate::test_support::{answered, check, has, invite_obs, unanswered};
    use crate::verdict::tests::{direct, external, judge_in, sut};

    const ADDRESS: &str = "233 Wacker Dr, Chicago, IL 60606, US";

    fn located() -> scenarios::Scenario {
        let text = "name = \"t\"\ndescription = \"d.\"\nrequirements = [\"RFC 6442\"]\n[call]\ndial = \"911\"\nani = \"+13125550100\"\nlocation = { country = \"US\", a1 = \"IL\", a3 = \"Chicago\", rd = \"Wacker\", sts = \"Dr\", hno = \"233\", pc = \"60606\" }\n[expect]\nstatus = 200\n";
        scenarios::load_str(text, "t.toml").expect("loads")
    }

    fn with_location(
        gateway: &str,
        at: u64,
        civic: &str,
        findings: &[&str],
    ) -> reports::Observation {
        let mut o = invite_obs(gateway, at, 200);
        o.location = Some(LocationObservation {
            civic: Some(civic.into()),
            routing: None,
            findings: findings.iter().map(|f| (*f).to_owned()).collect(),
        });
        o
    }

    #[test]
    fn the_location_sent_by_value_must_reach_every_gateway_usable() {
        let sc = located();
        let sent = mock_gateway::location::civic(sc.call.location.as_ref().unwrap()).one_line();
        assert_eq!(sent, ADDRESS, "the address the test expects");
        let ok = direct(
            &sc,
            &answered(),
            Some(&[with_location("gw1", 1, ADDRESS, &[])]),
        );
        assert_eq!(check(&ok, "location.by-value").outcome, Outcome::Pass);
        assert_eq!(
            check(&ok, "location.by-value").message,
            "the location conveyed by value reached gw1 usable"
        );
        assert_eq!(check(&ok, "location.pidf-lo").outcome, Outcome::Pass);
        // Lost on the only INVITE: no location, no PIDF-LO, and no talk of a retry.
        let mut bare = invite_obs("gw1", 1, 200);
        bare.location = None;
        let c = judge_in(sut(), &sc, &answered(), Some(&[bare]));
        let r = check(&c, "location.by-value");
        assert_eq!(r.outcome, Outcome::Fail);
        assert_eq!(
            r.message,
            "no Geolocation reached gw1 with the INVITE (RFC 6442)"
        );
        let r = check(&c, "location.pidf-lo");
        assert_eq!(r.outcome, Outcome::Fail);
        assert_eq!(r.message, "no PIDF-LO reached a gateway");
        assert_eq!(
            check(&ok, "location.by-value").requirement.as_deref(),
            Some("RFC 6442")
        );
        assert_eq!(
            check(&ok, "location.pidf-lo").requirement.as_deref(),
            Some("RFC 4119")
        );
        // Through an SBC that keeps it on the first INVITE and drops it on the retry.
        let mut retry = invite_obs("gw2", 2, 200);
        retry.location = None;
        let c = judge_in(
            sut(),
            &sc,
            &answered(),
            Some(&[with_location("gw1", 1, ADDRESS, &[]), retry]),
        );
        let r = check(&c, "location.by-value");
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(
            r.message.contains("no Geolocation reached gw2"),
            "{}",
            r.message
        );
        assert!(
            r.message
                .contains("the retry; the first INVITE, at gw1, carried it"),
            "{}",
            r.message
        );
        // Unusable (the body part it points at is missing), or another address.
        let c = judge_in(
            sut(),
            &sc,
            &answered(),
            Some(&[with_location("gw1", 1, ADDRESS, &["cid not found"])]),
        );
        let r = check(&c, "location.by-value");
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(
            r.message.contains("not usable at gw1: cid not found"),
            "{}",
            r.message
        );
        let c = judge_in(
            sut(),
            &sc,
            &answered(),
            Some(&[
                with_location("gw1", 1, ADDRESS, &[]),
                with_location("gw2", 2, "1 Elsewhere St", &[]),
            ]),
        );
        assert_eq!(check(&c, "location.by-value").outcome, Outcome::Pass);
        assert!(
            check(&c, "location.by-value")
                .message
                .ends_with("reached gw1, gw2 usable")
        );
        let r = check(&c, "location.pidf-lo");
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(
            r.message.starts_with("gw2 read the address 1 Elsewhere St"),
            "{}",
            r.message
        );
        // Nothing at any gateway: lost on the way fails, never sent is not exercised.
        let lost = judge_in(sut(), &sc, &answered(), Some(&[]));
        assert_eq!(check(&lost, "location.by-value").outcome, Outcome::Fail);
        let unsent = judge_in(sut(), &sc, &unanswered(Failure::Refused), Some(&[]));
        assert_eq!(check(&unsent, "location.by-value").outcome, Outcome::Error);
        // Without gateways both are skipped; a scenario without a location has neither.
        let c = judge_in(external(), &sc, &answered(), None);
        assert_eq!(check(&c, "location.by-value").outcome, Outcome::Skipped);
        assert_eq!(check(&c, "location.pidf-lo").outcome, Outcome::Skipped);
        let plain = crate::test_support::scenario("status = 200");
        assert!(!has(
            &direct(&plain, &answered(), Some(&[invite_obs("gw1", 1, 200)])),
            "location.by-value"
        ));
    }

    #[test]
    fn routing_is_read_where_the_call_was_routed() {
        let sc = crate::test_support::scenario_with(
            "",
            "dial = \"911\"\nani = \"+13125550100\"",
            "status = 200\nrouting = \"fallback\"",
        );
        let mut o = invite_obs("gw1", 1, 200);
        o.routing = Some("fallback centre".into());
        let c = direct(&sc, &answered(), Some(&[o.clone()]));
        assert_eq!(check(&c, "location.routing").outcome, Outcome::Pass);
        o.routing = Some("psap".into());
        let c = direct(&sc, &answered(), Some(&[o]));
        let r = check(&c, "location.routing");
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(
            r.message
                .contains("routed the call to psap, expected fallback"),
            "{}",
            r.message
        );
        let c = judge_in(external(), &sc, &answered(), None);
        assert_eq!(check(&c, "location.routing").outcome, Outcome::Skipped);
    }
}
