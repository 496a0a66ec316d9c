//! Tests of [`super`] (the header list and its lookups).

use super::*;

#[test]
fn compact_and_case_insensitive_names() {
    assert_eq!(HeaderName::parse("v"), HeaderName::Via);
    assert_eq!(HeaderName::parse("I"), HeaderName::CallId);
    assert_eq!(HeaderName::parse("cseq"), HeaderName::CSeq);
    assert_eq!(
        HeaderName::parse("content-length"),
        HeaderName::ContentLength
    );
    let org = HeaderName::parse("e911-organization-id");
    assert_eq!(org, HeaderName::parse("E911-Organization-ID"));
    assert_ne!(org, HeaderName::parse("E911-Organization"));
    assert_eq!(org.as_str(), "e911-organization-id");
}

#[test]
fn splits_only_top_level_commas() {
    let v: Vec<_> = split_list(r#""Doe, John" <sip:a@b;x=1,2>, <sip:c@d> ,, sip:e@f"#).collect();
    assert_eq!(
        v,
        vec![r#""Doe, John" <sip:a@b;x=1,2>"#, "<sip:c@d>", "sip:e@f"]
    );
}

#[test]
fn set_replaces_all() {
    let mut h = Headers::new();
    h.push("Route", "a");
    h.push("Via", "x");
    h.push("route", "b");
    h.set("ROUTE", "c");
    assert_eq!(h.get_all(&HeaderName::Route).collect::<Vec<_>>(), vec!["c"]);
    assert_eq!(h.len(), 2);
}

#[test]
fn every_known_name_is_found_by_length_and_first_byte() {
    for (i, canon) in CANON.iter().enumerate() {
        assert_eq!(Known::lookup(canon), Some(ALL[i]), "{canon}");
        assert_eq!(Known::lookup(&canon.to_ascii_lowercase()), Some(ALL[i]));
        assert_eq!(Known::lookup(&canon.to_ascii_uppercase()), Some(ALL[i]));
        assert_eq!(ALL[i].as_str(), *canon);
        assert_eq!(HeaderName::parse(canon).known(), Some(ALL[i]));
        // Inside a line: the compare reads past the name.
        let line = format!("{}: {}", canon.to_ascii_uppercase(), "v".repeat(40));
        assert_eq!(Known::lookup_in(line.as_bytes(), canon.len()), Some(ALL[i]));
        if canon.len() > 2 {
            assert_eq!(Known::lookup_in(line.as_bytes(), canon.len() - 1), None);
        }
        assert_eq!(Known::lookup_in(line.as_bytes(), canon.len() + 1), None);
    }
    for (c, k) in [
        ("f", Known::From),
        ("T", Known::To),
        ("x", Known::SessionExpires),
    ] {
        assert_eq!(Known::lookup(c), Some(k));
    }
    for other in [
        "",
        "z",
        "Fro",
        "Fromm",
        "X-From",
        "E911-Organization-ID",
        "Via-",
    ] {
        assert_eq!(Known::lookup(other), None, "{other}");
    }
    assert_eq!(Known::lookup(&"a".repeat(300)), None);
}

#[test]
fn parsed_headers_read_like_built_ones_and_become_owned_on_change() {
    let wire = "OPTIONS sip:a@b SIP/2.0\r\nv: SIP/2.0/TCP h;branch=z9hG4bK1, SIP/2.0/TCP g\r\n\
        X-Note:  first\r\n  folded  \r\nf: <sip:a@b>;tag=1\r\nt: <sip:c@d>\r\n\
        i: x@y\r\nCSeq: 1 OPTIONS\r\nx-note: second\r\nContent-Length: 0\r\n\r\n";
    let m = crate::message::Message::parse(wire.as_bytes()).unwrap();
    let mut h = m.as_request().unwrap().headers.clone();
    let note = HeaderName::parse("X-NOTE");
    assert_eq!(h.get(&note), Some("first folded"));
    assert_eq!(
        h.get_all(&note).collect::<Vec<_>>(),
        ["first folded", "second"]
    );
    assert_eq!(h.count(&note), 2);
    assert_eq!(h.values(&HeaderName::Via).count(), 2);
    assert_eq!(h.get_str("from"), Some("<sip:a@b>;tag=1"));
    assert_eq!(h.len(), 8);
    // The owned view agrees with the spans, line numbers included.
    let owned: Vec<_> = h
        .iter()
        .map(|x| (x.name.clone(), x.value.clone(), x.line))
        .collect();
    assert_eq!(
        owned[1],
        (HeaderName::Other("X-Note".into()), "first folded".into(), 3)
    );
    assert_eq!(owned[2], (HeaderName::From, "<sip:a@b>;tag=1".into(), 5));
    assert_eq!(h.get_header(&HeaderName::CSeq).map(|x| x.line), Some(8));
    let views: Vec<_> = h
        .views()
        .map(|v| (v.name.to_owned(), v.value.to_owned()))
        .collect();
    let names: Vec<_> = owned
        .iter()
        .map(|o| (o.0.as_str().to_owned(), o.1.clone()))
        .collect();
    assert_eq!(views, names);
    // Equality does not depend on the representation.
    let mut built = Headers::new();
    for x in &owned {
        built.push(x.0.clone(), x.1.clone());
    }
    let relined: Vec<_> = built
        .iter()
        .map(|x| (x.name.clone(), x.value.clone()))
        .collect();
    assert_eq!(
        relined,
        owned
            .iter()
            .map(|o| (o.0.clone(), o.1.clone()))
            .collect::<Vec<_>>()
    );
    assert_eq!(h, m.as_request().unwrap().headers);
    assert_eq!(
        format!("{h:?}"),
        format!("{:?}", m.as_request().unwrap().headers)
    );
    // Changes turn the list into owned headers and keep everything else.
    assert_eq!(h.remove(&note), 2);
    h.set(HeaderName::CSeq, "2 OPTIONS");
    h.push_front(HeaderName::Via, "SIP/2.0/TCP top;branch=z9hG4bK2");
    assert_eq!(h.len(), 7);
    assert_eq!(h.get(&HeaderName::CSeq), Some("2 OPTIONS"));
    assert_eq!(h.values(&HeaderName::Via).count(), 3);
    assert_eq!(h.get(&HeaderName::CallId), Some("x@y"));
    assert_ne!(h, m.as_request().unwrap().headers);
}

#[test]
fn lookups_agree_with_a_scan_of_every_view() {
    let wire = "INVITE sip:a@b SIP/2.0\r\nv: SIP/2.0/TCP h;branch=z9hG4bK1\r\n\
        Via: SIP/2.0/TCP g;branch=z9hG4bK2\r\nX-Note: a\r\nf: <sip:a@b>;tag=1\r\n\
        To: <sip:c@d>\r\ni: x@y\r\nCSeq: 1 INVITE\r\nx-NOTE: b\r\nMax-Forwards: 70\r\n\
        Content-Length: 0\r\n\r\n";
    let m = crate::message::Message::parse(wire.as_bytes()).unwrap();
    let parsed = m.as_request().unwrap().headers.clone();
    let mut built = Headers::new();
    for h in parsed.iter() {
        built.push(h.name.clone(), h.value.clone());
    }
    let mut names: Vec<HeaderName> = ALL.iter().map(|k| k.name()).collect();
    names.extend(["x-note", "X-Other", "Via"].map(|n| HeaderName::Other(n.into())));
    for h in [&parsed, &built] {
        for n in &names {
            let scan: Vec<&str> = h.views().filter(|v| v.is(n)).map(|v| v.value).collect();
            assert_eq!(h.get_all(n).collect::<Vec<_>>(), scan, "{n:?}");
            assert_eq!(h.get(n), scan.first().copied(), "{n:?}");
            assert_eq!(h.count(n), scan.len(), "{n:?}");
        }
    }
    assert_eq!(parsed.count(&HeaderName::Via), 2);
    assert_eq!(parsed.count(&HeaderName::parse("x-note")), 2);
    assert_eq!(parsed.get(&HeaderName::Route), None);
}
