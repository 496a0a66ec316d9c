//! Matching the gateways' observations to the call the originator placed, across whatever sits
//! in between. A proxy keeps the Call-ID; a B2BUA (most SBCs) replaces it, so every INVITE also
//! carries a correlation token header. An SBC that strips unknown headers leaves the fallback:
//! INVITEs for the same dialed number from the same ANI, seen while the call was being placed
//! (scenarios run one at a time, and each run takes the gateways' log before and after its call).

use reports::Observation;
use sip::Request;
use sip::message::SipHeaders;

pub use crate::evidence::TOKEN_HEADER;

/// A fresh token: 128 random bits in hex.
pub fn new_token() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

/// How a call's observations were found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Correlation {
    /// The token header arrived at a gateway.
    Token,
    /// The token was stripped but the Call-ID survived (a proxy).
    CallId,
    /// Neither survived: same dialed number and ANI during the call (a B2BUA stripping headers).
    DialAndAni,
    /// Nothing at any gateway looks like this call.
    None,
}

impl Correlation {
    /// A phrase for reports.
    pub fn describe(self) -> &'static str {
        match self {
            Correlation::Token => "by the correlation token header",
            Correlation::CallId => "by Call-ID (the token header was stripped)",
            Correlation::DialAndAni => {
                "by dialed number and ANI during the call (token and Call-ID were both replaced)"
            }
            Correlation::None => "no gateway observation matches this call",
        }
    }
}

type Matcher<'a> = dyn Fn(&Observation) -> bool + 'a;

/// The observations that belong to the call whose INVITE was `invite` (dialing `dial` from
/// `ani`), out of everything the gateways logged while it ran; in-dialog requests (ACK, BYE,
/// CANCEL) are included through the Call-ID the gateway saw on the matched INVITEs.
pub fn correlate<'a>(
    invite: &Request,
    dial: &str,
    ani: &str,
    observed: &'a [Observation],
) -> (Vec<&'a Observation>, Correlation) {
    let is_invite = |o: &Observation| o.method == "INVITE";
    let token = invite.headers.get_str(TOKEN_HEADER);
    let by_token = |o: &Observation| {
        token.is_some_and(|t| {
            o.headers
                .iter()
                .any(|(n, v)| n.eq_ignore_ascii_case(TOKEN_HEADER) && v.trim() == t)
        })
    };
    let call_id = invite.call_id();
    let by_call_id = |o: &Observation| call_id.is_some() && o.call_id.as_deref() == call_id;
    let wanted_ani = digits(ani);
    let by_dial_ani = |o: &Observation| {
        o.dialed.as_deref() == Some(scenarios::dialled_number(dial))
            && o.ani
                .as_ref()
                .is_some_and(|a| digits(&a.number) == wanted_ani)
    };
    let matchers: [(&Matcher<'_>, Correlation); 3] = [
        (&by_token, Correlation::Token),
        (&by_call_id, Correlation::CallId),
        (&by_dial_ani, Correlation::DialAndAni),
    ];
    for (matches, how) in matchers {
        let ids: Vec<String> = observed
            .iter()
            .filter(|o| is_invite(o) && matches(o))
            .filter_map(|o| o.call_id.clone())
            .collect();
        if !ids.is_empty() {
            let mine = observed
                .iter()
                .filter(|o| o.call_id.as_ref().is_some_and(|c| ids.contains(c)))
                .collect();
            return (mine, how);
        }
    }
    (Vec::new(), Correlation::None)
}

/// The digits of a number (E.164 `+1 312 555 0100` and `13125550100` compare equal).
fn digits(n: &str) -> String {
    n.chars().filter(char::is_ascii_digit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mock_gateway::AniObservation;
    use sip::Message;

    fn invite(token: Option<&str>) -> Request {
        let mut text = String::from(
            "INVITE sip:911@gw1 SIP/2.0\r\nVia: SIP/2.0/TLS t;branch=z9hG4bKx\r\n\
             From: <sip:+13125550100@t>;tag=f\r\nTo: <sip:911@gw1>\r\n\
             Call-ID: trunk-call\r\nCSeq: 1 INVITE\r\n",
        );
        if let Some(t) = token {
            text.push_str(&format!("{TOKEN_HEADER}: {t}\r\n"));
        }
        text.push_str("Content-Length: 0\r\n\r\n");
        match Message::parse(text.as_bytes()) {
            Ok(Message::Request(r)) => r,
            other => panic!("{other:?}"),
        }
    }

    fn obs(method: &str, call_id: &str, token: Option<&str>, ani: &str) -> Observation {
        let mut o = crate::test_support::observation();
        o.method = method.into();
        o.call_id = Some(call_id.into());
        o.dialed = Some("911".into());
        if let Some(t) = token {
            o.headers.push((TOKEN_HEADER.into(), t.into()));
        }
        o.ani = Some(AniObservation {
            number: ani.into(),
            source: "P-Asserted-Identity".into(),
            ..AniObservation::default()
        });
        o
    }

    #[test]
    fn token_wins_and_brings_the_gateway_side_dialog() {
        let log = vec![
            obs("INVITE", "b2bua-1", Some("tok"), "+13125550100"),
            obs("ACK", "b2bua-1", None, "+13125550100"),
            obs("BYE", "b2bua-1", None, "+13125550100"),
            obs("INVITE", "other", Some("nope"), "+13125550100"),
        ];
        let (mine, how) = correlate(&invite(Some("tok")), "911", "+13125550100", &log);
        assert_eq!(how, Correlation::Token);
        assert_eq!(mine.len(), 3);
        assert!(mine.iter().all(|o| o.call_id.as_deref() == Some("b2bua-1")));
    }

    #[test]
    fn call_id_when_the_token_is_stripped() {
        let log = vec![
            obs("INVITE", "trunk-call", None, "+13125550100"),
            obs("INVITE", "x", None, "+13125550100"),
        ];
        let (mine, how) = correlate(&invite(Some("tok")), "911", "+13125550100", &log);
        assert_eq!(how, Correlation::CallId);
        assert_eq!(mine.len(), 1);
    }

    #[test]
    fn dial_and_ani_when_both_are_replaced_and_nothing_for_a_stranger() {
        let log = vec![obs("INVITE", "b2bua-9", None, "13125550100")];
        let (mine, how) = correlate(&invite(Some("tok")), "911", "+1 312 555 0100", &log);
        assert_eq!(how, Correlation::DialAndAni);
        assert_eq!(mine.len(), 1);
        let log = vec![obs("INVITE", "b2bua-9", None, "+13125550199")];
        let (mine, how) = correlate(&invite(Some("tok")), "911", "+13125550100", &log);
        assert_eq!((mine.len(), how), (0, Correlation::None));
    }
}
