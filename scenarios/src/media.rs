//! Media on answered calls (ICD 4: two-way SRTP on ports 30000-60000): the `[media]` bounds a
//! scenario sets, the faults a gateway can put into its media (`[[fault]] kind = "media"`),
//! and the named findings the media checks report, which `expect.media_findings` declares
//! when a scenario injects one on purpose.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;

use crate::model::UnknownName;

/// `[media]`: the bounds `media.quality` judges against, and whether the scenario's calls
/// carry media when the run does (`certify` by default, `run`/`load` with `--media`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MediaSpec {
    /// `false`: this scenario's calls carry no media even when the run does.
    pub enabled: bool,
    /// Largest share of packets lost in either direction, in parts per million (`"1%"`).
    #[serde(rename = "loss_max", serialize_with = "crate::route::confidence_text")]
    pub loss_max_ppm: u32,
    /// Largest RFC 3550 interarrival jitter in either direction.
    #[serde(with = "humantime_serde")]
    pub jitter_max: Duration,
    /// Bound on the first packet of each direction after the 200 OK.
    #[serde(with = "humantime_serde")]
    pub first_packet_within: Duration,
}

impl Default for MediaSpec {
    /// Media on, at most 1% loss and 40 ms jitter, first packet within 500 ms.
    fn default() -> Self {
        MediaSpec {
            enabled: true,
            loss_max_ppm: 10_000,
            jitter_max: Duration::from_millis(40),
            first_packet_within: Duration::from_millis(500),
        }
    }
}

/// Parts per million as a percentage (`10000` -> `"1%"`, `2500` -> `"0.25%"`).
pub fn format_ppm(ppm: u32) -> String {
    crate::route::Percent(ppm).to_string()
}

/// A percentage from 0% to 100% with up to four decimals, in parts per million.
pub fn parse_share(s: &str) -> Option<u32> {
    let n = s.trim().strip_suffix('%')?.trim();
    let (whole, frac) = n.split_once('.').unwrap_or((n, ""));
    if whole.is_empty()
        || frac.len() > 4
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: u32 = whole.parse().ok().filter(|w| *w <= 100)?;
    let frac: u32 = format!("{frac:0<4}").parse().ok()?;
    let ppm = whole * 10_000 + frac;
    (ppm <= 1_000_000).then_some(ppm)
}

/// What a faulty gateway does to its media on an answered call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaFault {
    /// Sends nothing (one-way audio: the caller hears nothing).
    None,
    /// Sends to the SDP's port + 2 instead of the port the SDP names.
    WrongPort,
    /// Encrypts with a key other than the one its `a=crypto` announced.
    WrongKey,
    /// Sends plain RTP although SRTP was negotiated.
    PlainRtp,
    /// Starts sending this long after the 200 OK.
    Late(Duration),
}

impl MediaFault {
    /// The `media` spellings, in documentation order.
    pub const NAMES: [&'static str; 5] = ["none", "wrong-port", "wrong-key", "plain-rtp", "late"];

    /// The spelling used in scenario files.
    pub fn as_str(&self) -> &'static str {
        match self {
            MediaFault::None => "none",
            MediaFault::WrongPort => "wrong-port",
            MediaFault::WrongKey => "wrong-key",
            MediaFault::PlainRtp => "plain-rtp",
            MediaFault::Late(_) => "late",
        }
    }

    /// The words used in fault labels (`media none`, `media late 1500ms`).
    pub fn label(&self) -> String {
        match self {
            MediaFault::Late(d) => format!("late {}ms", d.as_millis()),
            other => other.as_str().to_owned(),
        }
    }
}

/// A named media finding: what a media check found wrong, by direction where it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MediaFinding {
    /// No RTP reached the trunk (gateway -> trunk): one-way audio (`media.flow`).
    SilentToTrunk,
    /// No RTP reached the gateway (trunk -> gateway) (`media.flow`).
    SilentToGateway,
    /// An end sent media somewhere other than the address and port its peer's SDP gave
    /// (`media.flow`).
    WrongDestination,
    /// Packets reaching the trunk failed SRTP authentication (`media.srtp`).
    UnauthenticatedToTrunk,
    /// Packets reaching the gateway failed SRTP authentication (`media.srtp`).
    UnauthenticatedToGateway,
    /// Plain RTP reached the trunk where SRTP was negotiated, or no SRTP was negotiated on the
    /// gateway -> trunk direction (`media.srtp`).
    ClearToTrunk,
    /// The same towards the gateway (`media.srtp`).
    ClearToGateway,
    /// The first packet reached the trunk later than `first_packet_within` (`media.quality`).
    LateToTrunk,
    /// The first packet reached the gateway later than `first_packet_within` (`media.quality`).
    LateToGateway,
    /// Loss above `loss_max` in a direction (`media.quality`).
    Loss,
    /// Jitter above `jitter_max` in a direction (`media.quality`).
    Jitter,
    /// A media port outside 30000-60000 on some leg (`media.ports`).
    PortRange,
}

impl MediaFinding {
    /// Every finding.
    pub const ALL: [MediaFinding; 12] = [
        MediaFinding::SilentToTrunk,
        MediaFinding::SilentToGateway,
        MediaFinding::WrongDestination,
        MediaFinding::UnauthenticatedToTrunk,
        MediaFinding::UnauthenticatedToGateway,
        MediaFinding::ClearToTrunk,
        MediaFinding::ClearToGateway,
        MediaFinding::LateToTrunk,
        MediaFinding::LateToGateway,
        MediaFinding::Loss,
        MediaFinding::Jitter,
        MediaFinding::PortRange,
    ];

    /// The spelling used in scenario files and reports.
    pub fn as_str(&self) -> &'static str {
        match self {
            MediaFinding::SilentToTrunk => "silent-to-trunk",
            MediaFinding::SilentToGateway => "silent-to-gateway",
            MediaFinding::WrongDestination => "wrong-destination",
            MediaFinding::UnauthenticatedToTrunk => "unauthenticated-to-trunk",
            MediaFinding::UnauthenticatedToGateway => "unauthenticated-to-gateway",
            MediaFinding::ClearToTrunk => "clear-to-trunk",
            MediaFinding::ClearToGateway => "clear-to-gateway",
            MediaFinding::LateToTrunk => "late-to-trunk",
            MediaFinding::LateToGateway => "late-to-gateway",
            MediaFinding::Loss => "loss",
            MediaFinding::Jitter => "jitter",
            MediaFinding::PortRange => "port-range",
        }
    }

    /// The check that reports it.
    pub fn check(&self) -> &'static str {
        match self {
            MediaFinding::SilentToTrunk
            | MediaFinding::SilentToGateway
            | MediaFinding::WrongDestination => "media.flow",
            MediaFinding::UnauthenticatedToTrunk
            | MediaFinding::UnauthenticatedToGateway
            | MediaFinding::ClearToTrunk
            | MediaFinding::ClearToGateway => "media.srtp",
            MediaFinding::LateToTrunk
            | MediaFinding::LateToGateway
            | MediaFinding::Loss
            | MediaFinding::Jitter => "media.quality",
            MediaFinding::PortRange => "media.ports",
        }
    }
}

impl fmt::Display for MediaFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MediaFinding {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MediaFinding::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| UnknownName::new("media finding", s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_parse_and_print() {
        assert_eq!(parse_share("0%"), Some(0));
        assert_eq!(parse_share("1%"), Some(10_000));
        assert_eq!(parse_share("0.25%"), Some(2_500));
        assert_eq!(parse_share("100%"), Some(1_000_000));
        for bad in ["", "1", "101%", "-1%", "1.00001%", "a%"] {
            assert_eq!(parse_share(bad), None, "{bad}");
        }
        for ppm in [0, 2_500, 10_000, 1_000_000, 1] {
            assert_eq!(parse_share(&format_ppm(ppm)), Some(ppm));
        }
    }

    #[test]
    fn findings_round_trip_and_name_their_check() {
        for f in MediaFinding::ALL {
            assert_eq!(f.as_str().parse::<MediaFinding>(), Ok(f));
            assert!(f.check().starts_with("media."));
        }
        assert!("one-way".parse::<MediaFinding>().is_err());
        assert_eq!(
            MediaFault::Late(Duration::from_millis(1500)).label(),
            "late 1500ms"
        );
    }
}
