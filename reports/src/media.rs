//! What one end of a call's media saw: the RTP/SRTP it sent and received (ICD 4). The trunk
//! side records one per answered attempt, each mock gateway one per answered call (in the
//! BYE's observation), so both directions of a call are on record, each from its receiver.
//!
//! Times are microseconds from the 200 OK (the trunk: when it arrived; a gateway: when it
//! sent it).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One end of a call's media.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MediaLeg {
    /// The UDP socket this end sent from and listened on (`addr:port`).
    pub local: String,
    /// Where the peer's SDP said to send media (`addr:port` from its `c=` and `m=audio`).
    pub sdp_remote: String,
    /// Where this end actually sent (differs from `sdp_remote` only under a fault).
    pub sent_to: String,
    /// The SRTP suite it sent with; `None`: plain RTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_suite: Option<String>,
    /// The SRTP suite it expected from the peer; `None`: the peer's SDP negotiated plain RTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receive_suite: Option<String>,
    /// RTP packets sent.
    pub sent: u64,
    /// First packet sent, after the 200 OK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_sent_us: Option<u64>,
    /// Datagrams that arrived on `local`, whatever they were.
    pub datagrams: u64,
    /// Of those, RTP packets (version 2, a whole header).
    pub rtp: u64,
    /// RTP packets that authenticated and decrypted with the negotiated key (with plain RTP
    /// negotiated: every RTP packet).
    pub authenticated: u64,
    /// RTP packets that failed SRTP authentication.
    pub auth_failures: u64,
    /// Of the failures, packets whose payload reads as plain audio: RTP in the clear.
    pub clear: u64,
    /// Packets the sequence numbers say were sent but never authenticated here.
    pub lost: u64,
    /// Packets the sequence numbers say were sent (each SSRC from its first packet).
    pub expected: u64,
    /// RFC 3550 interarrival jitter at the end, in microseconds.
    pub jitter_us: u64,
    /// The highest RFC 3550 jitter estimate during the call, in microseconds.
    pub jitter_max_us: u64,
    /// First RTP packet received, after the 200 OK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_packet_us: Option<u64>,
    /// The source addresses packets came from (the first few), to compare with `sdp_remote`
    /// (symmetric RTP).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// SSRCs seen after the first.
    pub ssrc_changes: u32,
    /// How late this end's own 20 ms timer fired at worst: how starved the process running
    /// it was. Jitter and first-packet delay up to this much are the end's own, not the path's.
    #[serde(default)]
    pub timer_lag_max_us: u64,
    /// Milliseconds of received audio louder than the comfort tone.
    pub audible_ms: u64,
    /// DTMF digits heard in the received audio (the 933 read-back).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub digits: String,
    /// What this end played (`comfort tone`, `digits 13125550101`).
    pub played: String,
    /// The fault the end applied to its media, if any (a gateway's `[[fault]] kind = "media"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
}

impl MediaLeg {
    /// Whether `sources` holds only `sdp_remote` (symmetric RTP); `None` when nothing came.
    pub fn symmetric(&self) -> Option<bool> {
        (!self.sources.is_empty()).then(|| self.sources.iter().all(|s| *s == self.sdp_remote))
    }
}
