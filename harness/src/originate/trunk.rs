//! The INVITE exactly as the contact-center trunk (Genesys Cloud BYOC, "Generic BYOC Carrier",
//! protocol TLS) sends an emergency call to the E911 gateways (ICD 5.1).
//!
//! Choices, each as the trunk makes them:
//! - Request-URI `sip:<dial>@<gateway host>:<port>;user=phone;transport=tls`, the dial string
//!   as the user part (with its RFC 3966 `;phone-context=` when the scenario gives one, which
//!   `user=phone` makes a telephone-subscriber, RFC 3261 §19.1.1). Genesys writes the
//!   `sip:` scheme with `transport=tls` rather than `sips:` (RFC 5630 lets a TLS hop carry a
//!   `sip:` URI); over TCP the parameter is `transport=tcp`.
//! - Via `SIP/2.0/TLS <local socket address>;branch=<fresh>;rport` (RFC 3581).
//! - From carries the ANI (`"<ani>" <sip:<ani>@<trunk host>>`) only when the scenario places
//!   the ANI in From; a scenario's `from_user` replaces it (a From/PAI disagreement); otherwise
//!   From is the RFC 3323 anonymous identity `"Anonymous" <sip:anonymous@anonymous.invalid>`,
//!   so the gateway has to find the ANI in P-Asserted-Identity or Remote-Party-ID.
//! - P-Asserted-Identity (`<sip:ANI@trunk;user=phone>`, or `<tel:ANI>` for `pai-tel`) and
//!   Remote-Party-ID follow Contact in the order of the scenario's `ani_in`; then every `E911-Organization-ID` line exactly as written (zero, one or several:
//!   the field misconfigurations are the point), then the scenario's extra headers.
//! - Allow lists only what the call generator handles (`INVITE, ACK, CANCEL, BYE`) and
//!   Supported only `replaces`: no `100rel` (no PRACK) and no `timer` (no session refresh),
//!   so a conforming gateway never asks for what the generator would not do.
//! - The body is the SDES/SRTP offer of [`crate::originate::sdp::offer`] on a fresh even port in 30000-60000.

use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;
use scenarios::{AniPlacement, CallSpec};
use sip::message::{new_branch, new_call_id, new_tag};
use sip::transport::TransportKind;
use sip::uri::{Host, SipUri};
use sip::{HeaderName, Method, Request, Uri};

use crate::originate::sdp;

/// Where a call is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Gateway name as scenarios and reports use it (`gw1`).
    pub name: String,
    /// Host written in the Request-URI and To, and the TLS server name (SNI, certificate check).
    pub host: String,
    /// Address connected to.
    pub addr: SocketAddr,
    /// TCP or TLS.
    pub transport: TransportKind,
}

/// The host the originating trunk puts in its own URIs.
pub const TRUNK_HOST: &str = "trunk.e911-harness.invalid";

pub use scenarios::ORG_HEADER;

/// The gateways' host names, as in the interface (ICD 5.1.6): the names the embedded gateways
/// present and the trunk calls.
pub const GATEWAY_HOSTS: [(&str, &str); 2] = [
    ("gw1", "gw1.anywhere.e911cloud.com"),
    ("gw2", "gw2.anywhere.e911cloud.com"),
];

/// The anonymous From used when the ANI is not placed in From (RFC 3323 §4.1.1.3).
pub const ANONYMOUS_FROM: &str = "\"Anonymous\" <sip:anonymous@anonymous.invalid>";

/// Methods the call generator handles, as advertised in Allow.
pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE";

/// Option tags advertised in Supported.
pub const SUPPORTED: &str = "replaces";

/// The User-Agent value: `e911-harness/<version>`.
pub fn user_agent() -> String {
    format!("e911-harness/{}", env!("CARGO_PKG_VERSION"))
}

/// The originating side's own address: the host it writes in its URIs and the local socket the
/// call leaves from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalEndpoint {
    /// Host part of From, P-Asserted-Identity and Remote-Party-ID (e.g. `trunk.e911-harness.invalid`).
    pub host: String,
    /// The connected socket's local address (Via sent-by, Contact, SDP connection address).
    pub addr: SocketAddr,
}

/// A host as a URI host: an IP literal when it parses as one, a domain otherwise.
pub fn uri_host(host: &str) -> Host {
    match host.trim_matches(['[', ']']).parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => Host::V4(v4),
        Ok(IpAddr::V6(v6)) => Host::V6(v6),
        Err(_) => Host::Domain(host.to_owned()),
    }
}

/// The lowercase Via transport token and `transport=` value for a transport kind.
pub fn transport_token(kind: TransportKind) -> (&'static str, &'static str) {
    match kind {
        TransportKind::Tls => ("TLS", "tls"),
        TransportKind::Tcp => ("TCP", "tcp"),
    }
}

/// The Request-URI of a call: `sip:<dial>@<host>:<port>;user=phone;transport=<t>`.
pub fn request_uri(dial: &str, target: &Target) -> Uri {
    let mut uri = SipUri::new(Some(dial), uri_host(&target.host));
    uri.port = Some(target.addr.port());
    uri.params.push("user", Some("phone".to_owned()));
    uri.params.push(
        "transport",
        Some(transport_token(target.transport).1.to_owned()),
    );
    Uri::Sip(uri)
}

/// `sip:<user>@<host>` as text, with brackets for IPv6 hosts.
fn sip_uri(user: &str, host: &str) -> String {
    format!("sip:{user}@{}", uri_host(host))
}

/// `<tel:<number>>`: a global number as is; a local one (no `+`) with the RFC 3966
/// `phone-context` of the North American numbering plan (`+1`), which tel URIs require.
fn tel_uri(number: &str) -> String {
    if number.starts_with('+') {
        format!("<tel:{number}>")
    } else {
        format!("<tel:{number};phone-context=+1>")
    }
}

/// Builds the INVITE for `call` towards `target`, leaving from `local`. Every call gets a fresh
/// Call-ID, From tag, branch, media port and SRTP key.
pub fn build_invite(call: &CallSpec, target: &Target, local: &LocalEndpoint) -> Request {
    build_invite_with(call, target, local, None)
}

/// The port and key of a media socket the trunk bound for the call, for its offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferMedia {
    /// The bound port (even, 30000-60000).
    pub port: u16,
    /// The SDES key (base64 of 30 bytes) its session sends with.
    pub key: String,
}

/// [`build_invite`] offering `media`'s port and key (`None`: a random port and a fresh key,
/// for a call that carries no media).
pub fn build_invite_with(
    call: &CallSpec,
    target: &Target,
    local: &LocalEndpoint,
    media: Option<&OfferMedia>,
) -> Request {
    let (via_transport, transport_param) = transport_token(target.transport);
    let mut req = Request::new(Method::Invite, request_uri(&call.dial, target));
    let h = &mut req.headers;
    h.push(
        HeaderName::Via,
        format!(
            "SIP/2.0/{via_transport} {};branch={};rport",
            local.addr,
            new_branch()
        ),
    );
    h.push(HeaderName::MaxForwards, "70");
    let from_user = call.from_user.as_deref().or_else(|| {
        call.ani_in
            .contains(&AniPlacement::From)
            .then_some(call.ani.as_str())
    });
    let from = match from_user {
        Some(user) => format!("\"{user}\" <{}>", sip_uri(user, &local.host)),
        None => ANONYMOUS_FROM.to_owned(),
    };
    h.push(HeaderName::From, format!("{from};tag={}", new_tag()));
    h.push(
        HeaderName::To,
        format!("<{}>", sip_uri(&call.dial, &target.host)),
    );
    h.push(HeaderName::CallId, new_call_id(&local.host));
    h.push(HeaderName::CSeq, "1 INVITE");
    h.push(
        HeaderName::Contact,
        format!(
            "<sip:{}@{};transport={transport_param}>",
            from_user.unwrap_or("trunk"),
            local.addr
        ),
    );
    for placement in &call.ani_in {
        match placement {
            AniPlacement::From => {}
            AniPlacement::Pai => h.push(
                HeaderName::PAssertedIdentity,
                format!("<{};user=phone>", sip_uri(&call.ani, &local.host)),
            ),
            AniPlacement::PaiTel => h.push(HeaderName::PAssertedIdentity, tel_uri(&call.ani)),
            AniPlacement::Rpid => h.push(
                HeaderName::RemotePartyId,
                format!(
                    "<{}>;party=calling;screen=yes;privacy=off",
                    sip_uri(&call.ani, &local.host)
                ),
            ),
        }
    }
    for org in &call.org_headers {
        h.push(ORG_HEADER, org.clone());
    }
    for extra in &call.extra_headers {
        h.push(extra.name.as_str(), extra.value.clone());
    }
    h.push(
        crate::originate::correlate::TOKEN_HEADER,
        crate::originate::correlate::new_token(),
    );
    h.push(HeaderName::Allow, ALLOW);
    h.push(HeaderName::Supported, SUPPORTED);
    h.push(HeaderName::UserAgent, user_agent());
    h.push(HeaderName::ContentType, "application/sdp");
    req.body = Bytes::from(match media {
        Some(m) => sdp::offer_with_key(local.addr.ip(), m.port, &m.key),
        None => sdp::offer(local.addr.ip(), sdp::media_port()),
    });
    if let Some(location) = &call.location {
        crate::originate::location::convey_location(&mut req, location, &call.ani, &local.host);
    }
    req
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use scenarios::ExtraHeader;
    use sip::message::SipHeaders;
    use sip::{Message, message::NameAddr};

    use super::*;

    const ORG: &str = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";

    fn call(ani_in: Vec<AniPlacement>) -> CallSpec {
        CallSpec {
            dial: "911".into(),
            ani: "+13125550100".into(),
            ani_in,
            from_user: None,
            org_headers: vec![ORG.into()],
            extra_headers: Vec::new(),
            hold: Duration::from_millis(10),
            timeout: Duration::from_secs(8),
            abandon_after: None,
            gateway: "gw1".into(),
            location: None,
            tls: scenarios::TlsProfile::genesys_byoc(),
        }
    }

    fn target(transport: TransportKind) -> Target {
        Target {
            name: "gw1".into(),
            host: "gw1.anywhere.e911cloud.com".into(),
            addr: "127.0.0.1:5061".parse().unwrap(),
            transport,
        }
    }

    fn local() -> LocalEndpoint {
        LocalEndpoint {
            host: "trunk.e911-harness.invalid".into(),
            addr: "127.0.0.1:40001".parse().unwrap(),
        }
    }

    /// Builds, serializes and re-parses, so every assertion is about the wire form.
    fn wire(call: &CallSpec, t: &Target) -> Request {
        let req = build_invite(call, t, &local());
        match Message::parse_bytes(req.to_bytes()) {
            Ok(Message::Request(r)) => r,
            other => panic!("INVITE does not parse back: {other:?}"),
        }
    }

    fn get<'a>(r: &'a Request, name: &str) -> Vec<&'a str> {
        let name = HeaderName::parse(name);
        r.headers
            .iter()
            .filter(|h| h.name == name)
            .map(|h| h.value.as_str())
            .collect()
    }

    #[test]
    fn genesys_tls_invite_has_every_header() {
        let r = wire(
            &call(vec![AniPlacement::From, AniPlacement::Pai]),
            &target(TransportKind::Tls),
        );
        assert_eq!(r.method, Method::Invite);
        assert_eq!(
            r.uri.to_string(),
            "sip:911@gw1.anywhere.e911cloud.com:5061;user=phone;transport=tls"
        );
        let via = r.top_via().unwrap();
        assert_eq!(via.transport, "TLS");
        assert_eq!(via.host, Host::V4("127.0.0.1".parse().unwrap()));
        assert_eq!(via.port, Some(40001));
        assert!(via.branch().unwrap().starts_with("z9hG4bK"));
        assert!(via.params.contains("rport"));
        assert_eq!(get(&r, "Max-Forwards"), ["70"]);
        let from = r.header_from().unwrap();
        assert_eq!(from.display.as_deref(), Some("+13125550100"));
        assert_eq!(
            from.uri.to_string(),
            "sip:+13125550100@trunk.e911-harness.invalid"
        );
        assert!(from.tag().is_some_and(|t| !t.is_empty()));
        let to = r.header_to().unwrap();
        assert_eq!(to.uri.to_string(), "sip:911@gw1.anywhere.e911cloud.com");
        assert_eq!(to.tag(), None);
        assert!(
            r.call_id()
                .unwrap()
                .ends_with("@trunk.e911-harness.invalid")
        );
        let cseq = r.cseq().unwrap();
        assert_eq!((cseq.seq, cseq.method), (1, Method::Invite));
        assert_eq!(
            get(&r, "Contact"),
            ["<sip:+13125550100@127.0.0.1:40001;transport=tls>"]
        );
        assert_eq!(
            get(&r, "P-Asserted-Identity"),
            ["<sip:+13125550100@trunk.e911-harness.invalid;user=phone>"]
        );
        assert!(get(&r, "Remote-Party-ID").is_empty());
        assert_eq!(get(&r, ORG_HEADER), [ORG]);
        assert_eq!(get(&r, "Allow"), [ALLOW]);
        assert_eq!(get(&r, "Supported"), [SUPPORTED]);
        assert_eq!(
            get(&r, "User-Agent"),
            [format!("e911-harness/{}", env!("CARGO_PKG_VERSION")).as_str()]
        );
        assert_eq!(r.content_type(), Some("application/sdp"));
        let body = std::str::from_utf8(&r.body).unwrap();
        assert!(
            crate::verdict::media::check_answer(body).is_empty(),
            "{body}"
        );
        assert!(body.contains("c=IN IP4 127.0.0.1\r\n"));
        assert!(body.contains(" RTP/SAVP 0 8 101\r\n"));
        assert!(body.contains("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"));
    }

    #[test]
    fn header_order_is_the_trunks() {
        let mut c = call(vec![AniPlacement::Rpid, AniPlacement::Pai]);
        c.extra_headers = vec![ExtraHeader {
            name: "X-Test".into(),
            value: "a b".into(),
        }];
        let r = wire(&c, &target(TransportKind::Tls));
        let names: Vec<&str> = r.headers.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Via",
                "Max-Forwards",
                "From",
                "To",
                "Call-ID",
                "CSeq",
                "Contact",
                "Remote-Party-ID",
                "P-Asserted-Identity",
                ORG_HEADER,
                "X-Test",
                crate::originate::correlate::TOKEN_HEADER,
                "Allow",
                "Supported",
                "User-Agent",
                "Content-Type",
                "Content-Length",
            ]
        );
        assert_eq!(get(&r, "X-Test"), ["a b"]);
    }

    #[test]
    fn without_from_placement_from_is_anonymous_and_rpid_is_written() {
        let r = wire(&call(vec![AniPlacement::Rpid]), &target(TransportKind::Tls));
        let from = r.header_from().unwrap();
        assert_eq!(from.display.as_deref(), Some("Anonymous"));
        assert_eq!(from.uri.to_string(), "sip:anonymous@anonymous.invalid");
        assert!(from.tag().is_some());
        assert_eq!(
            get(&r, "Remote-Party-ID"),
            ["<sip:+13125550100@trunk.e911-harness.invalid>;party=calling;screen=yes;privacy=off"]
        );
        let rpid = NameAddr::parse(get(&r, "Remote-Party-ID")[0]).unwrap();
        assert_eq!(rpid.params.value("party"), Some("calling"));
        assert!(get(&r, "P-Asserted-Identity").is_empty());
        assert_eq!(
            get(&r, "Contact"),
            ["<sip:trunk@127.0.0.1:40001;transport=tls>"]
        );
    }

    #[test]
    fn from_user_replaces_the_ani_in_from_only() {
        let mut c = call(vec![AniPlacement::Pai]);
        c.from_user = Some("+13125550199".into());
        let r = wire(&c, &target(TransportKind::Tls));
        let from = r.header_from().unwrap();
        assert_eq!(from.uri.user(), Some("+13125550199"));
        assert_eq!(from.display.as_deref(), Some("+13125550199"));
        assert_eq!(
            get(&r, "P-Asserted-Identity"),
            ["<sip:+13125550100@trunk.e911-harness.invalid;user=phone>"]
        );
    }

    #[test]
    fn org_headers_are_sent_as_written_zero_one_or_many() {
        let mut c = call(vec![AniPlacement::From]);
        c.org_headers = Vec::new();
        assert!(get(&wire(&c, &target(TransportKind::Tls)), ORG_HEADER).is_empty());
        c.org_headers = vec![ORG.into(), format!("{ORG};encoding=hex")];
        let r = wire(&c, &target(TransportKind::Tls));
        assert_eq!(
            get(&r, ORG_HEADER),
            [ORG.to_owned(), format!("{ORG};encoding=hex")]
        );
    }

    #[test]
    fn tcp_changes_via_and_transport_params() {
        let r = wire(&call(vec![AniPlacement::From]), &target(TransportKind::Tcp));
        assert_eq!(r.top_via().unwrap().transport, "TCP");
        assert!(r.uri.to_string().ends_with(";user=phone;transport=tcp"));
        assert!(get(&r, "Contact")[0].ends_with(";transport=tcp>"));
    }

    #[test]
    fn ip_and_ipv6_hosts_are_written_as_uri_hosts() {
        let mut t = target(TransportKind::Tls);
        t.host = "::1".into();
        t.addr = "[::1]:5061".parse().unwrap();
        let c = call(vec![AniPlacement::From]);
        let l = LocalEndpoint {
            host: "trunk.e911-harness.invalid".into(),
            addr: "[::1]:40002".parse().unwrap(),
        };
        let r = build_invite(&c, &t, &l);
        assert_eq!(
            r.uri.to_string(),
            "sip:911@[::1]:5061;user=phone;transport=tls"
        );
        assert_eq!(get(&r, "To"), ["<sip:911@[::1]>"]);
        assert!(get(&r, "Via")[0].starts_with("SIP/2.0/TLS [::1]:40002;branch="));
        assert!(
            std::str::from_utf8(&r.body)
                .unwrap()
                .contains("c=IN IP6 ::1\r\n")
        );
    }

    #[test]
    fn every_invite_is_fresh() {
        let c = call(vec![AniPlacement::From]);
        let a = build_invite(&c, &target(TransportKind::Tls), &local());
        let b = build_invite(&c, &target(TransportKind::Tls), &local());
        assert_ne!(a.call_id(), b.call_id());
        assert_ne!(a.top_via().unwrap().branch(), b.top_via().unwrap().branch());
        assert_ne!(
            a.header_from().unwrap().tag(),
            b.header_from().unwrap().tag()
        );
        assert_ne!(a.body, b.body);
    }

    #[test]
    fn pai_tel_writes_a_tel_uri_and_extra_identities_follow_the_trunks_own() {
        let mut c = call(vec![AniPlacement::Pai, AniPlacement::PaiTel]);
        c.extra_headers.push(ExtraHeader {
            name: "P-Asserted-Identity".into(),
            value: "<sip:+13125550111@trunk.invalid;user=phone>".into(),
        });
        let r = wire(&c, &target(TransportKind::Tls));
        assert_eq!(
            get(&r, "P-Asserted-Identity"),
            [
                "<sip:+13125550100@trunk.e911-harness.invalid;user=phone>",
                "<tel:+13125550100>",
                "<sip:+13125550111@trunk.invalid;user=phone>"
            ]
        );
        c.ani = "3125550100".into();
        c.ani_in = vec![AniPlacement::PaiTel];
        let r = wire(&c, &target(TransportKind::Tls));
        assert_eq!(
            get(&r, "P-Asserted-Identity")[0],
            "<tel:3125550100;phone-context=+1>"
        );
    }

    #[test]
    fn a_phone_context_dial_string_is_the_request_uri_user_part() {
        let mut c = call(vec![AniPlacement::Pai]);
        c.dial = "911;phone-context=+1".into();
        let r = wire(&c, &target(TransportKind::Tls));
        assert_eq!(
            r.uri.to_string(),
            "sip:911;phone-context=+1@gw1.anywhere.e911cloud.com:5061;user=phone;transport=tls"
        );
        assert_eq!(
            get(&r, "To"),
            ["<sip:911;phone-context=+1@gw1.anywhere.e911cloud.com>"]
        );
    }
}
