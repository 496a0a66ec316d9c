//! `certify --sut` with the media anchored on rtpengine behind Kamailio: the correct SBC
//! passes with two-way SRTP judged at both ends, and copies that break the relay (crypto
//! stripped toward the gateways, the answer not anchored) fail naming ICD 4.

use e2e::kamailio::{Edit, Misconfiguration};
use e2e::sbc::{SERIAL, certify_with};
use reports::Outcome;
use sip::transport::TransportKind;

/// The library files named, in that order.
fn library(names: &[&str]) -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/library");
    names
        .iter()
        .map(|n| dir.join(format!("{n}.toml")))
        .collect()
}

/// The scenarios the media-relay variants run: plain calls, the 933 read-back heard as
/// audio, a failover (media after it), and two seconds of two-way SRTP.
const MEDIA_SCENARIOS: [&str; 4] = [
    "basic-911",
    "basic-933-readback",
    "failover-503-retry",
    "media-two-way",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_correct_sbc_anchoring_media_on_rtpengine_passes_with_two_way_srtp() {
    let _one = SERIAL.lock().await;
    let run = certify_with(TransportKind::Tls, None, Vec::new(), None, true).await;
    assert_eq!(
        run.code,
        0,
        "the correct SBC with rtpengine passes:\n{}",
        run.explain()
    );
    assert!(run.failures().is_empty(), "{}", run.explain());
    // The media really went through rtpengine (a real SRTP peer: it authenticates what each
    // side sends and re-encrypts it for the other) and was judged, not skipped.
    let s = run
        .report
        .scenarios
        .iter()
        .find(|s| s.name == "media-two-way")
        .expect("media-two-way ran");
    for id in ["media.flow", "media.srtp", "media.ports", "media.quality"] {
        let c = s.checks.iter().find(|c| c.id == id).expect(id);
        assert_eq!(c.outcome, Outcome::Pass, "{c:?}");
    }
    let trunk = s.calls[0].attempts[0].media.as_ref().expect("trunk media");
    let gw = s
        .observations
        .iter()
        .find_map(|o| o.media_flow.as_ref())
        .expect("gateway media");
    assert_ne!(
        gw.sdp_remote, trunk.local,
        "the gateway sends to the relay, not the trunk"
    );
    assert_ne!(
        trunk.sdp_remote, gw.local,
        "the trunk sends to the relay, not the gateway"
    );
    assert!(
        trunk.authenticated > 80 && gw.authenticated > 80,
        "{trunk:?} {gw:?}"
    );
    let readback = run
        .report
        .scenarios
        .iter()
        .find(|s| s.name == "basic-933-readback")
        .and_then(|s| s.checks.iter().find(|c| c.id == "readback.audio"))
        .expect("read-back audio judged");
    assert_eq!(readback.outcome, Outcome::Pass, "{readback:?}");
    eprintln!("correct SBC with rtpengine: {:?}", run.report.totals);
}

/// Certifies `MEDIA_SCENARIOS` through the copy with `m`, media on rtpengine, and asserts
/// exit 1 with `expected` among the failing checks.
async fn media_fails_with(m: Misconfiguration, expected: &[(&str, &str)]) {
    let _one = SERIAL.lock().await;
    let run = certify_with(
        TransportKind::Tls,
        Some(m),
        library(&MEDIA_SCENARIOS),
        None,
        true,
    )
    .await;
    run.assert_fails_with(m.name, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sbc_that_strips_the_crypto_toward_the_gateways_fails_media_srtp() {
    media_fails_with(
        Misconfiguration {
            name: "crypto-stripped",
            edits: &[Edit {
                file: "kamailio.cfg",
                find: "rtpengine_offer(\"replace-origin replace-session-connection\");",
                replace: "rtpengine_offer(\"replace-origin replace-session-connection RTP/AVP\");",
            }],
        },
        &[("media.srtp", "ICD 4"), ("media.offer", "ICD 4")],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sbc_that_anchors_only_the_offer_gives_one_way_audio_and_fails_media_flow() {
    media_fails_with(
        Misconfiguration {
            name: "answer-not-anchored",
            edits: &[Edit {
                file: "kamailio.cfg",
                find: "rtpengine_answer(\"replace-origin replace-session-connection\");",
                replace: "xlog(\"L_INFO\", \"answer relayed as the gateway wrote it\\n\");",
            }],
        },
        &[("media.flow", "ICD 4")],
    )
    .await;
}
