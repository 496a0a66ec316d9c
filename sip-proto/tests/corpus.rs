//! The RFC 4475 and RFC 5118 torture corpora (`sip-proto/tests/corpora`, bit-exact files): every file is
//! checked against the handling its RFC expects, with the interesting fields of the valid ones,
//! and every file cut at every byte offset goes through the parser without a panic.
//!
//! Run with `--nocapture` to see the results table.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use sip_proto::message::{
    HeaderName, Message, NameAddr, ParseErrorKind, SipHeaders, UasPolicy, uas_precheck,
    uas_precheck_with,
};
use sip_proto::uri::{Host, Uri, unescape};

/// What a correct endpoint does with a file.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Parses; a request is then answered with this status by the UAS pre-checks (`None`: no
    /// pre-check objects; the request goes on to normal processing).
    Valid(Option<u16>),
    /// A request rejected by the parser with this `status()`.
    Reject(u16),
    /// A response the parser rejects (it is dropped).
    DropResponse,
    /// The RFC allows liberal acceptance: either parses or is rejected with this status.
    Either(u16),
}

type Check = fn(&Message);

fn corpora() -> PathBuf {
    // Vendored bit-exact (MIT, from ersip; see corpora/README.md and SHA256SUMS), so a clean
    // clone tests itself; .gitattributes keeps git from touching their line ends.
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpora"));
    assert!(
        dir.join("rfc4475").is_dir() && dir.join("rfc5118").is_dir(),
        "torture corpora not found at {}",
        dir.display()
    );
    dir.to_path_buf()
}

fn request(m: &Message) -> &sip_proto::Request {
    m.as_request().expect("a request")
}

fn host(u: &Uri) -> &Host {
    &u.as_sip().expect("a SIP URI").host
}

fn v6(s: &str) -> Host {
    Host::V6(s.parse().unwrap())
}

fn vias(m: &Message) -> Vec<sip_proto::message::Via> {
    m.headers()
        .values(&HeaderName::Via)
        .map(|v| sip_proto::message::Via::parse(v).unwrap())
        .collect()
}

fn no_check(_: &Message) {}

#[rustfmt::skip]
fn cases() -> Vec<(&'static str, Expect, Check)> {
    use Expect::*;
    vec![
        // RFC 4475 §3.1.1: valid messages.
        ("rfc4475/wsinv.dat", Valid(None), |m| {
            let r = request(m);
            let h = &r.headers;
            assert_eq!(h.get(&HeaderName::To), Some("sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n"));
            assert_eq!(r.header_to().unwrap().tag(), Some("1918181833n"));
            let from = r.header_from().unwrap();
            assert_eq!(from.display.as_deref(), Some(r#"J Rosenberg \""#));
            assert_eq!(from.tag(), Some("98asjd8"));
            assert_eq!(h.get(&HeaderName::MaxForwards), Some("0068"));
            let cseq = r.cseq().unwrap();
            assert_eq!((cseq.seq, cseq.method.as_str()), (9, "INVITE"));
            assert_eq!(h.get_str("NewFangledHeader"), Some("newfangled value continued newfangled value"));
            assert_eq!(h.get(&HeaderName::Subject), Some(""));
            let v = vias(m);
            assert_eq!(v.len(), 3);
            assert_eq!((v[0].transport.as_str(), v[0].branch()), ("UDP", Some("390skdjuw")));
            assert_eq!(v[1].host, Host::Domain("spindle.example.com".into()));
            assert_eq!(v[2].branch(), Some("z9hG4bK30239"));
            let contact = NameAddr::parse(h.get(&HeaderName::Contact).unwrap()).unwrap();
            assert_eq!(contact.display.as_deref(), Some(r#"Quoted string """#));
            assert_eq!(contact.params.value("newparam"), Some("newvalue"));
            assert_eq!(contact.params.value("q"), Some("0.33"));
            assert_eq!(r.body.len(), 150);
        }),
        ("rfc4475/intmeth.dat", Valid(None), |m| {
            let r = request(m);
            assert_eq!(r.method.as_str(), "!interesting-Method0123456789_*+`.%indeed'~");
            assert_eq!(r.cseq().unwrap().method, r.method);
            let to = r.header_to().unwrap();
            assert_eq!(to.display.as_deref(), Some("BEL:\u{7} NUL:\0 DEL:\u{7f}"));
            assert_eq!(r.uri.user(), Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"));
            assert_eq!(r.call_id(), Some("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"));
            assert_eq!(r.header_from().unwrap().tag(), Some("_token~1'+`*%!-."));
        }),
        ("rfc4475/esc01.dat", Valid(None), |m| {
            let r = request(m);
            assert_eq!(unescape(r.uri.user().unwrap()), "sips:user@example.com");
            assert_eq!(host(&r.uri), &Host::Domain("example.net".into()));
            assert_eq!(unescape(r.header_to().unwrap().uri.user().unwrap()), "user");
            assert_eq!(unescape(r.header_from().unwrap().uri.user().unwrap()), "I have spaces");
            assert_eq!(r.content_type(), Some("application/sdp"));
            let c = NameAddr::parse(r.headers.get(&HeaderName::Contact).unwrap()).unwrap();
            assert_eq!(c.uri.as_sip().unwrap().params.value("n%61me"), Some("v%61lue%25%34%31"));
        }),
        ("rfc4475/escnull.dat", Valid(None), |m| {
            let r = request(m);
            assert_eq!(r.header_to().unwrap().uri.user(), Some("null-%00-null"));
            assert_eq!(unescape("null-%00-null"), "null-\0-null");
            assert_eq!(r.headers.values(&HeaderName::Contact).count(), 2);
        }),
        ("rfc4475/esc02.dat", Valid(None), |m| {
            let r = request(m);
            assert_eq!(r.method.as_str(), "RE%47IST%45R", "escapes are not decoded in a method");
            assert_eq!(r.headers.count(&HeaderName::Contact), 2, "C%6Fntact is another header");
            assert_eq!(r.headers.get_str("C%6Fntact"), Some("<sip:alias2@host2.example.com>"));
            assert_eq!(r.header_to().unwrap().display.as_deref(), Some("%Z%45"));
        }),
        ("rfc4475/lwsdisp.dat", Valid(None), |m| {
            assert_eq!(request(m).header_from().unwrap().display.as_deref(), Some("caller"));
        }),
        ("rfc4475/longreq.dat", Valid(None), |m| {
            let r = request(m);
            let to = r.header_to().unwrap();
            assert!(to.display.as_deref().unwrap().starts_with("I have a user name of extremeextreme"));
            assert_eq!(to.uri.as_sip().unwrap().port, Some(6000));
            assert_eq!(to.uri.as_sip().unwrap().params.0.len(), 3);
            let from = r.header_from().unwrap();
            assert!(from.tag().unwrap().len() > 150);
            assert_eq!(from.params.0.len(), 3);
            assert!(r.call_id().unwrap().ends_with("reallylongcallid"));
            let v = vias(m);
            assert_eq!(v.len(), 34, "every compact and odd-case Via is a Via");
            assert_eq!(v[0].host, Host::Domain("sip33.example.com".into()));
            assert!(v[33].branch().unwrap().len() > 100);
            assert_eq!(r.body.len(), 150);
        }),
        ("rfc4475/dblreq.dat", Valid(None), |m| {
            let r = request(m);
            assert_eq!(r.method.as_str(), "REGISTER");
            assert!(r.body.is_empty(), "Content-Length 0 ends the first request");
        }),
        ("rfc4475/semiuri.dat", Valid(None), |m| {
            let r = request(m);
            let u = r.uri.as_sip().unwrap();
            assert_eq!(u.user.as_deref(), Some("user;par=u%40example.net"));
            assert_eq!(u.host, Host::Domain("example.com".into()));
            assert!(u.params.0.is_empty());
            assert_eq!(r.headers.values(&HeaderName::Accept).count(), 6);
        }),
        ("rfc4475/transports.dat", Valid(None), |m| {
            let t: Vec<_> = vias(m).into_iter().map(|v| v.transport).collect();
            assert_eq!(t, ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);
        }),
        ("rfc4475/mpart01.dat", Valid(None), |m| {
            let r = request(m);
            assert_eq!(r.body.len(), 553);
            assert!(r.content_type().unwrap().starts_with("multipart/mixed;boundary="));
        }),
        ("rfc4475/unreason.dat", Valid(None), |m| {
            let r = m.as_response().unwrap();
            assert_eq!(r.status, 200);
            assert!(r.reason.starts_with("= 2**3 * 5**2 "));
            assert!(r.reason.ends_with("простое"));
        }),
        ("rfc4475/noreason.dat", Valid(None), |m| {
            let r = m.as_response().unwrap();
            assert_eq!((r.status, r.reason.as_str()), (100, ""));
        }),
        // RFC 4475 §3.1.2: invalid messages.
        ("rfc4475/badinv01.dat", Reject(400), no_check),
        ("rfc4475/clerr.dat", Reject(400), no_check),
        ("rfc4475/ncl.dat", Reject(400), no_check),
        ("rfc4475/scalar02.dat", Reject(400), no_check),
        ("rfc4475/scalarlg.dat", DropResponse, no_check),
        ("rfc4475/quotbal.dat", Reject(400), no_check),
        ("rfc4475/ltgtruri.dat", Reject(400), no_check),
        ("rfc4475/lwsruri.dat", Reject(400), no_check),
        ("rfc4475/lwsstart.dat", Reject(400), no_check),
        ("rfc4475/trws.dat", Either(400), no_check),
        ("rfc4475/escruri.dat", Reject(400), no_check),
        ("rfc4475/baddate.dat", Either(400), no_check),
        ("rfc4475/regbadct.dat", Reject(400), no_check),
        ("rfc4475/badaspec.dat", Either(400), no_check),
        ("rfc4475/baddn.dat", Reject(400), no_check),
        ("rfc4475/badvers.dat", Reject(505), no_check),
        ("rfc4475/mismatch01.dat", Reject(400), no_check),
        ("rfc4475/mismatch02.dat", Reject(400), no_check),
        ("rfc4475/bigcode.dat", DropResponse, no_check),
        // §3.2: the transaction layer's business (no magic cookie), not the parser's.
        ("rfc4475/badbranch.dat", Valid(None), |m| {
            assert_eq!(request(m).top_via().unwrap().branch(), Some("z9hG4bK"));
        }),
        // §3.3: valid syntax, specific answers.
        ("rfc4475/insuf.dat", Reject(400), no_check),
        ("rfc4475/unkscm.dat", Valid(Some(416)), |m| {
            assert_eq!(request(m).uri.scheme(), "nobodyKnowsThisScheme");
        }),
        ("rfc4475/novelsc.dat", Valid(Some(416)), |m| {
            assert_eq!(request(m).uri.scheme(), "soap.beep");
        }),
        // The Request-URI is fine; the unknown schemes are in To/From/Contact and parse.
        ("rfc4475/unksm2.dat", Valid(None), |m| {
            let r = request(m);
            assert_eq!(r.header_to().unwrap().uri.scheme(), "isbn");
            assert_eq!(r.header_from().unwrap().uri.scheme(), "http");
        }),
        ("rfc4475/bext01.dat", Valid(Some(420)), |m| {
            let rej = uas_precheck_with(request(m), &UasPolicy::default()).unwrap();
            assert_eq!(rej.unsupported, [
                "nothingSupportsThis", "nothingSupportsThisEither",
                "noProxiesSupportThis", "norDoAnyProxiesSupportThis",
            ]);
        }),
        ("rfc4475/invut.dat", Valid(Some(415)), no_check),
        ("rfc4475/regaut01.dat", Valid(None), |m| {
            assert!(request(m).headers.get(&HeaderName::Authorization).unwrap().starts_with("NoOneKnowsThisScheme"));
        }),
        ("rfc4475/multi01.dat", Reject(400), no_check),
        ("rfc4475/mcl01.dat", Reject(400), no_check),
        ("rfc4475/bcast.dat", Valid(None), |m| {
            let r = m.as_response().unwrap();
            assert_eq!(r.status, 200);
            assert_eq!(vias(m)[1].host, Host::V4("255.255.255.255".parse().unwrap()));
        }),
        ("rfc4475/zeromf.dat", Valid(None), |m| {
            assert_eq!(request(m).headers.get(&HeaderName::MaxForwards), Some("0"));
        }),
        ("rfc4475/cparam01.dat", Valid(None), |m| {
            let c = NameAddr::parse(request(m).headers.get(&HeaderName::Contact).unwrap()).unwrap();
            assert!(c.params.contains("unknownparam"), "addr-spec parameters belong to the header");
            assert!(c.uri.as_sip().unwrap().params.0.is_empty());
        }),
        ("rfc4475/cparam02.dat", Valid(None), |m| {
            let c = NameAddr::parse(request(m).headers.get(&HeaderName::Contact).unwrap()).unwrap();
            assert!(c.uri.as_sip().unwrap().params.contains("unknownparam"));
        }),
        ("rfc4475/regescrt.dat", Valid(None), |m| {
            let c = NameAddr::parse(request(m).headers.get(&HeaderName::Contact).unwrap()).unwrap();
            assert_eq!(c.uri.as_sip().unwrap().headers, [("Route".to_owned(), "%3Csip:sip.example.com%3E".to_owned())]);
        }),
        ("rfc4475/sdp01.dat", Valid(Some(406)), no_check),
        // §3.4: RFC 2543 compatibility.
        ("rfc4475/inv2543.dat", Valid(None), |m| {
            assert_eq!(request(m).top_via().unwrap().branch(), None);
        }),
        // RFC 5118.
        ("rfc5118/ipv6-good", Valid(None), |m| {
            let r = request(m);
            assert_eq!(host(&r.uri), &v6("2001:db8::10"));
            assert_eq!(r.top_via().unwrap().host, v6("2001:db8::9:1"));
        }),
        ("rfc5118/ipv6-bad", Reject(400), no_check),
        ("rfc5118/port-ambiguous", Valid(None), |m| {
            let u = request(m).uri.as_sip().unwrap().clone();
            assert_eq!((u.host, u.port), (v6("2001:db8::10:5070"), None));
        }),
        ("rfc5118/port-unambiguous", Valid(None), |m| {
            let u = request(m).uri.as_sip().unwrap().clone();
            assert_eq!((u.host, u.port), (v6("2001:db8::10"), Some(5070)));
        }),
        ("rfc5118/via-received-param-with-delim", Valid(None), |m| {
            assert_eq!(vias(m)[0].params.value("received"), Some("[2001:db8::9:255]"));
        }),
        ("rfc5118/via-received-param-no-delim", Valid(None), |m| {
            assert_eq!(vias(m)[0].params.value("received"), Some("2001:db8::9:255"));
        }),
        ("rfc5118/ipv6-in-sdp", Valid(None), |m| {
            assert!(m.body().windows(21).any(|w| w == b"c=IN IP6 2001:db8::20"));
        }),
        ("rfc5118/mult-ip-in-header", Valid(None), |m| {
            let v = vias(m);
            assert_eq!(v.iter().map(|v| v.host.clone()).collect::<Vec<_>>(), [
                v6("2001:db8::9:1"), Host::V4("192.0.2.1".parse().unwrap()), v6("2001:db8::9:255"),
            ]);
            assert_eq!(v[0].port, Some(6050));
            assert_eq!(v[2].params.value("received"), Some("192.0.2.200"));
        }),
        ("rfc5118/mult-ip-in-sdp", Valid(None), |m| {
            assert_eq!(host(&request(m).uri), &v6("2001:db8::10"));
        }),
        ("rfc5118/ipv4-mapped-ipv6", Valid(None), |m| {
            let v = vias(m);
            assert_eq!((v[0].host.clone(), v[0].port), (v6("::ffff:192.0.2.10"), Some(19823)));
            let c = NameAddr::parse(request(m).headers.get(&HeaderName::Contact).unwrap()).unwrap();
            assert_eq!(host(&c.uri), &v6("::ffff:192.0.2.2"));
        }),
        ("rfc5118/ipv6-correct-abnf-2-colons", Valid(None), |m| {
            assert_eq!(host(&request(m).uri), &v6("2001:db8::192.0.2.1"));
        }),
        ("rfc5118/ipv6-bug-abnf-3-colons", Either(400), no_check),
    ]
}

/// Runs one file; returns what happened, as a table cell, or why the expectation failed.
fn run(bytes: &[u8], expect: Expect, check: Check) -> Result<String, String> {
    let parsed = Message::parse(bytes);
    match (expect, &parsed) {
        (Expect::Valid(answer), Ok(m)) => {
            check(m);
            let got = m.as_request().and_then(uas_precheck);
            if got.map(|g| g.0) != answer {
                return Err(format!(
                    "parsed, pre-check gave {got:?}, expected {answer:?}"
                ));
            }
            Ok(match (m, got) {
                (Message::Response(r), _) => format!("parsed (response {})", r.status),
                (_, Some((status, _))) => format!("parsed, UAS answers {status}"),
                (_, None) => "parsed".to_owned(),
            })
        }
        (Expect::Reject(status) | Expect::Either(status), Err(e)) => {
            if e.status() != status {
                return Err(format!(
                    "rejected with {} ({e}), expected {status}",
                    e.status()
                ));
            }
            let is_request = !bytes.starts_with(b"SIP/");
            if is_request
                && e.kind != ParseErrorKind::UnsupportedVersion
                && e.salvage.is_none()
                && e.line > 1
            {
                return Err(format!("a header error without salvage: {e}"));
            }
            Ok(format!("rejected {status}: {e}"))
        }
        (Expect::Either(_), Ok(_)) => Ok("parsed (liberal acceptance allowed)".to_owned()),
        (Expect::DropResponse, Err(e)) if bytes.starts_with(b"SIP/") => {
            Ok(format!("response dropped: {e}"))
        }
        (_, Ok(_)) => Err("parsed, but must be rejected".to_owned()),
        (_, Err(e)) => Err(format!("rejected ({e}), but must parse")),
    }
}

#[test]
fn torture_corpora_are_handled_as_the_rfcs_expect() {
    let root = corpora();
    let cases = cases();
    let mut on_disk: Vec<String> = ["rfc4475", "rfc5118"]
        .iter()
        .flat_map(|d| {
            std::fs::read_dir(root.join(d))
                .unwrap()
                .map(move |e| format!("{d}/{}", e.unwrap().file_name().to_string_lossy()))
        })
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = cases.iter().map(|c| c.0.to_owned()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "every corpus file needs exactly one expectation"
    );
    assert_eq!(listed.len(), 61);

    let mut failures = Vec::new();
    println!("\n{:<42} {:<14} {:<4} result", "file", "expected", "ok");
    for (name, expect, check) in &cases {
        let bytes = std::fs::read(root.join(name)).unwrap();
        let outcome = catch_unwind(AssertUnwindSafe(|| run(&bytes, *expect, *check)))
            .unwrap_or_else(|p| Err(format!("field check failed: {}", panic_text(&p))));
        let expected = match expect {
            Expect::Valid(None) => "parse".to_owned(),
            Expect::Valid(Some(s)) => format!("parse, {s}"),
            Expect::Reject(s) => format!("reject {s}"),
            Expect::DropResponse => "drop".to_owned(),
            Expect::Either(s) => format!("parse|{s}"),
        };
        let (ok, text) = match &outcome {
            Ok(t) => ("yes", t.as_str()),
            Err(t) => ("NO", t.as_str()),
        };
        let text: String = text.chars().take(110).collect();
        println!("{name:<42} {expected:<14} {ok:<4} {text}");
        if let Err(why) = outcome {
            failures.push(format!("{name}: {why}"));
        }
    }
    assert!(
        failures.is_empty(),
        "corpus failures:\n{}",
        failures.join("\n")
    );
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

#[test]
fn every_truncation_of_every_file_parses_or_errors_without_panic() {
    let root = corpora();
    let mut runs = 0usize;
    for (name, _, _) in cases() {
        let bytes = std::fs::read(root.join(name)).unwrap();
        for cut in 0..=bytes.len() {
            let r = catch_unwind(|| {
                let _ = Message::parse(&bytes[..cut]);
                let _ = Message::parse(&bytes[cut..]);
            });
            assert!(
                r.is_ok(),
                "{name}: the parser panicked on bytes cut at offset {cut}"
            );
            runs += 2;
        }
    }
    assert!(runs > 30_000, "only {runs} runs");
}

#[test]
fn truncated_valid_messages_fail_with_a_position_inside_the_input() {
    let root = corpora();
    for (name, expect, _) in cases() {
        if !matches!(expect, Expect::Valid(_)) {
            continue;
        }
        let bytes = std::fs::read(root.join(name)).unwrap();
        let end = memchr_head_end(&bytes);
        for cut in 0..end {
            if let Err(e) = Message::parse(&bytes[..cut]) {
                assert!(
                    e.offset <= cut,
                    "{name} cut at {cut}: offset {} past the end",
                    e.offset
                );
                assert!(e.line >= 1 && e.column >= 1, "{name} cut at {cut}: {e:?}");
            } else {
                panic!("{name} cut at {cut} (inside the header block) parsed");
            }
        }
    }
}

fn memchr_head_end(b: &[u8]) -> usize {
    b.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(b.len())
}
