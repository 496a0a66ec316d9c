//! The trunk's SDP offer (ICD 4: SRTP on 30000-60000); its answer is judged by
//! [`crate::verdict::media`].
//!
//! The offer is what a Genesys BYOC trunk sends on a TLS trunk with SRTP required: one audio
//! stream on `RTP/SAVP`, G.711 µ-law and A-law (`0 8`) plus `telephone-event` (`101`), and one
//! RFC 4568 SDES line `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:<key>` whose key is 30 fresh
//! random bytes (16-byte master key + 14-byte salt) in 40 base64 characters.
//!
//! Nothing here touches a socket or a clock.

use std::fmt::Write as _;
use std::net::IpAddr;

pub use sip::sdp::{MEDIA_PORT_MAX, MEDIA_PORT_MIN, SDES_KEY_LEN as KEY_SALT_LEN};
pub use sip::sdp::{media_port, sdes_key as fresh_key};

pub use sip::sdp::SDES_SUITE as CRYPTO_SUITE;

/// The trunk's SDP offer with media on `local_ip`:`port` and a fresh SDES key (CRLF line ends).
pub fn offer(local_ip: IpAddr, port: u16) -> String {
    offer_with_key(local_ip, port, &fresh_key())
}

/// The trunk's SDP offer with media on `local_ip`:`port` and SDES key `key` (base64 of the 30
/// bytes): the key the trunk's media session sends with.
pub fn offer_with_key(local_ip: IpAddr, port: u16, key: &str) -> String {
    let family = match local_ip {
        IpAddr::V4(_) => "IP4",
        IpAddr::V6(_) => "IP6",
    };
    let session = fastrand::u32(1..u32::MAX);
    let mut s = String::with_capacity(400);
    let _ = write!(
        s,
        "v=0\r\n\
         o=e911-harness {session} {session} IN {family} {local_ip}\r\n\
         s=e911-harness\r\n\
         c=IN {family} {local_ip}\r\n\
         t=0 0\r\n\
         m=audio {port} RTP/SAVP 0 8 101\r\n\
         a=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:8 PCMA/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\n\
         a=fmtp:101 0-16\r\n\
         a=ptime:20\r\n\
         a=sendrecv\r\n\
         a=crypto:1 {CRYPTO_SUITE} inline:{key}\r\n",
    );
    s
}
