//! The SIP messages of a call as they were captured on each leg ([`TraceMessage`]), and the
//! call's ladder as plain text ([`ladder_text`]) for JUnit and terminals. The HTML ladder is
//! drawn from the same messages (`html::ladder`).
//!
//! Lanes name who sent and who received: `trunk` (the harness), `sut` (a system under test),
//! `target` (an external target), `gw1`, `gw2`. Times are microseconds on the run's epoch, the
//! clock of the attempts and the gateways' observations.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::CallRecord;

/// One SIP message on the wire, in plaintext (the decrypted content of a TLS stream).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TraceMessage {
    /// When it was sent (or, when only its receiver captured it, received), µs since the
    /// run's epoch.
    pub at_us: u64,
    /// When its receiver read it, when both ends captured it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at_us: Option<u64>,
    /// The sender's lane (`trunk`, `sut`, `target`, `gw1`, `gw2`).
    pub from: String,
    /// The receiver's lane.
    pub to: String,
    /// The sender's socket address.
    pub src: String,
    /// The receiver's socket address.
    pub dst: String,
    /// `tls` or `tcp`.
    pub transport: String,
    /// The whole message: start line, headers, empty line, body.
    pub text: String,
}

impl TraceMessage {
    /// The start line: `INVITE sip:911@gw1... SIP/2.0` or `SIP/2.0 200 OK`.
    pub fn start_line(&self) -> &str {
        self.text.lines().next().unwrap_or("").trim_end()
    }

    /// A short label for a ladder arrow: `INVITE 911`, `200 OK (INVITE)`, `ACK`.
    pub fn label(&self) -> String {
        let first = self.start_line();
        if let Some(rest) = first.strip_prefix("SIP/2.0 ") {
            match self
                .header("CSeq")
                .and_then(|c| c.split_whitespace().nth(1))
            {
                Some(m) => format!("{rest} ({m})"),
                None => rest.to_owned(),
            }
        } else {
            let mut parts = first.split_whitespace();
            let method = parts.next().unwrap_or("?");
            let user = parts
                .next()
                .and_then(|uri| uri.split_once(':').map(|(_, r)| r))
                .and_then(|r| r.split(['@', ';']).next())
                .filter(|u| !u.is_empty() && method == "INVITE");
            match user {
                Some(u) => format!("{method} {u}"),
                None => method.to_owned(),
            }
        }
    }

    /// The first value of header `name` (case-insensitive; compact forms are not mapped).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.text
            .lines()
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            .find_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
            })
    }

    /// The Call-ID (`i` compact form too).
    pub fn call_id(&self) -> Option<&str> {
        self.header("Call-ID").or_else(|| self.header("i"))
    }
}

/// The lanes a set of messages uses, in ladder order: trunk, the first hop (sut or target),
/// gw1, gw2, then any other.
pub fn lanes<'a>(messages: impl IntoIterator<Item = &'a TraceMessage>) -> Vec<String> {
    let mut lanes: Vec<String> = Vec::new();
    for m in messages {
        for l in [&m.from, &m.to] {
            if !lanes.contains(l) {
                lanes.push(l.clone());
            }
        }
    }
    let rank = |l: &str| match l {
        "trunk" => 0,
        "sut" | "target" => 1,
        "gw1" => 2,
        "gw2" => 3,
        _ => 4,
    };
    lanes.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
    lanes
}

/// Milliseconds with three decimals: `1234` µs -> `1.234`.
pub fn ms3(us: u64) -> String {
    format!("{}.{:03}", us / 1000, us % 1000)
}

/// The call's ladder as text: one line per message with its offset from the call's first
/// message, sender, receiver and label. Empty when the call has no trace.
pub fn ladder_text(call: &CallRecord) -> String {
    let Some(t0) = call.trace.iter().map(|m| m.at_us).min() else {
        return String::new();
    };
    let width = call
        .trace
        .iter()
        .map(|m| m.from.len().max(m.to.len()))
        .max()
        .unwrap_or(0);
    let mut s = format!(
        "ladder of call {} (dial {}, ani {}), ms from its first message:\n",
        call.call_id, call.dial, call.ani
    );
    for m in &call.trace {
        let arrow = format!("{:>width$} -> {:<width$}", m.from, m.to);
        s.push_str(&format!(
            "{:>10}  {arrow}  {}\n",
            format!("+{}", ms3(m.at_us.saturating_sub(t0))),
            m.label()
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn msg(at_us: u64, from: &str, to: &str, text: &str) -> TraceMessage {
        TraceMessage {
            at_us,
            received_at_us: None,
            from: from.into(),
            to: to.into(),
            src: "127.0.0.1:40000".into(),
            dst: "127.0.0.1:5061".into(),
            transport: "tls".into(),
            text: text.into(),
        }
    }

    #[test]
    fn labels_and_headers() {
        let inv = msg(
            0,
            "trunk",
            "gw1",
            "INVITE sip:911;phone-context=+1@gw1.example SIP/2.0\r\nCall-ID: a@b\r\nCSeq: 1 INVITE\r\n\r\n",
        );
        assert_eq!(inv.label(), "INVITE 911");
        assert_eq!(inv.call_id(), Some("a@b"));
        let ok = msg(
            5,
            "gw1",
            "trunk",
            "SIP/2.0 503 Service Unavailable\r\ni: a@b\r\nCSeq: 1 INVITE\r\n\r\n",
        );
        assert_eq!(ok.label(), "503 Service Unavailable (INVITE)");
        assert_eq!(ok.call_id(), Some("a@b"));
        let ack = msg(9, "trunk", "gw1", "ACK sip:gw1 SIP/2.0\r\n\r\n");
        assert_eq!(ack.label(), "ACK");
        assert_eq!(
            lanes([&ok, &inv, &msg(1, "sut", "gw2", "x")]),
            ["trunk", "sut", "gw1", "gw2"]
        );
    }

    #[test]
    fn text_ladder_has_offsets_and_arrows() {
        let call = CallRecord {
            call_id: "a@b".into(),
            dial: "911".into(),
            ani: "+13125550100".into(),
            trace: vec![
                msg(1_000, "trunk", "gw1", "INVITE sip:911@gw1 SIP/2.0\r\n\r\n"),
                msg(
                    3_500,
                    "gw1",
                    "trunk",
                    "SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\n\r\n",
                ),
            ],
            ..CallRecord::default()
        };
        let t = ladder_text(&call);
        assert!(
            t.contains("    +0.000  trunk -> gw1    INVITE 911\n"),
            "{t}"
        );
        assert!(
            t.contains("    +2.500    gw1 -> trunk  200 OK (INVITE)\n"),
            "{t}"
        );
        assert_eq!(ladder_text(&CallRecord::default()), "");
    }
}
