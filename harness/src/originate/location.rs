//! How a scenario's `[caller]` becomes the ANI the trunk sends (ICD 5.1.7), using the
//! caller-selection rules of [`scenarios::caller`]; how the trunk
//! conveys location by value (RFC 6442).

use scenarios::CallLocation;
use sip::location::pidf_lo;
use sip::{HeaderName, Request, multipart};

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
