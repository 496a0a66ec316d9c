//! Unit tests of the pure decision (no sockets).

use super::*;
use scenarios::{AniHeader, OrgFinding, UnknownOrgPolicy};
use sip::Message;

const ORG: &str = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
const SDP: &str = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
    m=audio 40000 RTP/SAVP 0 8\r\n\
    a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n";

fn ctx() -> Context<'static> {
    Context {
        host: "gw1.anywhere.e911cloud.com",
        local: "127.0.0.1:5061".parse().unwrap(),
        transport: "tls",
        record: true,
        media: None,
    }
}

fn policy() -> Policy {
    Policy {
        orgs: vec![ORG.to_owned()],
        ..Policy::default()
    }
}

fn request(method: &str, uri: &str, extra: &str, ctype: &str, body: &str) -> Request {
    let ct = if body.is_empty() {
        String::new()
    } else {
        format!("Content-Type: {ctype}\r\n")
    };
    let text = format!(
        "{method} {uri} SIP/2.0\r\nVia: SIP/2.0/TLS 10.0.0.1:5061;branch=z9hG4bK-1\r\n\
         From: <sip:+13125550100@trunk>;tag=a1\r\nTo: <{uri}>\r\nCall-ID: call-1\r\n\
         CSeq: 1 {method}\r\nMax-Forwards: 70\r\n{extra}{ct}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    match Message::parse(text.as_bytes()).unwrap() {
        Message::Request(r) => r,
        Message::Response(_) => unreachable!(),
    }
}

fn invite(uri: &str, extra: &str) -> Request {
    request("INVITE", uri, extra, "application/sdp", SDP)
}

fn org_line() -> String {
    format!("E911-Organization-ID: {ORG}\r\n")
}

fn statuses(plan: &Plan) -> Vec<u16> {
    match plan {
        Plan::Respond(rs) => rs.iter().map(|r| r.status).collect(),
        Plan::Ring { now, answer, .. } => now
            .iter()
            .map(|r| r.status)
            .chain([answer.status])
            .collect(),
        Plan::Absorb => Vec::new(),
    }
}

fn final_response(plan: &Plan) -> &Response {
    match plan {
        Plan::Respond(rs) => rs.last().unwrap(),
        Plan::Ring { answer, .. } => answer,
        Plan::Absorb => panic!("no response"),
    }
}

#[test]
fn a_good_911_call_rings_then_answers_with_sdp() {
    let d = decide(&invite("sip:911@gw1", &org_line()), &policy(), &ctx());
    assert_eq!(statuses(&d.plan), vec![100, 180, 200]);
    let Plan::Ring { now, answer, after } = &d.plan else {
        panic!()
    };
    assert_eq!(*after, Duration::ZERO);
    let tag180 = now[1].header_to().unwrap().tag().unwrap().to_owned();
    assert_eq!(answer.header_to().unwrap().tag(), Some(tag180.as_str()));
    assert!(
        now[0].header_to().unwrap().tag().is_none(),
        "100 Trying carries no To tag"
    );
    assert_eq!(answer.content_type(), Some("application/sdp"));
    let sdp = std::str::from_utf8(&answer.body).unwrap();
    assert!(sdp.contains(" RTP/SAVP 0\r\n") && sdp.contains("a=crypto:1 "));
    assert!(
        answer
            .headers
            .get(&HeaderName::Contact)
            .unwrap()
            .contains("transport=tls")
    );
    let o = &d.observation;
    assert_eq!(o.method, "INVITE");
    assert_eq!(o.dialed.as_deref(), Some("911"));
    assert_eq!(o.org.as_ref().unwrap().finding, OrgFinding::Ok);
    assert_eq!(o.ani.as_ref().unwrap().number, "+13125550100");
    assert_eq!(o.ani.as_ref().unwrap().source, "From");
    assert_eq!(o.response, Some(200));
    assert_eq!(o.routing.as_deref(), Some("psap"));
    assert_eq!(o.readback, None);
    assert!(o.media.as_ref().unwrap().srtp);
}

#[test]
fn urn_service_sos_counts_as_911() {
    let d = decide(&invite("urn:service:sos", &org_line()), &policy(), &ctx());
    assert_eq!(d.observation.dialed.as_deref(), Some("911"));
    assert_eq!(final_response(&d.plan).status, 200);
}

#[test]
fn other_numbers_get_404_with_a_warning() {
    let d = decide(
        &invite("sip:4155550100@gw1", &org_line()),
        &policy(),
        &ctx(),
    );
    assert_eq!(statuses(&d.plan), vec![100, 404]);
    let w = final_response(&d.plan)
        .headers
        .get(&HeaderName::Warning)
        .unwrap()
        .to_owned();
    assert!(
        w.starts_with("399 gw1.anywhere.e911cloud.com \"dialled number 4155550100"),
        "{w}"
    );
    assert_eq!(d.observation.warning.as_deref(), Some(w.as_str()));
    assert_eq!(d.observation.routing, None);
}

#[test]
fn missing_org_gets_403_naming_it() {
    let d = decide(&invite("sip:911@gw1", ""), &policy(), &ctx());
    assert_eq!(statuses(&d.plan), vec![100, 403]);
    let w = final_response(&d.plan)
        .headers
        .get(&HeaderName::Warning)
        .unwrap();
    assert!(
        w.starts_with("399 gw1.anywhere.e911cloud.com \"E911-Organization-ID missing"),
        "{w}"
    );
    assert_eq!(
        d.observation.org.as_ref().unwrap().finding,
        OrgFinding::Missing
    );
    assert_eq!(d.observation.response, Some(403));
}

#[test]
fn lowercase_header_name_and_duplicates() {
    let lower = format!("e911-organization-id: {ORG}\r\n");
    let d = decide(&invite("sip:911@gw1", &lower), &policy(), &ctx());
    assert_eq!(d.observation.org.as_ref().unwrap().finding, OrgFinding::Ok);
    let twice = format!("{}E911-ORGANIZATION-ID: {ORG}\r\n", org_line());
    let d = decide(&invite("sip:911@gw1", &twice), &policy(), &ctx());
    assert_eq!(statuses(&d.plan), vec![100, 403]);
    let w = d.observation.warning.unwrap();
    assert!(w.contains("E911-Organization-ID duplicated"), "{w}");
}

#[test]
fn unknown_org_rejected_or_routed_to_fallback() {
    let other = "E911-Organization-ID: 00000000-0000-4000-8000-000000000001\r\n";
    let d = decide(&invite("sip:911@gw1", other), &policy(), &ctx());
    assert_eq!(final_response(&d.plan).status, 403);
    assert!(
        d.observation
            .warning
            .unwrap()
            .contains("E911-Organization-ID unknown")
    );
    let accept = Policy {
        unknown_org: UnknownOrgPolicy::Accept,
        ..policy()
    };
    let d = decide(&invite("sip:911@gw1", other), &accept, &ctx());
    assert_eq!(final_response(&d.plan).status, 200);
    assert_eq!(d.observation.routing.as_deref(), Some("fallback centre"));
    assert_eq!(d.observation.org.unwrap().finding, OrgFinding::Unknown);
}

#[test]
fn readback_on_933_uses_the_configured_ani_header() {
    let extra = format!(
        "{}P-Asserted-Identity: <tel:+1-312-555-0177>\r\n",
        org_line()
    );
    let d = decide(&invite("sip:933@gw1", &extra), &policy(), &ctx());
    let ok = final_response(&d.plan);
    assert_eq!(ok.status, 200);
    assert_eq!(
        ok.headers.get_str("e911-readback"),
        Some("number=+13125550177")
    );
    let rb = d.observation.readback.unwrap();
    assert_eq!((rb.number.as_str(), rb.address), ("+13125550177", None));
    let from_only = Policy {
        ani_headers: vec![AniHeader::From],
        ..policy()
    };
    let d = decide(&invite("sip:933@gw1", &extra), &from_only, &ctx());
    assert_eq!(d.observation.readback.unwrap().number, "+13125550100");
}

#[test]
fn unanswerable_or_absent_offers_get_488() {
    let plain = SDP.replace("m=audio 40000 RTP/SAVP 0 8", "m=audio 40000 RTP/SAVP 18");
    let r = request(
        "INVITE",
        "sip:911@gw1",
        &org_line(),
        "application/sdp",
        &plain,
    );
    let d = decide(&r, &policy(), &ctx());
    assert_eq!(final_response(&d.plan).status, 488);
    assert!(d.observation.warning.unwrap().starts_with("305 "));
    assert!(d.observation.media.unwrap().refused.is_some());
    let r = request("INVITE", "sip:911@gw1", &org_line(), "", "");
    assert_eq!(
        final_response(&decide(&r, &policy(), &ctx()).plan).status,
        488
    );
}

#[test]
fn sdp_is_found_inside_a_multipart_body_with_pidf_lo() {
    let body = format!(
        "--b1\r\nContent-Type: application/sdp\r\n\r\n{SDP}\r\n--b1\r\n\
         Content-Type: application/pidf+xml\r\nContent-ID: <loc@trunk>\r\n\r\n<presence/>\r\n--b1--\r\n"
    );
    let extra = format!("{}Geolocation: <cid:loc@trunk>\r\n", org_line());
    let r = request(
        "INVITE",
        "sip:911@gw1",
        &extra,
        "multipart/mixed;boundary=b1",
        &body,
    );
    assert_eq!(sdp_offer(&r).unwrap(), SDP);
    assert_eq!(
        final_response(&decide(&r, &policy(), &ctx()).plan).status,
        200
    );
}

#[test]
fn options_lists_allow_accept_supported() {
    let r = request("OPTIONS", "sip:gw1.anywhere.e911cloud.com", "", "", "");
    let d = decide(&r, &policy(), &ctx());
    let ok = final_response(&d.plan);
    assert_eq!(statuses(&d.plan), vec![200]);
    assert_eq!(ok.headers.get(&HeaderName::Allow), Some(ALLOW));
    assert_eq!(ok.headers.get(&HeaderName::Accept), Some(ACCEPT));
    assert_eq!(ok.headers.get(&HeaderName::Supported), Some(SUPPORTED));
    assert_eq!(d.observation.org, None, "org is checked on INVITE only");
}

#[test]
fn bye_ack_stray_cancel_and_unknown_methods() {
    let bye = request("BYE", "sip:911@gw1", "", "", "");
    assert_eq!(statuses(&decide(&bye, &policy(), &ctx()).plan), vec![200]);
    let ack = request("ACK", "sip:911@gw1", "", "", "");
    let d = decide(&ack, &policy(), &ctx());
    assert_eq!(d.plan, Plan::Absorb);
    assert_eq!(d.observation.response, None);
    let cancel = request("CANCEL", "sip:911@gw1", "", "", "");
    assert_eq!(
        statuses(&decide(&cancel, &policy(), &ctx()).plan),
        vec![481]
    );
    let info = request("REGISTER", "sip:gw1", "", "", "");
    let d = decide(&info, &policy(), &ctx());
    assert_eq!(statuses(&d.plan), vec![405]);
    assert_eq!(
        final_response(&d.plan).headers.get(&HeaderName::Allow),
        Some(ALLOW)
    );
}

#[test]
fn rfc3261_prechecks_answer_first_and_still_record_findings() {
    let extra = format!("{}Require: 100rel\r\n", org_line());
    let d = decide(&invite("sip:911@gw1", &extra), &policy(), &ctx());
    let r = final_response(&d.plan);
    assert_eq!(r.status, 420);
    assert_eq!(r.headers.get(&HeaderName::Unsupported), Some("100rel"));
    assert_eq!(d.observation.org.unwrap().finding, OrgFinding::Ok);
}

#[test]
fn session_timer_is_echoed() {
    let extra = format!("{}Session-Expires: 1800\r\n", org_line());
    let d = decide(&invite("sip:911@gw1", &extra), &policy(), &ctx());
    let ok = final_response(&d.plan);
    assert_eq!(
        ok.headers.get(&HeaderName::SessionExpires),
        Some("1800;refresher=uac")
    );
    assert_eq!(ok.headers.get(&HeaderName::Require), Some("timer"));
}

#[test]
fn warning_text_is_escaped() {
    assert_eq!(warning(399, "h", r#"a "b" \c"#), r#"399 h "a \"b\" \\c""#);
}

#[test]
fn without_recording_the_decision_is_the_same_and_no_header_is_copied() {
    let req = invite("sip:911@gw1.anywhere.e911cloud.com", &org_line());
    let full = decide(&req, &policy(), &ctx());
    let light = decide(
        &req,
        &policy(),
        &Context {
            record: false,
            ..ctx()
        },
    );
    assert_eq!(statuses(&full.plan), statuses(&light.plan));
    assert_eq!(full.observation.org, light.observation.org);
    // The same ANI, header and form; the identity facts and findings are only recorded.
    let (full_ani, light_ani) = (
        full.observation.ani.expect("ANI"),
        light.observation.ani.expect("ANI"),
    );
    assert_eq!(
        (&full_ani.number, &full_ani.source, full_ani.form),
        (&light_ani.number, &light_ani.source, light_ani.form)
    );
    assert!(full_ani.from.is_some() && light_ani.from.is_none());
    assert!(!full.observation.headers.is_empty());
    assert!(light.observation.headers.is_empty());
}

fn located() -> Policy {
    Policy {
        location: vec![scenarios::LocationEntry {
            ani: "+13125550177".into(),
            address: scenarios::CallLocation {
                country: "US".into(),
                a1: "IL".into(),
                a3: "Chicago".into(),
                rd: "Wacker".into(),
                sts: "Dr".into(),
                hno: "233".into(),
                flr: "12".into(),
                pc: "60606".into(),
                ..Default::default()
            },
            psap: "chicago-oemc".into(),
        }],
        ..policy()
    }
}

#[test]
fn the_location_table_routes_and_the_933_reads_back_the_address() {
    let extra = format!("{}P-Asserted-Identity: <tel:+13125550177>\r\n", org_line());
    let d = decide(&invite("sip:933@gw1", &extra), &located(), &ctx());
    let ok = final_response(&d.plan);
    assert_eq!(ok.status, 200);
    assert_eq!(
        ok.headers.get_str("e911-readback"),
        Some("number=+13125550177;address=\"233 Wacker Dr, Floor 12, Chicago, IL 60606, US\"")
    );
    assert_eq!(d.observation.routing.as_deref(), Some("chicago-oemc"));
    assert_eq!(
        d.observation.readback.unwrap().address.as_deref(),
        Some("233 Wacker Dr, Floor 12, Chicago, IL 60606, US")
    );
}

#[test]
fn an_unknown_ani_goes_to_the_fallback_centre_or_is_rejected() {
    let extra = format!("{}P-Asserted-Identity: <tel:+13125550178>\r\n", org_line());
    let d = decide(&invite("sip:933@gw1", &extra), &located(), &ctx());
    assert_eq!(final_response(&d.plan).status, 200);
    assert_eq!(d.observation.routing.as_deref(), Some("fallback centre"));
    assert_eq!(d.observation.readback.unwrap().address, None);
    let strict = Policy {
        unknown_ani: scenarios::UnknownAniPolicy::Reject(404),
        ..located()
    };
    let d = decide(&invite("sip:911@gw1", &extra), &strict, &ctx());
    let r = final_response(&d.plan);
    assert_eq!(r.status, 404);
    assert!(
        r.headers
            .get_str("warning")
            .unwrap_or("")
            .contains("no registered location"),
        "{r:?}"
    );
}

#[test]
fn location_by_value_is_checked_and_recorded() {
    let civic = sip::location::Civic {
        country: "US".into(),
        a1: "IL".into(),
        a3: "Chicago".into(),
        rd: "Wacker".into(),
        sts: "Dr".into(),
        hno: "233".into(),
        ..Default::default()
    };
    let pidf = sip::location::pidf_lo("pres:+13125550100@trunk", &civic);
    let body = sip::multipart::build(
        "b2",
        &[
            (&[("Content-Type", "application/sdp")], SDP.as_bytes()),
            (
                &[
                    ("Content-Type", "application/pidf+xml"),
                    ("Content-ID", "<loc1@trunk>"),
                ],
                pidf.as_bytes(),
            ),
        ],
    );
    let body = String::from_utf8(body).expect("utf-8");
    let extra = format!(
        "{}Geolocation: <cid:loc1@trunk>\r\nGeolocation-Routing: yes\r\n",
        org_line()
    );
    let r = request(
        "INVITE",
        "sip:911@gw1",
        &extra,
        "multipart/mixed;boundary=b2",
        &body,
    );
    assert_eq!(sdp_offer(&r).unwrap(), SDP);
    let d = decide(&r, &policy(), &ctx());
    assert_eq!(final_response(&d.plan).status, 200);
    let loc = d.observation.location.expect("location observed");
    assert!(loc.findings.is_empty(), "{loc:?}");
    assert_eq!(loc.civic.as_deref(), Some("233 Wacker Dr, Chicago, IL, US"));
    assert_eq!(loc.routing.as_deref(), Some("yes"));

    // A Geolocation pointing at a part that is not there is a finding, not a crash.
    let wrong = extra.replace("cid:loc1@trunk", "cid:other@trunk");
    let r = request(
        "INVITE",
        "sip:911@gw1",
        &wrong,
        "multipart/mixed;boundary=b2",
        &body,
    );
    let loc = decide(&r, &policy(), &ctx())
        .observation
        .location
        .expect("observed");
    assert!(!loc.findings.is_empty(), "{loc:?}");
    // A call refused for its org header still shows what location it carried.
    let no_org = extra.replace(&org_line(), "");
    let r = request(
        "INVITE",
        "sip:911@gw1",
        &no_org,
        "multipart/mixed;boundary=b2",
        &body,
    );
    let d = decide(&r, &policy(), &ctx());
    assert_eq!(final_response(&d.plan).status, 403);
    let loc = d
        .observation
        .location
        .expect("observed on a refused call too");
    assert_eq!(loc.civic.as_deref(), Some("233 Wacker Dr, Chicago, IL, US"));
    // No Geolocation header: nothing recorded.
    assert_eq!(
        decide(&invite("sip:911@gw1", &org_line()), &policy(), &ctx())
            .observation
            .location,
        None
    );
}
