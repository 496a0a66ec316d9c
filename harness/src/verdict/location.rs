//! Where the call goes: `location.routing` (ICD 5.2: the gateway routed the call by its
//! location table to the PSAP of the caller's registered address, or to the fallback centre)
//! `location.by-value` (RFC 6442: the location the trunk conveyed by value reached the gateway
//! usable: `Geolocation` pointing at a body part of a `multipart/mixed` body) and
//! `location.pidf-lo` (RFC 4119: that part is a PIDF-LO carrying the civic address sent).

use reports::CheckResult;
use scenarios::Scenario;

use super::{CallEvidence, NO_GATEWAYS, req, result, skipped};

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
    let Some(l) = c.first_invite().and_then(|o| o.location.clone()) else {
        return vec![result(
            "location.by-value",
            req::BY_VALUE,
            false,
            conveyed,
            "(no location observed)",
            "no Geolocation reached the gateway (RFC 6442)",
        )];
    };
    let civic = l.civic.clone().unwrap_or_else(|| "(none)".into());
    let usable = l.findings.is_empty();
    vec![
        result(
            "location.by-value",
            req::BY_VALUE,
            usable,
            conveyed,
            if usable {
                "usable".to_owned()
            } else {
                l.findings.join("; ")
            },
            if usable {
                "the location conveyed by value reached the gateway usable".to_owned()
            } else {
                format!("location by value is not usable: {}", l.findings.join("; "))
            },
        ),
        result(
            "location.pidf-lo",
            req::PIDF_LO,
            civic == expected,
            expected,
            civic.clone(),
            if civic == expected {
                format!("the gateway read the address sent by value from the PIDF-LO: {expected}")
            } else {
                format!(
                    "the gateway read the address {civic} from the PIDF-LO, but the trunk sent {expected}"
                )
            },
        ),
    ]
}
