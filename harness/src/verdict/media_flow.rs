//! Media that flowed (ICD 4: two-way SRTP on ports 30000-60000), judged from what each end
//! received: the trunk's [`MediaLeg`] on the answered attempt, the answering gateway's on its
//! BYE observation. Each direction is judged by its receiver, so a failure names the direction
//! and where the packets went.
//!
//! - `media.flow`: RTP arrived in both directions, each end sending where its peer's SDP said.
//! - `media.srtp`: every packet authenticated with the negotiated SDES suite; none in the clear.
//! - `media.ports`: every media port on both legs (the SDP each end received, as a system under
//!   test rewrote it, the sockets and the packets' sources) in 30000-60000.
//! - `media.quality`: loss, jitter and first-packet delay within the scenario's `[media]`.
//! - `readback.audio` (ICD 5.2): on a 933 with `expect.readback`, the number read back as
//!   audio reached the trunk.
//!
//! A check with nothing to judge is skipped with the reason, never passed: no media carried,
//! only one side observable (an external target), or no packet in a direction (see
//! `media.flow`). A scenario that injects a media fault declares its findings
//! (`expect.media_findings`); each check then passes only when it found exactly those.

use reports::{CheckResult, MediaLeg, Outcome};
use scenarios::{MediaFinding, Scenario};

use super::{CallEvidence, Setting, outcome, req, skipped};

/// The media checks, in report order.
pub const CHECKS: [&str; 4] = ["media.flow", "media.srtp", "media.ports", "media.quality"];

/// Why the media checks are skipped when the call carried no media.
pub const NO_MEDIA: &str = "the call carried no media: certify carries it unless --no-media; run and load take --media (or the scenario says [media] enabled = false)";

/// The shortest hold whose media is judged: 10 packets each way (the default hold).
pub const MIN_HOLD: std::time::Duration = std::time::Duration::from_millis(200);

/// The two ends' records of one answered call.
#[derive(Debug, Clone, Copy)]
pub struct Legs<'a> {
    /// The trunk's (the harness's own end).
    pub trunk: &'a MediaLeg,
    /// The answering gateway's; `None` when no gateway is observable.
    pub gateway: Option<&'a MediaLeg>,
}

/// One finding and what exactly was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The finding.
    pub finding: MediaFinding,
    /// What was seen: direction, counts, addresses.
    pub detail: String,
}

fn found(finding: MediaFinding, detail: String) -> Found {
    Found { finding, detail }
}

/// The port of an `addr:port` text.
fn port(addr: &str) -> Option<u16> {
    addr.rsplit(':').next()?.parse().ok()
}

fn describe_send(who: &str, leg: &MediaLeg) -> String {
    let mut s = format!(
        "{who} sent {} packets from {} to {}",
        leg.sent, leg.local, leg.sent_to
    );
    if leg.sent_to != leg.sdp_remote {
        s.push_str(&format!(" (the SDP it received said {})", leg.sdp_remote));
    }
    s
}

/// Every finding in the evidence.
pub fn findings(legs: &Legs<'_>, spec: &scenarios::MediaSpec) -> Vec<Found> {
    let mut out = Vec::new();
    let t = legs.trunk;
    let g = legs.gateway;
    // media.flow
    if t.rtp == 0 {
        let far = g.map_or_else(
            || "what the far end sent is not observable".to_owned(),
            |g| describe_send("the gateway", g),
        );
        out.push(found(
            MediaFinding::SilentToTrunk,
            format!(
                "gateway -> trunk: no RTP arrived at the trunk's {}; {far}",
                t.local
            ),
        ));
    }
    if let Some(g) = g
        && g.rtp == 0
    {
        out.push(found(
            MediaFinding::SilentToGateway,
            format!(
                "trunk -> gateway: no RTP arrived at the gateway's {}; {}",
                g.local,
                describe_send("the trunk", t)
            ),
        ));
    }
    for (who, leg) in [("the trunk", Some(t)), ("the gateway", g)] {
        if let Some(leg) = leg
            && leg.sent > 0
            && leg.sent_to != leg.sdp_remote
        {
            out.push(found(
                MediaFinding::WrongDestination,
                describe_send(who, leg),
            ));
        }
    }
    // media.srtp, by receiver.
    for (dir, leg, clear, unauth) in [
        (
            "gateway -> trunk",
            Some(t),
            MediaFinding::ClearToTrunk,
            MediaFinding::UnauthenticatedToTrunk,
        ),
        (
            "trunk -> gateway",
            g,
            MediaFinding::ClearToGateway,
            MediaFinding::UnauthenticatedToGateway,
        ),
    ] {
        let Some(leg) = leg else { continue };
        if leg.receive_suite.is_none() {
            out.push(found(
                clear,
                format!("{dir}: the SDP the receiver got negotiated plain RTP (no a=crypto), {} packets arrived unencrypted", leg.rtp),
            ));
            continue;
        }
        let suite = leg.receive_suite.as_deref().unwrap_or_default();
        if leg.clear > 0 {
            out.push(found(
                clear,
                format!("{dir}: {} of {} packets arrived in the clear (plain RTP) where {suite} was negotiated", leg.clear, leg.rtp),
            ));
        }
        if leg.auth_failures > leg.clear {
            out.push(found(
                unauth,
                format!(
                    "{dir}: {} of {} packets failed {suite} authentication with the negotiated key",
                    leg.auth_failures - leg.clear,
                    leg.rtp
                ),
            ));
        }
    }
    // media.ports: every port of both legs.
    let mut bad = Vec::new();
    let mut look = |what: String, addr: &str| {
        if let Some(p) = port(addr)
            && p != 0
            && !(sip::sdp::MEDIA_PORT_MIN..=sip::sdp::MEDIA_PORT_MAX).contains(&p)
        {
            bad.push(format!("{what} {addr}"));
        }
    };
    look("the trunk's own socket".into(), &t.local);
    look(
        "the answer's address as the trunk received it".into(),
        &t.sdp_remote,
    );
    for s in &t.sources {
        look("packets reached the trunk from".into(), s);
    }
    if let Some(g) = g {
        look("the gateway's own socket".into(), &g.local);
        look(
            "the offer's address as the gateway received it".into(),
            &g.sdp_remote,
        );
        for s in &g.sources {
            look("packets reached the gateway from".into(), s);
        }
    }
    if !bad.is_empty() {
        out.push(found(
            MediaFinding::PortRange,
            format!("outside 30000-60000: {}", bad.join("; ")),
        ));
    }
    // media.quality, per direction that carried packets. Jitter and delay the harness's own
    // timers caused (a starved process: its timer fired late) are allowed for, up to the worst
    // lateness either end of the direction saw.
    let within = micros(spec.first_packet_within);
    let jitter_max = micros(spec.jitter_max);
    for (dir, leg, sender, late) in [
        ("gateway -> trunk", Some(t), g, MediaFinding::LateToTrunk),
        ("trunk -> gateway", g, Some(t), MediaFinding::LateToGateway),
    ] {
        let Some(leg) = leg.filter(|l| l.authenticated > 0) else {
            continue;
        };
        let own = leg
            .timer_lag_max_us
            .max(sender.map_or(0, |s| s.timer_lag_max_us));
        let allowance = if own > 0 {
            format!(
                " (+{:.1} ms: the harness's own timers ran that late)",
                own as f64 / 1000.0
            )
        } else {
            String::new()
        };
        if let Some(first) = leg.first_packet_us
            && first > within.saturating_add(own)
        {
            out.push(found(
                late,
                format!(
                    "{dir}: first packet {} ms after the 200 OK, bound {} ms{allowance}",
                    first / 1000,
                    within / 1000
                ),
            ));
        }
        let loss_ppm = leg.lost.saturating_mul(1_000_000) / leg.expected.max(1);
        if loss_ppm > u64::from(spec.loss_max_ppm) {
            out.push(found(
                MediaFinding::Loss,
                format!(
                    "{dir}: {} of {} packets lost ({}), bound {}",
                    leg.lost,
                    leg.expected,
                    scenarios::media::format_ppm(u32::try_from(loss_ppm).unwrap_or(u32::MAX)),
                    scenarios::media::format_ppm(spec.loss_max_ppm)
                ),
            ));
        }
        if leg.jitter_max_us > jitter_max.saturating_add(own) {
            out.push(found(
                MediaFinding::Jitter,
                format!(
                    "{dir}: jitter reached {:.1} ms, bound {} ms{allowance}",
                    leg.jitter_max_us as f64 / 1000.0,
                    jitter_max / 1000
                ),
            ));
        }
    }
    out
}

fn micros(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// What each direction carried, for a passing message.
fn summary(legs: &Legs<'_>) -> String {
    let one = |dir: &str, l: &MediaLeg| {
        format!(
            "{dir}: {} packets authenticated ({}), {} lost, jitter {:.1} ms, first after {} ms",
            l.authenticated,
            l.receive_suite.as_deref().unwrap_or("plain RTP"),
            l.lost,
            l.jitter_max_us as f64 / 1000.0,
            l.first_packet_us.unwrap_or(0) / 1000
        )
    };
    let mut s = one("gateway -> trunk", legs.trunk);
    if let Some(g) = legs.gateway {
        s = format!("{}; {s}", one("trunk -> gateway", g));
    }
    // Symmetric RTP is recorded, not required: say when packets came from elsewhere.
    for (who, l) in [
        ("the trunk", Some(legs.trunk)),
        ("the gateway", legs.gateway),
    ] {
        if let Some(l) = l
            && l.symmetric() == Some(false)
        {
            s.push_str(&format!(
                "; packets reached {who} from {} while its peer's SDP said {} (asymmetric RTP)",
                l.sources.join(", "),
                l.sdp_remote
            ));
        }
    }
    s
}

/// The answered attempt's two media records, or why the media checks cannot judge.
fn legs<'a>(setting: &Setting, c: &CallEvidence<'a>) -> Result<Option<Legs<'a>>, Box<CheckResult>> {
    let Some(answered) = c.call.attempts.iter().find(|a| a.end.is_answered()) else {
        return Ok(None);
    };
    let Some(trunk) = answered.media.as_ref() else {
        return Err(Box::new(skipped("media.*", req::MEDIA, None, NO_MEDIA)));
    };
    if !setting.topology.has_gateways() {
        return Ok(Some(Legs {
            trunk,
            gateway: None,
        }));
    }
    let gateway = c
        .observations
        .unwrap_or_default()
        .iter()
        .filter(|o| {
            o.gateway == answered.gateway || setting.topology != crate::evidence::Topology::Direct
        })
        .filter_map(|o| o.media_flow.as_ref())
        .next_back();
    match gateway {
        Some(g) => Ok(Some(Legs {
            trunk,
            gateway: Some(g),
        })),
        None => Err(Box::new(outcome(
            "media.*",
            req::MEDIA,
            Outcome::Error,
            None,
            None,
            "no gateway recorded media for this call: its BYE never reached a gateway, so what the gateway received is unknown",
        ))),
    }
}

/// The media checks of one call: none for a call nobody answered.
pub fn judge(scenario: &Scenario, setting: &Setting, c: &CallEvidence<'_>) -> Vec<CheckResult> {
    let hold = scenario.call.hold;
    let legs = match legs(setting, c) {
        // Answered after the caller hung up: the trunk hangs up at once, with no hold to carry
        // media (`call.cancel` judges that answer).
        Ok(Some(_)) if c.call.abandoned_at_us().is_some() => Err(Box::new(skipped(
            "media.*",
            req::MEDIA,
            None,
            "the call was answered after the caller had hung up (an abandoned call, see call.cancel): the trunk hung up at once, so there was no media to judge",
        ))),
        Ok(Some(_)) if hold < MIN_HOLD => Err(Box::new(skipped(
            "media.*",
            req::MEDIA,
            None,
            &format!(
                "the call was held {}, too short to judge its media: hold at least {} (the default)",
                humantime::format_duration(hold),
                humantime::format_duration(MIN_HOLD)
            ),
        ))),
        other => other,
    };
    let legs = match legs {
        Ok(Some(l)) => l,
        Ok(None) => return Vec::new(),
        Err(why) => {
            return CHECKS
                .iter()
                .map(|id| CheckResult {
                    id: (*id).to_owned(),
                    ..(*why).clone()
                })
                .collect();
        }
    };
    let all = findings(&legs, &scenario.media);
    let expected = scenario.expect.media_findings.clone().unwrap_or_default();
    CHECKS
        .iter()
        .map(|id| judge_one(id, &legs, &all, &expected))
        .collect()
}

fn names(fs: &[MediaFinding]) -> String {
    if fs.is_empty() {
        return "none".to_owned();
    }
    fs.iter()
        .map(MediaFinding::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why `id` has nothing to judge when it found nothing, if so.
fn unjudged(id: &str, legs: &Legs<'_>) -> Option<String> {
    let Some(g) = legs.gateway else {
        return Some(format!(
            "only the trunk's side is observable ({}); what the far end received needs embedded gateways",
            summary(legs)
        ));
    };
    let silent: Vec<&str> = [("gateway -> trunk", legs.trunk), ("trunk -> gateway", g)]
        .into_iter()
        .filter(|(_, l)| l.authenticated == 0)
        .map(|(d, _)| d)
        .collect();
    (matches!(id, "media.srtp" | "media.quality") && !silent.is_empty()).then(|| {
        format!(
            "no authenticated packet {} to judge (see media.flow)",
            silent.join(" or ")
        )
    })
}

fn judge_one(id: &str, legs: &Legs<'_>, all: &[Found], expected: &[MediaFinding]) -> CheckResult {
    let mine: Vec<&Found> = all.iter().filter(|f| f.finding.check() == id).collect();
    let mut got: Vec<MediaFinding> = mine.iter().map(|f| f.finding).collect();
    got.sort();
    got.dedup();
    let mut want: Vec<MediaFinding> = expected
        .iter()
        .copied()
        .filter(|f| f.check() == id)
        .collect();
    want.sort();
    let details = mine
        .iter()
        .map(|f| format!("{}: {}", f.finding, f.detail))
        .collect::<Vec<_>>()
        .join("; ");
    if got.is_empty()
        && want.is_empty()
        && let Some(why) = unjudged(id, legs)
    {
        return skipped(id, req::MEDIA, Some("no finding".into()), &why);
    }
    let pass = got == want;
    let message = match (pass, want.is_empty()) {
        (true, true) => format!("no finding: {}", summary(legs)),
        (true, false) => format!("found exactly the expected media findings: {details}"),
        (false, _) if got.is_empty() => format!(
            "expected media findings {} but found none: {}",
            names(&want),
            summary(legs)
        ),
        (false, true) => details.clone(),
        (false, false) => format!("expected media findings {}, found: {details}", names(&want)),
    };
    outcome(
        id,
        req::MEDIA,
        if pass { Outcome::Pass } else { Outcome::Fail },
        Some(names(&want)),
        Some(names(&got)),
        message,
    )
}

/// `readback.audio` (ICD 5.2): on a 933 call expecting a read-back, with media, the digits of
/// the number heard in the gateway's audio.
pub fn readback_audio(scenario: &Scenario, c: &CallEvidence<'_>) -> Option<CheckResult> {
    let rb = scenario.expect.readback.as_ref()?;
    let want_number = rb.number.clone().unwrap_or_else(|| c.call.ani.clone());
    let want: String = want_number.chars().filter(char::is_ascii_digit).collect();
    let id = "readback.audio";
    let answered = c.call.attempts.iter().find(|a| a.end.is_answered())?;
    let Some(leg) = answered.media.as_ref() else {
        return Some(skipped(id, req::NUMBER_PLAN, Some(want), NO_MEDIA));
    };
    // The digits as the gateway plays them, after up to one packet interval and the path's delay.
    let needed =
        std::time::Duration::from_millis(media::Program::readback(&want).digits_ms() + 300);
    if scenario.call.hold < needed {
        let why = format!(
            "the call was held {}, shorter than the read-back of {} digits ({}): hold at least that long to hear it",
            humantime::format_duration(scenario.call.hold),
            want.len(),
            humantime::format_duration(needed)
        );
        return Some(skipped(id, req::NUMBER_PLAN, Some(want), &why));
    }
    let pass = !want.is_empty() && leg.digits == want;
    let message = if pass {
        format!(
            "the read-back was heard: digits {} ({} ms of audio)",
            leg.digits, leg.audible_ms
        )
    } else if leg.audible_ms == 0 {
        format!(
            "no read-back audio reached the trunk ({} packets authenticated, no audible frame); expected the digits {want}",
            leg.authenticated
        )
    } else {
        format!(
            "heard digits {:?} in {} ms of audio, expected {want}",
            leg.digits, leg.audible_ms
        )
    };
    Some(outcome(
        id,
        req::NUMBER_PLAN,
        if pass { Outcome::Pass } else { Outcome::Fail },
        Some(want),
        Some(leg.digits.clone()),
        message,
    ))
}

#[cfg(test)]
#[path = "media_flow_tests.rs"]
mod tests;
