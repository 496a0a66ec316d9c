//! Media (ICD 4: SRTP with SDES keys on ports 30000-60000, G.711): the SDP answer the trunk got
//! ([`check_answer`], pure, every problem in plain words; empty means the answer fits) and the
//! offer as it reached the gateway ([`offer_problems`]).

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use reports::observation::MediaObservation;
use sip::sdp::{Crypto, MEDIA_PORT_MAX, MEDIA_PORT_MIN, SDES_KEY_LEN as KEY_SALT_LEN, SdpProblem};

use sip::sdp::SDES_SUITES;

/// Every problem of the offer a gateway received (as the gateway recorded it); empty when it
/// fits the interface.
pub fn offer_problems(media: &MediaObservation) -> Vec<String> {
    let mut problems = Vec::new();
    if media.offered_proto != "RTP/SAVP" {
        problems.push(format!(
            "profile {} instead of RTP/SAVP",
            media.offered_proto
        ));
    } else if !media.srtp {
        problems.push("no usable a=crypto (SDES) line".to_owned());
    }
    if !(MEDIA_PORT_MIN..=MEDIA_PORT_MAX).contains(&media.offered_port) {
        problems.push(format!(
            "media port {} outside {MEDIA_PORT_MIN}-{MEDIA_PORT_MAX}",
            media.offered_port
        ));
    }
    if media.codec.is_empty() {
        problems.push("no G.711 (PCMU/PCMA) offered".to_owned());
    }
    problems
}

/// The offer a gateway received, in one line: `RTP/SAVP port 40000, SDES, PCMU`.
pub fn describe_offer(media: &MediaObservation) -> String {
    format!(
        "{} port {}{}{}",
        media.offered_proto,
        media.offered_port,
        if media.srtp { ", SDES" } else { "" },
        if media.codec.is_empty() {
            String::new()
        } else {
            format!(", {}", media.codec)
        }
    )
}

/// Every problem of the gateway's SDP answer against the interface; empty when it conforms.
///
/// Checked: it is SDP (`v=` first); it has an audio stream; that stream is accepted (port not 0)
/// on a port in 30000-60000; it is `RTP/SAVP`; it carries an `a=crypto` line with a suite the
/// trunk offered and a 30-byte inline key; it selects G.711 (PCMU or PCMA); it has a connection
/// address (`c=` at session or media level).
pub fn check_answer(sdp: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let a = match sip::sdp::first_audio(sdp) {
        Ok(a) => a,
        Err(SdpProblem::NotSdp) => return vec!["answer is not SDP (no v= line first)".to_owned()],
        Err(SdpProblem::NoAudio) => return vec!["answer has no m=audio stream".to_owned()],
    };
    match a.port {
        None => problems.push("m=audio line has no valid port".to_owned()),
        Some(0) => problems.push("audio stream rejected (port 0)".to_owned()),
        Some(p) if !(MEDIA_PORT_MIN..=MEDIA_PORT_MAX).contains(&p) => problems.push(format!(
            "media port {p} outside {MEDIA_PORT_MIN}-{MEDIA_PORT_MAX}"
        )),
        Some(_) => {}
    }
    if a.proto != "RTP/SAVP" {
        problems.push(format!("media profile is {:?}, not RTP/SAVP", a.proto));
    }
    if a.crypto.is_empty() {
        problems.push("no a=crypto line (SRTP keys missing)".to_owned());
    } else if !a.crypto.iter().any(|c| crypto_problem(c).is_none()) {
        problems.extend(a.crypto.iter().filter_map(crypto_problem));
    }
    if a.first_g711().is_none() {
        problems.push(format!(
            "no G.711 (PCMU/PCMA) in answered formats [{}]",
            a.formats.join(" ")
        ));
    }
    if !a.has_connection {
        problems.push("no c= connection address".to_owned());
    }
    problems
}

/// What is wrong with one `a=crypto:` line, if anything.
fn crypto_problem(c: &Crypto<'_>) -> Option<String> {
    let (suite, key) = (c.suite, c.key_params);
    if suite.is_empty() || key.is_empty() {
        return Some(format!("malformed a=crypto:{}", c.raw));
    }
    if !SDES_SUITES.contains(&suite) {
        return Some(format!("a=crypto suite {suite} was not offered"));
    }
    let Some(inline) = key.strip_prefix("inline:") else {
        return Some(format!("a=crypto key {key:?} is not inline:"));
    };
    let b64 = inline.split('|').next().unwrap_or("");
    match B64.decode(b64) {
        Ok(bytes) if bytes.len() == KEY_SALT_LEN => None,
        Ok(bytes) => Some(format!(
            "a=crypto key is {} bytes, expected {KEY_SALT_LEN}",
            bytes.len()
        )),
        Err(_) => Some(format!("a=crypto key {b64:?} is not base64")),
    }
}

/// Standard base64; padding optional on input (SDES keys of 30 bytes have none anyway).
const B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::originate::sdp::{media_port, offer};
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    const GOOD: &str = "v=0\r\no=gw 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
        m=audio 40000 RTP/SAVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n\
        a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n";

    #[test]
    fn offer_has_savp_g711_dtmf_and_a_fresh_30_byte_key() {
        let a = offer(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)), 31000);
        let lines: Vec<&str> = a.split("\r\n").collect();
        assert_eq!(lines[0], "v=0");
        assert!(lines.contains(&"c=IN IP4 192.0.2.7"));
        assert!(lines.contains(&"m=audio 31000 RTP/SAVP 0 8 101"));
        assert!(lines.contains(&"a=rtpmap:0 PCMU/8000"));
        assert!(lines.contains(&"a=rtpmap:8 PCMA/8000"));
        assert!(lines.contains(&"a=rtpmap:101 telephone-event/8000"));
        assert!(a.ends_with("\r\n"));
        let crypto = lines
            .iter()
            .find_map(|l| l.strip_prefix("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"))
            .expect("crypto line");
        assert_eq!(crypto.len(), 40);
        assert_eq!(B64.decode(crypto).unwrap().len(), KEY_SALT_LEN);
        let b = offer(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)), 31000);
        assert_ne!(a, b, "keys and session ids must be fresh per offer");
        // The offer itself satisfies the answer checks (it is symmetric SDES).
        assert_eq!(check_answer(&a), Vec::<String>::new());
    }

    #[test]
    fn offer_on_ipv6_uses_ip6() {
        let a = offer(IpAddr::V6(Ipv6Addr::LOCALHOST), 30000);
        assert!(a.contains("c=IN IP6 ::1\r\n"));
        assert!(a.contains("IN IP6 ::1\r\n"));
    }

    #[test]
    fn media_port_is_even_and_in_range() {
        for _ in 0..1000 {
            let p = media_port();
            assert!((MEDIA_PORT_MIN..=MEDIA_PORT_MAX).contains(&p));
            assert_eq!(p % 2, 0);
        }
    }

    #[test]
    fn conforming_answer_has_no_problem() {
        assert!(check_answer(GOOD).is_empty(), "{:?}", check_answer(GOOD));
        // PCMA by rtpmap name on a dynamic payload type, c= at media level, LF line ends.
        let dynamic = "v=0\nt=0 0\nm=audio 30000 RTP/SAVP 96\nc=IN IP4 10.0.0.1\n\
            a=rtpmap:96 pcma/8000\na=crypto:2 AES_CM_128_HMAC_SHA1_32 \
            inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:32\n";
        assert!(
            check_answer(dynamic).is_empty(),
            "{:?}",
            check_answer(dynamic)
        );
    }

    #[test]
    fn plain_rtp_without_crypto_is_two_problems() {
        let sdp = GOOD
            .replace("RTP/SAVP", "RTP/AVP")
            .lines()
            .filter(|l| !l.starts_with("a=crypto"))
            .collect::<Vec<_>>()
            .join("\r\n");
        let p = check_answer(&sdp);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].contains("RTP/AVP"));
        assert!(p[1].contains("a=crypto"));
    }

    #[test]
    fn port_outside_range_and_rejected_stream_are_problems() {
        let p = check_answer(&GOOD.replace("m=audio 40000", "m=audio 20000"));
        assert_eq!(p, vec!["media port 20000 outside 30000-60000".to_owned()]);
        let p = check_answer(&GOOD.replace("m=audio 40000", "m=audio 60001"));
        assert_eq!(p.len(), 1);
        let p = check_answer(&GOOD.replace("m=audio 40000", "m=audio 0"));
        assert_eq!(p, vec!["audio stream rejected (port 0)".to_owned()]);
        let p = check_answer(&GOOD.replace("m=audio 40000", "m=audio 60000"));
        assert!(p.is_empty());
    }

    #[test]
    fn no_g711_is_a_problem() {
        let sdp = GOOD
            .replace("RTP/SAVP 0 101", "RTP/SAVP 18 101")
            .replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:18 G729/8000");
        let p = check_answer(&sdp);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with("no G.711"), "{p:?}");
        // Payload type 0 remapped to something else by rtpmap is not G.711 either.
        let sdp = GOOD.replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:0 G722/8000");
        assert_eq!(check_answer(&sdp).len(), 1);
    }

    #[test]
    fn bad_crypto_lines_are_named() {
        let short = GOOD.replace(
            "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz",
            "inline:Zm9vYmFy",
        );
        assert_eq!(
            check_answer(&short),
            vec!["a=crypto key is 6 bytes, expected 30".to_owned()]
        );
        let suite = GOOD.replace("AES_CM_128_HMAC_SHA1_80", "AEAD_AES_256_GCM");
        assert_eq!(
            check_answer(&suite),
            vec!["a=crypto suite AEAD_AES_256_GCM was not offered".to_owned()]
        );
        let malformed = GOOD.replace(
            "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz",
            "a=crypto:1",
        );
        assert_eq!(check_answer(&malformed).len(), 1);
        // A suite without its key is malformed, whatever the suite.
        let keyless = GOOD.replace(" inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz", "");
        assert_eq!(
            check_answer(&keyless),
            vec!["malformed a=crypto:1 AES_CM_128_HMAC_SHA1_80".to_owned()]
        );
    }

    #[test]
    fn an_offer_is_described_in_one_line() {
        let mut m = reports::observation::MediaObservation {
            offered_proto: "RTP/SAVP".into(),
            srtp: true,
            offered_port: 40000,
            codec: "PCMU".into(),
            crypto_suite: None,
            answer_port: 0,
            refused: None,
        };
        assert_eq!(describe_offer(&m), "RTP/SAVP port 40000, SDES, PCMU");
        m.offered_proto = "RTP/AVP".into();
        m.srtp = false;
        m.codec.clear();
        assert_eq!(describe_offer(&m), "RTP/AVP port 40000");
    }

    #[test]
    fn not_sdp_no_audio_and_no_connection() {
        assert_eq!(check_answer("").len(), 1);
        assert_eq!(check_answer("hello").len(), 1);
        let video = "v=0\r\nc=IN IP4 1.2.3.4\r\nm=video 40000 RTP/SAVP 96\r\n";
        assert_eq!(
            check_answer(video),
            vec!["answer has no m=audio stream".to_owned()]
        );
        let no_c = GOOD.replace("c=IN IP4 127.0.0.1\r\n", "");
        assert_eq!(
            check_answer(&no_c),
            vec!["no c= connection address".to_owned()]
        );
    }
}
