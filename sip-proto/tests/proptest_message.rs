//! Property tests of the message model: built requests and responses (methods, sip/sips/tel/urn
//! URIs with IPv6 hosts, compact header names, bodies) survive print -> parse -> print
//! unchanged and parse back equal to what was built (Content-Length aside); folded values
//! unfold to the same value; the parser never panics on arbitrary or mutated bytes.

use bytes::Bytes;
use proptest::prelude::*;
use sip_proto::message::{HeaderName, Message, Method, Request, Response, SipHeaders};
use sip_proto::uri::Uri;

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::Invite),
        Just(Method::Options),
        Just(Method::Bye),
        Just(Method::Register),
        Just(Method::Info),
        Just(Method::Message),
        "[A-Z][A-Z0-9!%*_+`'~.-]{0,11}".prop_map(|s| Method::parse(&s).unwrap()),
    ]
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9-]{0,10}(\\.[a-z][a-z0-9]{0,6}){0,3}",
        any::<[u8; 4]>().prop_map(|o| std::net::Ipv4Addr::from(o).to_string()),
        any::<[u16; 8]>().prop_map(|s| format!("[{}]", std::net::Ipv6Addr::from(s))),
    ]
}

fn uri() -> impl Strategy<Value = String> {
    let sip = (
        prop::bool::ANY,
        prop::option::of("[a-zA-Z0-9+_.!~*'()-]{1,12}(%[0-9A-F]{2})?"),
        host(),
        prop::option::of(1u16..),
        prop::collection::vec(
            ("[a-z][a-z0-9-]{0,7}", prop::option::of("[a-z0-9.]{1,8}")),
            0..3,
        ),
    )
        .prop_map(|(secure, user, host, port, params)| {
            let mut s = String::from(if secure { "sips:" } else { "sip:" });
            if let Some(u) = user {
                s.push_str(&u);
                s.push('@');
            }
            s.push_str(&host);
            if let Some(p) = port {
                s.push_str(&format!(":{p}"));
            }
            for (n, v) in params {
                s.push(';');
                s.push_str(&n);
                if let Some(v) = v {
                    s.push('=');
                    s.push_str(&v);
                }
            }
            s
        });
    prop_oneof![
        4 => sip,
        1 => "\\+[1-9][0-9]{6,14}".prop_map(|n| format!("tel:{n}")),
        1 => "[0-9]{3,6}".prop_map(|n| format!("tel:{n};phone-context=+1")),
        1 => Just("urn:service:sos".to_owned()),
        1 => "[a-z]{2,8}".prop_map(|s| format!("urn:service:sos.{s}")),
    ]
}

/// A header value made of words (`split_list`-safe) that may be folded at its spaces.
fn words() -> impl Strategy<Value = String> {
    prop::collection::vec("[A-Za-z0-9!%*_+.~=/-]{1,10}", 1..6).prop_map(|w| w.join(" "))
}

/// Extension and optional headers, named in long, odd-case or compact form.
fn extra_header() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        ("X-[A-Za-z0-9-]{1,12}", words()).prop_map(|(n, v)| (n, v)),
        ("(Subject|s|SUBJECT)", words()).prop_map(|(n, v)| (n, v)),
        ("(Supported|k)", "[a-z0-9]{1,8}(, [a-z0-9]{1,8}){0,3}").prop_map(|(n, v)| (n, v)),
        uri().prop_map(|u| ("m".to_owned(), format!("<{u}>"))),
        uri().prop_map(|u| (
            "P-Asserted-Identity".to_owned(),
            format!("\"Agent \\\"7\\\"\" <{u}>")
        )),
        Just((
            "E911-Organization-ID".to_owned(),
            "4f3b1c2e-8d7a-4e59".to_owned()
        )),
    ]
}

fn core_headers(m: &Method) -> impl Strategy<Value = Vec<(String, String)>> + use<> {
    let m = m.as_str().to_owned();
    (
        prop::collection::vec((host(), "[0-9a-zA-Z]{4,16}"), 1..3),
        uri(),
        uri(),
        "[0-9a-f]{6,12}",
        "[A-Za-z0-9.!%*_+`'~-]{4,20}(@[a-z0-9.]{1,12})?",
        0u32..(1 << 31),
        prop::bool::ANY,
    )
        .prop_map(move |(vias, from, to, tag, call_id, seq, compact)| {
            let pick = |long: &str, short: &str| if compact { short } else { long }.to_owned();
            let mut h = Vec::new();
            for (host, branch) in vias {
                h.push((
                    pick("Via", "v"),
                    format!("SIP/2.0/TLS {host};branch=z9hG4bK{branch}"),
                ));
            }
            h.push(("Max-Forwards".to_owned(), "70".to_owned()));
            h.push((pick("From", "f"), format!("<{from}>;tag={tag}")));
            h.push((pick("To", "t"), format!("<{to}>")));
            h.push((pick("Call-ID", "i"), call_id));
            h.push(("CSeq".to_owned(), format!("{seq} {m}")));
            h
        })
}

fn body() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        Just(Bytes::new()),
        prop::collection::vec(any::<u8>(), 1..300).prop_map(Bytes::from),
        Just(Bytes::from_static(
            b"v=0\r\no=- 1 1 IN IP6 2001:db8::1\r\ns=-\r\n\r\nc=IN IP6 ::1\r\n"
        )),
    ]
}

fn request() -> impl Strategy<Value = Request> {
    method().prop_flat_map(|m| {
        (
            Just(m.clone()),
            uri(),
            core_headers(&m),
            prop::collection::vec(extra_header(), 0..5),
            body(),
        )
            .prop_map(|(m, u, core, extra, body)| {
                let mut r = Request::new(m, Uri::parse(&u).expect("generated URI parses"));
                for (n, v) in core.into_iter().chain(extra) {
                    r.headers.push(n.as_str(), v);
                }
                if !body.is_empty() {
                    r.headers.push(HeaderName::ContentType, "application/sdp");
                }
                r.body = body;
                r
            })
    })
}

fn response() -> impl Strategy<Value = Response> {
    (
        100u16..700,
        "[A-Za-z0-9 .,;:!?'()-]{0,30}|[а-я ]{1,10}",
        core_headers(&Method::Invite),
        body(),
    )
        .prop_map(|(status, reason, core, body)| {
            let mut headers = sip_proto::Headers::new();
            for (n, v) in core {
                headers.push(n.as_str(), v);
            }
            Response {
                status,
                reason: reason.trim().to_owned(),
                headers,
                body,
            }
        })
}

/// The headers as (name, value) pairs without Content-Length (the encoder owns it).
fn pairs(h: &sip_proto::Headers) -> Vec<(HeaderName, String)> {
    h.iter()
        .filter(|h| h.name != HeaderName::ContentLength)
        .map(|h| (h.name.clone(), h.value.clone()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn request_round_trips(req in request()) {
        let wire = req.to_bytes();
        let parsed = Message::parse(&wire).map_err(|e| {
            TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&wire)))
        })?;
        let p = parsed.as_request().expect("a request");
        prop_assert_eq!(&p.method, &req.method);
        prop_assert_eq!(&p.uri, &req.uri);
        prop_assert_eq!(pairs(&p.headers), pairs(&req.headers));
        prop_assert_eq!(&p.body, &req.body);
        let len = req.body.len().to_string();
        prop_assert_eq!(p.headers.get(&HeaderName::ContentLength), Some(len.as_str()));
        prop_assert_eq!(parsed.to_bytes(), wire, "print -> parse -> print is stable");
        prop_assert_eq!(p.cseq().unwrap().method, req.method.clone());
        prop_assert!(p.top_via().unwrap().branch().unwrap().starts_with("z9hG4bK"));
    }

    #[test]
    fn response_round_trips(resp in response()) {
        let wire = resp.to_bytes();
        let parsed = Message::parse(&wire).map_err(|e| {
            TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&wire)))
        })?;
        let p = parsed.as_response().expect("a response");
        prop_assert_eq!(p.status, resp.status);
        prop_assert_eq!(&p.reason, &resp.reason);
        prop_assert_eq!(pairs(&p.headers), pairs(&resp.headers));
        prop_assert_eq!(&p.body, &resp.body);
        prop_assert_eq!(parsed.to_bytes(), wire);
    }

    /// Folding every space of an extension header (CRLF + 1..3 SP/HTAB) gives the same value.
    #[test]
    fn folded_values_unfold_to_the_built_value(
        req in request(),
        value in words(),
        indent in "[ \t]{1,3}",
    ) {
        let mut req = req;
        req.headers.push("X-Folded", value.clone());
        let wire = String::from_utf8_lossy(&req.to_bytes()).into_owned();
        let line = format!("X-Folded: {value}\r\n");
        let folded = format!("X-Folded: {}\r\n", value.replace(' ', &format!("\r\n{indent}")));
        prop_assume!(req.body.is_ascii());
        prop_assert!(wire.contains(&line), "the header line is in the wire form");
        let text = wire.replacen(&line, &folded, 1);
        let parsed = Message::parse(text.as_bytes())
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(parsed.headers().get_str("x-folded"), Some(value.as_str()));
        prop_assert_eq!(pairs(parsed.headers()), pairs(&req.headers));
    }

    #[test]
    fn parse_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = Message::parse(&bytes);
    }

    /// Byte flips, insertions and truncations of a valid message: errors carry a position
    /// inside the input; nothing panics.
    #[test]
    fn parse_never_panics_on_mutated_messages(
        req in request(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut b = req.to_bytes().to_vec();
        for (at, byte, op) in edits {
            let i = at.index(b.len());
            match op {
                0 => b[i] = byte,
                1 => b.insert(i, byte),
                _ => { b.remove(i); }
            }
        }
        b.truncate(cut.index(b.len() + 1));
        if let Err(e) = Message::parse(&b) {
            prop_assert!(e.offset <= b.len(), "offset {} past {} bytes", e.offset, b.len());
            prop_assert!(e.line >= 1 && e.column >= 1);
        }
    }
}
