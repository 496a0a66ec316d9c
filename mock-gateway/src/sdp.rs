//! The SDP answer to an INVITE's offer (RFC 3264 offer/answer, RFC 4568 SDES).
//!
//! The gateway accepts the first audio stream, echoes the offer's first G.711 choice (PCMU or
//! PCMA, by static payload type or by `a=rtpmap` name), keeps `telephone-event` when offered,
//! mirrors the direction, and for `RTP/SAVP` answers the first offered crypto suite it knows
//! with a fresh `inline:` key. The media port is an even port in 30000-60000 (ICD 4).
//!
//! An offer on plain `RTP/AVP` is answered on `RTP/AVP` (a real gateway interoperates) and the
//! [`MediaObservation`] says `srtp: false`, so the harness judges it; an `RTP/SAVP` offer
//! without a usable `a=crypto` line, or without G.711, cannot be answered ([`SdpError`]).

use std::fmt::Write as _;
use std::net::IpAddr;

use crate::error::SdpError;
use crate::observation::MediaObservation;

// The SDES suites the gateway answers, in order of preference when several are offered.
use sip::sdp::SDES_SUITES as SUITES;
use sip::sdp::{Audio, SdpProblem};
pub use sip::sdp::{MEDIA_PORT_MAX, MEDIA_PORT_MIN};

/// An SDP answer and what it negotiated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The SDP text (CRLF line ends).
    pub sdp: String,
    /// What was offered and answered.
    pub media: MediaObservation,
    /// What the media session needs to carry the call.
    pub negotiated: Negotiated,
}

/// What an offer/answer settled, for the media of the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// Where the offer asks media to be sent (its `c=` address and `m=audio` port); `None`
    /// when the address is not an IP literal.
    pub remote: Option<std::net::SocketAddr>,
    /// The G.711 payload type answered.
    pub payload_type: u8,
    /// The SDES suite answered; `None`: plain RTP.
    pub suite: Option<&'static str>,
    /// The offer's key parameters for that suite (`inline:...`): what the peer sends with.
    pub offer_key: Option<String>,
    /// The key written in the answer (base64): what the gateway sends with.
    pub own_key: Option<String>,
}

/// A media port and key chosen before the answer is written (a bound socket's port and the
/// key its session will use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reserved {
    /// The port of the bound socket.
    pub port: u16,
    /// The SDES key (base64 of 30 bytes).
    pub key: String,
}

/// The first audio stream of an offer, with a port and a protocol (or the reason why not).
fn parse_offer(offer: &str) -> Result<Audio<'_>, SdpError> {
    let a = sip::sdp::first_audio(offer).map_err(|e| match e {
        SdpProblem::NotSdp => SdpError::NotSdp,
        SdpProblem::NoAudio => SdpError::NoAudio,
    })?;
    if a.port.is_none() || a.proto.is_empty() {
        return Err(SdpError::BadMediaLine);
    }
    Ok(a)
}

/// Answers `offer` with media on `local_ip`; see the module docs for the rules.
pub fn sdp_answer(offer: &str, local_ip: IpAddr) -> Result<String, SdpError> {
    answer_offer(offer, local_ip).map(|a| a.sdp)
}

/// Like [`sdp_answer`], also saying what was negotiated.
pub fn answer_offer(offer: &str, local_ip: IpAddr) -> Result<Answer, SdpError> {
    answer_offer_with(offer, local_ip, None)
}

/// Like [`answer_offer`], with the port and key given (`None`: a random port and a fresh key).
pub fn answer_offer_with(
    offer: &str,
    local_ip: IpAddr,
    reserved: Option<&Reserved>,
) -> Result<Answer, SdpError> {
    let o = parse_offer(offer)?;
    let savp = o.proto.eq_ignore_ascii_case("RTP/SAVP");
    if !savp && !o.proto.eq_ignore_ascii_case("RTP/AVP") {
        return Err(SdpError::UnsupportedProto(o.proto.to_owned()));
    }
    let (pt, codec) = o.first_g711().ok_or(SdpError::NoG711)?;
    let dtmf = o.formats.iter().copied().find(|pt| {
        o.encoding(pt)
            .is_some_and(|e| e.eq_ignore_ascii_case("telephone-event"))
    });
    let crypto = if savp {
        let chosen = SUITES.iter().find_map(|s| {
            o.crypto
                .iter()
                .find(|c| c.suite.eq_ignore_ascii_case(s))
                .map(|c| (c.tag, *s, c.key_params))
        });
        Some(chosen.ok_or(SdpError::NoCrypto)?)
    } else {
        None
    };
    let port = reserved.map_or_else(sip::sdp::media_port, |r| r.port);
    let own_key = crypto.map(|_| reserved.map_or_else(sip::sdp::sdes_key, |r| r.key.clone()));
    let session = fastrand::u32(1..=u32::MAX);
    let proto = if savp { "RTP/SAVP" } else { "RTP/AVP" };
    // One buffer written in place (no intermediate strings); the answer is about 250 bytes.
    let mut sdp = String::with_capacity(384);
    write_head(&mut sdp, session, local_ip, port, proto, pt);
    if let Some(d) = dtmf {
        sdp.push(' ');
        sdp.push_str(d);
    }
    let _ = write!(sdp, "\r\na=rtpmap:{pt} {codec}/8000\r\n");
    if let Some(d) = dtmf {
        let _ = write!(
            sdp,
            "a=rtpmap:{d} telephone-event/8000\r\na=fmtp:{d} 0-15\r\n"
        );
    }
    if let Some(p) = o.ptime {
        let _ = write!(sdp, "a=ptime:{p}\r\n");
    }
    let direction = match o.direction.unwrap_or("sendrecv") {
        "sendonly" => "recvonly",
        "recvonly" => "sendonly",
        "inactive" => "inactive",
        _ => "sendrecv",
    };
    let _ = write!(sdp, "a={direction}\r\n");
    if let (Some((tag, suite, _)), Some(key)) = (crypto, &own_key) {
        let _ = write!(sdp, "a=crypto:{tag} {suite} inline:{key}\r\n");
    }
    let remote = o
        .connection
        .and_then(|a| a.parse::<IpAddr>().ok())
        .zip(o.port)
        .map(|(ip, port)| std::net::SocketAddr::new(ip, port));
    Ok(Answer {
        sdp,
        media: MediaObservation {
            offered_proto: o.proto.to_owned(),
            srtp: crypto.is_some(),
            offered_port: o.port.unwrap_or_default(),
            codec,
            crypto_suite: crypto.map(|(_, s, _)| s.to_owned()),
            answer_port: port,
            refused: None,
        },
        negotiated: Negotiated {
            remote,
            payload_type: pt.parse().unwrap_or(0),
            suite: crypto.map(|(_, s, _)| s),
            offer_key: crypto.map(|(_, _, k)| k.to_owned()),
            own_key,
        },
    })
}

/// The answer up to the `m=` line's first format: `v=`, `o=`, `s=`, `c=`, `t=` and `m=audio`,
/// written piece by piece (the IP address is formatted once, not twice through `write!`).
fn write_head(sdp: &mut String, session: u32, ip: IpAddr, port: u16, proto: &str, pt: &str) {
    let net = if ip.is_ipv4() { "IP4" } else { "IP6" };
    let mut session_text = String::with_capacity(10);
    let _ = write!(session_text, "{session}");
    let mut addr = String::with_capacity(40);
    let _ = write!(addr, "{ip}");
    for part in [
        "v=0\r\no=e911-gateway ",
        &session_text,
        " ",
        &session_text,
        " IN ",
        net,
        " ",
        &addr,
        "\r\ns=-\r\nc=IN ",
        net,
        " ",
        &addr,
        "\r\nt=0 0\r\nm=audio ",
    ] {
        sdp.push_str(part);
    }
    let _ = write!(sdp, "{port}");
    for part in [" ", proto, " ", pt] {
        sdp.push_str(part);
    }
}

/// What a refused offer looked like, for the observation.
pub fn refused_media(offer: &str, err: &SdpError) -> MediaObservation {
    let (proto, port) = parse_offer(offer)
        .map(|o| (o.proto.to_owned(), o.port.unwrap_or_default()))
        .unwrap_or_default();
    MediaObservation {
        offered_proto: proto,
        srtp: false,
        offered_port: port,
        codec: String::new(),
        crypto_suite: None,
        answer_port: 0,
        refused: Some(err.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCAL: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1));

    fn offer(proto: &str, fmts: &str, extra: &str) -> String {
        format!(
            "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
             m=audio 40000 {proto} {fmts}\r\n{extra}"
        )
    }

    const CRYPTO: &str =
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n";

    #[test]
    fn answers_savp_with_fresh_sdes_key_and_port_in_range() {
        let o = offer(
            "RTP/SAVP",
            "8 0 101",
            &format!("a=rtpmap:101 telephone-event/8000\r\n{CRYPTO}"),
        );
        let a = answer_offer(&o, LOCAL).unwrap();
        let m = a.sdp.lines().find(|l| l.starts_with("m=")).unwrap();
        let parts: Vec<_> = m.split(' ').collect();
        let port: u16 = parts[1].parse().unwrap();
        assert!((MEDIA_PORT_MIN..=MEDIA_PORT_MAX).contains(&port) && port.is_multiple_of(2));
        assert_eq!(&parts[2..], ["RTP/SAVP", "8", "101"]);
        assert!(a.sdp.contains("a=rtpmap:8 PCMA/8000\r\n"));
        let crypto = a.sdp.lines().find(|l| l.starts_with("a=crypto:")).unwrap();
        let key = crypto
            .strip_prefix("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:")
            .unwrap();
        assert_eq!(key.len(), 40);
        assert!(!o.contains(key), "the answer key must be fresh");
        assert!(a.sdp.contains("c=IN IP4 127.0.0.1\r\n"));
        assert_eq!(a.media.codec, "PCMA");
        assert!(a.media.srtp);
        assert_eq!(a.media.answer_port, port);
        assert_eq!(a.negotiated.remote, Some("10.0.0.1:40000".parse().unwrap()));
        assert_eq!(a.negotiated.payload_type, 8);
        assert_eq!(a.negotiated.suite, Some("AES_CM_128_HMAC_SHA1_80"));
        assert_eq!(
            a.negotiated.offer_key.as_deref(),
            Some("inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz")
        );
        assert_eq!(a.negotiated.own_key.as_deref(), Some(key));
        let r = Reserved {
            port: 30_002,
            key: "a".repeat(40),
        };
        let given = answer_offer_with(&o, LOCAL, Some(&r)).unwrap();
        assert!(given.sdp.contains(" 30002 RTP/SAVP "));
        assert!(given.sdp.contains(&format!("inline:{}\r\n", r.key)));
        let again = answer_offer(&o, LOCAL).unwrap();
        assert_ne!(again.sdp, a.sdp, "keys and session ids differ per answer");
    }

    #[test]
    fn echoes_pcmu_when_offered_first_and_by_rtpmap_name() {
        let a = answer_offer(&offer("RTP/SAVP", "18 0 8", CRYPTO), LOCAL).unwrap();
        assert_eq!(a.media.codec, "PCMU");
        let dynamic = offer(
            "RTP/SAVP",
            "96",
            &format!("a=rtpmap:96 pcma/8000\r\n{CRYPTO}"),
        );
        let a = answer_offer(&dynamic, LOCAL).unwrap();
        assert_eq!(a.media.codec, "PCMA");
        assert!(a.sdp.contains("m=audio ") && a.sdp.contains(" RTP/SAVP 96\r\n"));
    }

    #[test]
    fn picks_a_known_suite_and_keeps_its_tag() {
        let c = "a=crypto:1 AEAD_AES_256_GCM inline:x\r\na=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:y\r\n";
        let a = answer_offer(&offer("RTP/SAVP", "0", c), LOCAL).unwrap();
        assert!(a.sdp.contains("a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:"));
        assert_eq!(
            a.media.crypto_suite.as_deref(),
            Some("AES_CM_128_HMAC_SHA1_32")
        );
    }

    #[test]
    fn plain_rtp_is_answered_but_marked_not_srtp() {
        let a = answer_offer(&offer("RTP/AVP", "0", ""), LOCAL).unwrap();
        assert!(!a.media.srtp);
        assert!(a.sdp.contains(" RTP/AVP 0\r\n"));
        assert!(!a.sdp.contains("a=crypto"));
    }

    #[test]
    fn refuses_what_it_cannot_answer() {
        assert_eq!(
            answer_offer(&offer("RTP/SAVP", "0", ""), LOCAL).unwrap_err(),
            SdpError::NoCrypto
        );
        assert_eq!(
            answer_offer(&offer("RTP/SAVP", "18 9", CRYPTO), LOCAL).unwrap_err(),
            SdpError::NoG711
        );
        assert_eq!(answer_offer("hello", LOCAL).unwrap_err(), SdpError::NotSdp);
        assert_eq!(
            answer_offer("v=0\r\nm=video 5000 RTP/AVP 96\r\n", LOCAL).unwrap_err(),
            SdpError::NoAudio
        );
        assert!(matches!(
            answer_offer(&offer("UDP/TLS/RTP/SAVPF", "0", CRYPTO), LOCAL),
            Err(SdpError::UnsupportedProto(_))
        ));
        assert_eq!(
            answer_offer("v=0\r\nm=audio x RTP/AVP 0\r\n", LOCAL).unwrap_err(),
            SdpError::BadMediaLine
        );
    }

    #[test]
    fn mirrors_direction_and_uses_ipv6() {
        let o = offer("RTP/AVP", "0", "a=sendonly\r\n");
        let a = answer_offer(&o, "::1".parse().unwrap()).unwrap();
        assert!(a.sdp.contains("a=recvonly\r\n"));
        assert!(a.sdp.contains("c=IN IP6 ::1\r\n"));
    }

    #[test]
    fn head_reads_as_formatted() {
        for ip in [LOCAL, "2001:db8::9".parse().unwrap()] {
            let (session, port, proto, pt) = (4_000_000_001u32, 30_002u16, "RTP/SAVP", "0");
            let net = if ip.is_ipv4() { "IP4" } else { "IP6" };
            let mut head = String::new();
            write_head(&mut head, session, ip, port, proto, pt);
            assert_eq!(
                head,
                format!(
                    "v=0\r\no=e911-gateway {session} {session} IN {net} {ip}\r\ns=-\r\n\
                     c=IN {net} {ip}\r\nt=0 0\r\nm=audio {port} {proto} {pt}"
                )
            );
        }
    }
}
