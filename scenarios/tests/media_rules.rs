//! `[media]`, media faults and `expect.media_findings` (ICD 4): each rule's passing and
//! failing side, with file, line and field.

mod support;

use std::time::Duration;

use scenarios::{FaultKind, MediaFault, MediaFinding, MediaSpec, ProblemKind};
use support::{doc, ok, one, problems};

fn with_media(media: &str) -> String {
    format!("{}\n[media]\n{media}\n", doc("", ""))
}

#[test]
fn media_defaults_and_bounds() {
    assert_eq!(ok(&doc("", "")).media, MediaSpec::default());
    let s = ok(&with_media(
        "enabled = false\nloss_max = \"0.5%\"\njitter_max = \"20ms\"\nfirst_packet_within = \"1s\"",
    ));
    assert!(!s.media.enabled);
    assert_eq!(s.media.loss_max_ppm, 5_000);
    assert_eq!(s.media.jitter_max, Duration::from_millis(20));
    assert_eq!(s.media.first_packet_within, Duration::from_secs(1));
    assert_eq!(ok(&with_media("loss_max = \"0%\"")).media.loss_max_ppm, 0);

    let p = one(
        &with_media("loss_max = \"2\""),
        "media.loss_max",
        ProblemKind::InvalidValue,
    );
    assert!(p.message.contains("percentage"), "{p:?}");
    assert_eq!(p.line, 15);
    one(
        &with_media("jitter_max = \"0ms\""),
        "media.jitter_max",
        ProblemKind::InvalidValue,
    );
    one(
        &with_media("first_packet_within = \"2min\""),
        "media.first_packet_within",
        ProblemKind::InvalidValue,
    );
    one(
        &with_media("colour = 1"),
        "media.colour",
        ProblemKind::UnknownField,
    );
}

#[test]
fn media_findings_rule() {
    let s = ok(&doc(
        "",
        "media_findings = [\"silent-to-trunk\", \"wrong-destination\"]",
    ));
    assert_eq!(
        s.expect.media_findings,
        Some(vec![
            MediaFinding::SilentToTrunk,
            MediaFinding::WrongDestination
        ])
    );
    let p = one(
        &doc("", "media_findings = [\"one-way\"]"),
        "expect.media_findings[0]",
        ProblemKind::InvalidValue,
    );
    assert!(p.message.contains("\"silent-to-trunk\""), "{p:?}");
    one(
        &doc("", "media_findings = [\"loss\", \"loss\"]"),
        "expect.media_findings[1]",
        ProblemKind::Duplicate,
    );
}

fn with_fault(fault: &str) -> String {
    format!(
        "{}\n[route]\n\n[[fault]]\ngateway = \"gw1\"\nkind = \"media\"\n{fault}\n",
        doc("", "")
    )
}

#[test]
fn media_faults_rule() {
    for (text, want) in [
        ("media = \"none\"", MediaFault::None),
        ("media = \"wrong-port\"", MediaFault::WrongPort),
        ("media = \"wrong-key\"", MediaFault::WrongKey),
        ("media = \"plain-rtp\"", MediaFault::PlainRtp),
        (
            "media = \"late\"\ndelay = \"1s\"",
            MediaFault::Late(Duration::from_secs(1)),
        ),
    ] {
        let s = ok(&with_fault(text));
        assert_eq!(s.faults[0].kind, FaultKind::Media(want));
    }
    one(&with_fault(""), "fault[0].media", ProblemKind::MissingField);
    one(
        &with_fault("media = \"late\""),
        "fault[0].delay",
        ProblemKind::MissingField,
    );
    one(
        &with_fault("media = \"deaf\""),
        "fault[0].media",
        ProblemKind::InvalidValue,
    );
    one(
        &with_fault("media = \"none\"\ndelay = \"1s\""),
        "fault[0].delay",
        ProblemKind::Conflict,
    );
    assert!(!problems(&with_fault("media = \"none\"\nstatus = 503")).is_empty());
}
