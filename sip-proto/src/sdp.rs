//! Reading the audio stream of an SDP body (RFC 4566), as far as an E911 trunk and gateway need:
//! the first `m=audio` section with its port, protocol and formats, its `a=rtpmap`, `a=crypto`
//! (RFC 4568 SDES), direction and `a=ptime` attributes, and whether a connection address (`c=`)
//! applies to it. Both sides of a call use it: the gateway to answer an offer, the generator to
//! check an answer. Pure, allocation-light, never panics.

use std::fmt;

/// Lowest RTP port the E911 interface allows (ICD 4).
pub const MEDIA_PORT_MIN: u16 = 30000;
/// Highest RTP port the E911 interface allows (ICD 4).
pub const MEDIA_PORT_MAX: u16 = 60000;

/// Bytes of SDES keying material for the AES_CM_128 suites: 16-byte master key + 14-byte salt.
pub const SDES_KEY_LEN: usize = 30;

/// The SDES crypto suite the trunk offers (RFC 4568): AES counter mode, HMAC-SHA1 80-bit tag.
pub const SDES_SUITE: &str = "AES_CM_128_HMAC_SHA1_80";

/// The SDES suites an E911 media leg may use: the trunk's, and its 32-bit-tag variant.
pub const SDES_SUITES: [&str; 2] = [SDES_SUITE, "AES_CM_128_HMAC_SHA1_32"];

/// A random even RTP port in [`MEDIA_PORT_MIN`]..=[`MEDIA_PORT_MAX`] (RTCP takes the odd one),
/// drawn from `rng`.
pub fn media_port_with(rng: &mut fastrand::Rng) -> u16 {
    rng.u16(MEDIA_PORT_MIN / 2..=MEDIA_PORT_MAX / 2) * 2
}

/// A fresh SDES `inline:` key (RFC 4568 §6.1): [`SDES_KEY_LEN`] bytes drawn from `rng`, in
/// standard base64 (40 characters). fastrand is not a cryptographic generator: the harness sends
/// no media, so the key only has to be well-formed on the wire.
pub fn sdes_key_with(rng: &mut fastrand::Rng) -> String {
    use base64::Engine as _;
    let mut key = [0u8; SDES_KEY_LEN];
    rng.fill(&mut key);
    base64::engine::general_purpose::STANDARD.encode(key)
}

/// Why no audio stream could be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SdpProblem {
    /// The body does not start with `v=`.
    NotSdp,
    /// No `m=audio` section.
    NoAudio,
}

impl fmt::Display for SdpProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SdpProblem::NotSdp => "the body is not SDP (no v= line first)",
            SdpProblem::NoAudio => "no m=audio stream",
        })
    }
}

impl std::error::Error for SdpProblem {}

/// One `a=crypto:<tag> <suite> <key-params> [session-params]` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crypto<'a> {
    /// The tag.
    pub tag: &'a str,
    /// The suite (`AES_CM_128_HMAC_SHA1_80`); empty when the line is cut short.
    pub suite: &'a str,
    /// The key parameters (`inline:<base64>|...`); empty when absent.
    pub key_params: &'a str,
    /// The whole value after `a=crypto:`, for messages.
    pub raw: &'a str,
}

/// The first audio stream of an SDP body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audio<'a> {
    /// The port of `m=audio`, `None` when it is not a number.
    pub port: Option<u16>,
    /// The transport protocol (`RTP/SAVP`, `RTP/AVP`); empty when absent.
    pub proto: &'a str,
    /// Payload type numbers, in order.
    pub formats: Vec<&'a str>,
    /// `a=rtpmap` payload type and encoding (`0`, `PCMU/8000`).
    pub rtpmap: Vec<(&'a str, &'a str)>,
    /// `a=crypto` lines of the stream.
    pub crypto: Vec<Crypto<'a>>,
    /// `sendrecv`, `sendonly`, `recvonly` or `inactive`, at media level or else session level.
    pub direction: Option<&'a str>,
    /// `a=ptime` value.
    pub ptime: Option<&'a str>,
    /// A `c=` line applies (session level or in the stream).
    pub has_connection: bool,
    /// The connection address that applies (`c=IN IP4 <addr>`: the stream's, else the
    /// session's), as written; `None` without a readable `c=` line.
    pub connection: Option<&'a str>,
}

impl Audio<'_> {
    /// The encoding name (upper case) of payload type `pt`: its `a=rtpmap`, else the RFC 3551
    /// static table for G.711.
    pub fn encoding(&self, pt: &str) -> Option<String> {
        if let Some((_, enc)) = self.rtpmap.iter().find(|(p, _)| *p == pt) {
            return enc.split('/').next().map(str::to_ascii_uppercase);
        }
        match pt {
            "0" => Some("PCMU".into()),
            "8" => Some("PCMA".into()),
            _ => None,
        }
    }

    /// The first G.711 format (`PCMU` or `PCMA`) with its payload type, in offer order.
    pub fn first_g711(&self) -> Option<(&str, String)> {
        self.formats.iter().find_map(|pt| {
            self.encoding(pt)
                .filter(|e| e == "PCMU" || e == "PCMA")
                .map(|e| (*pt, e))
        })
    }
}

/// Reads the first `m=audio` section of `sdp` (CRLF or LF line ends).
pub fn first_audio(sdp: &str) -> Result<Audio<'_>, SdpProblem> {
    // Lines found with memchr (str::lines' char searcher costs more than the rest of the scan).
    let lines = memchr::memchr_iter(b'\n', sdp.as_bytes())
        .chain(std::iter::once(sdp.len()))
        .scan(0, |start, end| {
            let line = sdp.get(*start..end).unwrap_or("");
            *start = end + 1;
            Some(line)
        })
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.is_empty());
    if !lines.clone().next().is_some_and(|l| l.starts_with("v=")) {
        return Err(SdpProblem::NotSdp);
    }
    let mut session_connection = false;
    let mut session_address = None;
    let mut session_direction = None;
    let mut audio: Option<Audio<'_>> = None;
    for line in lines {
        if let Some(m) = line.strip_prefix("m=") {
            if audio.is_some() {
                break;
            }
            let mut parts = m.split_ascii_whitespace();
            if parts.next() != Some("audio") {
                continue;
            }
            audio = Some(Audio {
                port: parts
                    .next()
                    .and_then(|p| p.split('/').next())
                    .and_then(|p| p.parse().ok()),
                proto: parts.next().unwrap_or(""),
                formats: parts.collect(),
                direction: session_direction,
                has_connection: session_connection,
                connection: session_address,
                ..Audio::default()
            });
            continue;
        }
        if let Some(c) = line.strip_prefix("c=") {
            // `IN IP4 192.0.2.1` (a multicast `/ttl` suffix dropped).
            let address = c
                .split_ascii_whitespace()
                .nth(2)
                .and_then(|a| a.split('/').next());
            match audio.as_mut() {
                Some(a) => {
                    a.has_connection = true;
                    a.connection = address.or(a.connection);
                }
                None => {
                    session_connection = true;
                    session_address = address;
                }
            }
            continue;
        }
        let Some(attr) = line.strip_prefix("a=") else {
            continue;
        };
        let is_direction = matches!(attr, "sendrecv" | "sendonly" | "recvonly" | "inactive");
        match audio.as_mut() {
            None if is_direction => session_direction = Some(attr),
            None => {}
            Some(a) if is_direction => a.direction = Some(attr),
            Some(a) => {
                if let Some(v) = attr.strip_prefix("rtpmap:") {
                    if let Some((pt, enc)) = v.split_once(' ') {
                        a.rtpmap.push((pt.trim(), enc.trim()));
                    }
                } else if let Some(v) = attr.strip_prefix("crypto:") {
                    let mut p = v.split_ascii_whitespace();
                    a.crypto.push(Crypto {
                        tag: p.next().unwrap_or(""),
                        suite: p.next().unwrap_or(""),
                        key_params: p.next().unwrap_or(""),
                        raw: v,
                    });
                } else if let Some(v) = attr.strip_prefix("ptime:") {
                    a.ptime = Some(v.trim());
                }
            }
        }
    }
    audio.ok_or(SdpProblem::NoAudio)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
        a=sendonly\r\nm=video 5000 RTP/AVP 96\r\nm=audio 30000 RTP/SAVP 18 8 101\r\n\
        a=rtpmap:18 G729/8000\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n\
        a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n\
        a=crypto:2\r\nm=audio 40000 RTP/AVP 0\r\n";

    #[test]
    fn keys_and_ports_fit_the_interface() {
        let rng = &mut fastrand::Rng::with_seed(911);
        let k = sdes_key_with(rng);
        assert_eq!(k.len(), 40);
        assert_ne!(k, sdes_key_with(rng), "fresh every time");
        assert_eq!(
            k,
            sdes_key_with(&mut fastrand::Rng::with_seed(911)),
            "the same seed gives the same key"
        );
        for _ in 0..1000 {
            let p = media_port_with(rng);
            assert!(
                (MEDIA_PORT_MIN..=MEDIA_PORT_MAX).contains(&p) && p.is_multiple_of(2),
                "{p}"
            );
        }
    }

    #[test]
    fn reads_the_first_audio_stream_with_its_attributes() {
        let a = first_audio(OFFER).unwrap();
        assert_eq!(a.port, Some(30000));
        assert_eq!(a.proto, "RTP/SAVP");
        assert_eq!(a.formats, ["18", "8", "101"]);
        assert_eq!(a.encoding("18").as_deref(), Some("G729"));
        assert_eq!(a.first_g711(), Some(("8", "PCMA".to_owned())));
        assert_eq!(a.ptime, Some("20"));
        assert_eq!(a.direction, Some("sendonly"), "session level applies");
        assert!(a.has_connection);
        assert_eq!(a.connection, Some("127.0.0.1"));
        assert_eq!(a.crypto.len(), 2);
        assert_eq!(a.crypto[0].suite, "AES_CM_128_HMAC_SHA1_80");
        assert!(a.crypto[0].key_params.starts_with("inline:"));
        assert_eq!((a.crypto[1].tag, a.crypto[1].suite), ("2", ""));
    }

    #[test]
    fn not_sdp_no_audio_and_bad_ports_are_told_apart() {
        assert_eq!(first_audio("hello"), Err(SdpProblem::NotSdp));
        assert_eq!(first_audio(""), Err(SdpProblem::NotSdp));
        assert_eq!(
            first_audio("v=0\nm=video 1 RTP/AVP 96\n"),
            Err(SdpProblem::NoAudio)
        );
        let a = first_audio("v=0\nm=audio x RTP/AVP\n").unwrap();
        assert_eq!(
            (a.port, a.proto, a.has_connection),
            (None, "RTP/AVP", false)
        );
        let a = first_audio("v=0\nm=audio 0\nc=IN IP4 1.2.3.4\n").unwrap();
        assert_eq!((a.port, a.proto, a.has_connection), (Some(0), "", true));
        assert_eq!(a.connection, Some("1.2.3.4"));
        let a =
            first_audio("v=0\nc=IN IP6 ::1\nm=audio 9 RTP/AVP 0\nc=IN IP4 10.0.0.1/127\n").unwrap();
        assert_eq!(a.connection, Some("10.0.0.1"), "the stream's c= wins");
        let a = first_audio("v=0\nc=IN\nm=audio 9 RTP/AVP 0\n").unwrap();
        assert_eq!((a.has_connection, a.connection), (true, None));
    }
}
