//! E911 conformance in depth (issue 3): how a scenario's `[caller]` becomes the ANI the trunk
//! sends (ICD 5.1.7), using the caller-selection rules of [`crate::originate::caller`]; how the trunk
//! conveys location by value (RFC 6442).

use scenarios::{CallLocation, CallerSpec, Scenario};
use sip::location::pidf_lo;
use sip::{HeaderName, Request, multipart};

use crate::originate::caller::{Caller, Selection, Source, select};

/// The [`Caller`] and source order a scenario's `[caller]` describes.
pub fn caller_of(spec: &CallerSpec) -> (Caller, Vec<Source>) {
    let caller = Caller {
        call_source_did: spec.call_source_did.clone(),
        user_did: spec.user_did.clone(),
        user_extension: spec.user_extension.clone(),
        phone_tied_to_user: spec.phone_tied_to_user,
        site_ani: spec.site_ani.clone(),
        trunk_ani: spec.trunk_ani.clone(),
    };
    // The scenarios crate only accepts the names `Source` parses.
    let order = spec
        .order
        .sources()
        .into_iter()
        .filter_map(|s| s.parse().ok())
        .collect();
    (caller, order)
}

/// The caller selection of `sc`, when it has a `[caller]`.
pub fn selection(sc: &Scenario) -> Option<Selection> {
    sc.caller.as_ref().map(|spec| {
        let (caller, order) = caller_of(spec);
        select(&caller, &order)
    })
}

/// Why a scenario's `[caller]` cannot give the call its ANI.
pub fn caller_problem(sc: &Scenario) -> Option<String> {
    let sel = selection(sc)?;
    match &sel.ani {
        None => Some(format!(
            "caller: no source has a number ({}), so the trunk has no ANI to send",
            sel.explain()
        )),
        Some(ani) if !sc.call.ani.is_empty() && sc.call.ani != *ani => Some(format!(
            "call.ani: {:?} disagrees with the caller selection (ICD 5.1.7), which sends {}; leave call.ani out or make them agree",
            sc.call.ani,
            sel.explain()
        )),
        Some(_) => None,
    }
}

/// `sc` with its ANI chosen by its `[caller]`; `None` when it has no `[caller]` or the ANI is
/// already the selected one. A selection without a number leaves the ANI as it is.
pub fn with_selected_ani(sc: &Scenario) -> Option<Scenario> {
    let ani = selection(sc)?.ani?;
    if sc.call.ani == ani {
        return None;
    }
    let mut out = sc.clone();
    if out.call.ani.is_empty() {
        out.call.ani = ani;
    }
    Some(out)
}

/// Every `[caller]` problem of `scenarios`, one line each, prefixed with the scenario's file.
pub fn caller_problems(scenarios: &[Scenario]) -> Vec<String> {
    scenarios
        .iter()
        .filter_map(|sc| {
            let p = caller_problem(sc)?;
            let file = sc
                .source
                .as_ref()
                .map_or_else(|| sc.name.clone(), |s| s.display().to_string());
            Some(format!("{file}: {p}"))
        })
        .collect()
}

/// The civic address of `call.location` (the gateway's own mapping, so both sides agree).
pub use mock_gateway::location::civic as civic_of;

/// The multipart boundary of an INVITE that conveys location by value.
pub const LOCATION_BOUNDARY: &str = "e911-harness-location";

/// Turns `req` (whose body is the SDP offer) into location by value (RFC 6442): a
/// `multipart/mixed` body with the SDP and a PIDF-LO of `location`, `Geolocation: <cid:...>`
/// pointing at it, and `Geolocation-Routing: yes`.
pub fn convey_location(req: &mut Request, location: &CallLocation, ani: &str, host: &str) {
    let cid = format!("location@{host}");
    let pidf = pidf_lo(&format!("pres:{ani}@{host}"), &civic_of(location));
    let content_id = format!("<{cid}>");
    let sdp = req.body.clone();
    let body = multipart::build(
        LOCATION_BOUNDARY,
        &[
            (&[("Content-Type", "application/sdp")], &sdp),
            (
                &[
                    ("Content-Type", "application/pidf+xml"),
                    ("Content-ID", content_id.as_str()),
                ],
                pidf.as_bytes(),
            ),
        ],
    );
    req.headers.set("Geolocation", format!("<cid:{cid}>"));
    req.headers.set("Geolocation-Routing", "yes");
    req.headers.set(
        HeaderName::ContentType,
        format!("multipart/mixed;boundary={LOCATION_BOUNDARY}"),
    );
    req.body = body.into();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(caller: &str, ani: &str) -> Scenario {
        let text = format!(
            "name = \"t\"\ndescription = \"d.\"\nrequirements = [\"ICD 5.1.7\"]\n\
             [call]\ndial = \"911\"\n{ani}\n[caller]\n{caller}\n[expect]\nstatus = 200\n"
        );
        scenarios::load_str(&text, "t.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    #[test]
    fn the_selected_ani_is_filled_in() {
        let sc = load(
            "user_did = \"+13125550101\"\nsite_ani = \"+13125550199\"",
            "",
        );
        assert_eq!(sc.call.ani, "");
        let resolved = with_selected_ani(&sc).expect("resolved");
        assert_eq!(resolved.call.ani, "+13125550101");
        assert_eq!(caller_problem(&resolved), None);
        assert_eq!(with_selected_ani(&resolved), None);
    }

    #[test]
    fn a_disagreeing_call_ani_is_a_problem_and_is_kept() {
        let sc = load("site_ani = \"+13125550199\"", "ani = \"+13125550100\"");
        let p = caller_problem(&sc).expect("problem");
        assert!(p.starts_with("call.ani: \"+13125550100\" disagrees"), "{p}");
        assert!(p.contains("site-ani (+13125550199)"), "{p}");
        assert_eq!(
            with_selected_ani(&sc).map(|s| s.call.ani),
            Some("+13125550100".into())
        );
        let agree = load("site_ani = \"+13125550199\"", "ani = \"+13125550199\"");
        assert_eq!(caller_problem(&agree), None);
    }

    #[test]
    fn the_named_orders_map_to_the_interface_orders() {
        let sc = load(
            "user_extension = \"4102\"\ncall_source_did = \"+13125550100\"\norder = \"without-dids\"",
            "",
        );
        let (_, order) = caller_of(sc.caller.as_ref().expect("caller"));
        assert_eq!(order, crate::originate::caller::ORDER_WITHOUT_DIDS.to_vec());
        assert_eq!(selection(&sc).and_then(|s| s.ani).as_deref(), Some("4102"));
    }

    #[test]
    fn location_by_value_is_a_multipart_the_gateway_check_accepts() {
        let loc = CallLocation {
            country: "US".into(),
            a1: "IL".into(),
            a3: "Chicago".into(),
            rd: "Wacker".into(),
            hno: "233".into(),
            ..CallLocation::default()
        };
        let mut req = Request::new(
            sip::Method::Invite,
            sip::uri::Uri::parse("sip:911@gw1.anywhere.e911cloud.com").expect("uri"),
        );
        req.headers.set(HeaderName::ContentType, "application/sdp");
        req.body = b"v=0\r\n".to_vec().into();
        convey_location(&mut req, &loc, "+13125550143", "trunk.example");
        assert_eq!(
            req.headers.get_str("Geolocation"),
            Some("<cid:location@trunk.example>")
        );
        assert_eq!(req.headers.count(&HeaderName::ContentType), 1);
        let c = sip::location::check(
            req.headers.get_str("Geolocation"),
            req.headers.get_str("Geolocation-Routing"),
            req.headers.get_str("Content-Type"),
            &req.body,
        );
        assert!(c.findings.is_empty(), "{:?}", c.findings);
        assert_eq!(c.civic, Some(civic_of(&loc)));
        let parts = multipart::parse(&req.body, LOCATION_BOUNDARY).expect("multipart");
        assert_eq!(parts[0].body, b"v=0\r\n");
    }
}
