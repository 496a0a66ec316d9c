//! A call's SIP ladder and failover timeline, as HTML that needs no script.
//!
//! The ladder is a grid: a time column, then one column per lane whose left edge is the lane's
//! lifeline. A message is an arrow from its sender's lifeline to its receiver's, labelled with
//! its method or status; it is the `<summary>` of a `<details>` holding the full message text.
//! Notes sit on the lane they concern: the TLS session of each leg, a fault a gateway injected,
//! a connection that failed before any message.

use std::collections::HashSet;
use std::fmt::Write as _;

use super::esc;
use crate::model::{CallRecord, ScenarioReport};
use crate::observation::Observation;
use crate::trace::{TraceMessage, lanes, ms3};

/// One row of the ladder.
enum Row<'a> {
    Message(&'a TraceMessage),
    Note {
        at_us: u64,
        lane: String,
        text: String,
        class: &'static str,
    },
}

impl Row<'_> {
    fn at(&self) -> u64 {
        match self {
            Row::Message(m) => m.at_us,
            Row::Note { at_us, .. } => *at_us,
        }
    }
}

/// The ladder of `call` (with the notes `scenario`'s observations give it), or nothing when
/// the call has no trace and no attempt to say anything about.
pub fn render(h: &mut String, scenario: &ScenarioReport, call: &CallRecord) {
    let ids: HashSet<&str> = call
        .trace
        .iter()
        .filter_map(TraceMessage::call_id)
        .chain(call.attempts.iter().map(|a| a.call_id.as_str()))
        .filter(|c| !c.is_empty())
        .collect();
    let mut rows: Vec<Row<'_>> = call.trace.iter().map(Row::Message).collect();
    let first_hop = call
        .trace
        .iter()
        .find(|m| m.from == "trunk")
        .map(|m| m.to.clone());
    for a in &call.attempts {
        // Reports written before attempts carried their times have nothing to place.
        let Some(at) = a.started_at_us.or(a.invite_at_us) else {
            continue;
        };
        let lane = first_hop.clone().unwrap_or_else(|| a.gateway.clone());
        if let Some(t) = &a.tls {
            rows.push(Row::Note {
                at_us: at,
                lane: "trunk".into(),
                text: format!("TLS to {lane}: {}", crate::describe::tls_text(t)),
                class: "tls",
            });
        }
        if a.invite_at_us.is_none()
            && let Some(e) = &a.error
        {
            rows.push(Row::Note {
                at_us: at,
                lane: "trunk".into(),
                text: format!("{} {}: {e}", a.gateway, a.target),
                class: "bad",
            });
        }
    }
    let single = scenario.calls.len() == 1;
    let mut tls_seen: HashSet<(String, u64)> = HashSet::new();
    for o in &scenario.observations {
        let mine = o.call_id.as_deref().is_some_and(|c| ids.contains(c))
            || (single && o.is_connection_event());
        if !mine {
            continue;
        }
        if let Some(t) = &o.tls
            && tls_seen.insert((o.gateway.clone(), o.conn))
        {
            rows.push(Row::Note {
                at_us: o.at_us,
                lane: o.gateway.clone(),
                text: format!("TLS at {}: {}", o.gateway, crate::describe::tls_text(t)),
                class: "tls",
            });
        }
        if let Some(text) = fault_note(o) {
            rows.push(Row::Note {
                at_us: o.at_us,
                lane: o.gateway.clone(),
                text,
                class: "bad",
            });
        }
    }
    if rows.is_empty() {
        return;
    }
    rows.sort_by_key(Row::at);
    let mut lane_names = lanes(&call.trace);
    for r in &rows {
        if let Row::Note { lane, .. } = r
            && !lane_names.contains(lane)
        {
            lane_names.push(lane.clone());
        }
    }
    let t0 = rows.first().map(Row::at).unwrap_or(0);
    let col = |lane: &str| lane_names.iter().position(|l| l == lane).unwrap_or(0) + 2;
    let _ = write!(
        h,
        "<div class=\"ladder\" style=\"--lanes:{}\"><div class=\"row head\"><span class=\"t\" style=\"transform:none;border:0\">ms</span>",
        lane_names.len()
    );
    for (i, l) in lane_names.iter().enumerate() {
        let _ = write!(h, "<span style=\"grid-column:{}\">{}</span>", i + 2, esc(l));
    }
    h.push_str("</div>");
    let lifelines = |h: &mut String| {
        for i in 0..lane_names.len() {
            let _ = write!(
                h,
                "<span class=\"life\" style=\"grid-column:{}\"></span>",
                i + 2
            );
        }
    };
    for r in &rows {
        let offset = format!("+{}", ms3(r.at().saturating_sub(t0)));
        match r {
            Row::Message(m) => {
                let (a, b) = (col(&m.from), col(&m.to));
                let (dir, span) = if a <= b {
                    ("right", format!("{a}/{}", b.max(a + 1)))
                } else {
                    ("left", format!("{b}/{a}"))
                };
                let kind = match m.start_line().strip_prefix("SIP/2.0 ") {
                    Some(s) if s.starts_with(['3', '4', '5', '6']) => " resp fail",
                    Some(_) => " resp",
                    None => "",
                };
                let _ = write!(h, "<details><summary><span class=\"t\">{offset}</span>");
                lifelines(h);
                let _ = write!(
                    h,
                    "<span class=\"arrow {dir}{kind}\" style=\"grid-column:{span}\" title=\"{}\">{}</span></summary>",
                    esc(m.start_line()),
                    esc(&m.label())
                );
                let received = m
                    .received_at_us
                    .map(|r| format!(", received +{}", ms3(r.saturating_sub(t0))))
                    .unwrap_or_default();
                let _ = write!(
                    h,
                    "<div class=\"muted\">{} {} &rarr; {} {} over {}{received}</div><pre>{}</pre></details>",
                    esc(&m.from),
                    esc(&m.src),
                    esc(&m.to),
                    esc(&m.dst),
                    esc(&m.transport.to_uppercase()),
                    esc(m.text.trim_end())
                );
            }
            Row::Note {
                lane, text, class, ..
            } => {
                let _ = write!(h, "<div class=\"row\"><span class=\"t\">{offset}</span>");
                lifelines(h);
                let _ = write!(
                    h,
                    "<span class=\"note {class}\" style=\"grid-column:{}/-1\">{}</span></div>",
                    col(lane),
                    esc(text)
                );
            }
        }
    }
    h.push_str("</div>");
}

/// What a gateway did that the scenario asked for (a fault) or that went wrong on accept.
fn fault_note(o: &Observation) -> Option<String> {
    let what = if o.method.is_empty() {
        "connection"
    } else {
        o.method.as_str()
    };
    match (&o.fault, &o.tls_error) {
        (Some(f), Some(e)) => Some(format!(
            "{}: fault {f} on {what}; TLS refused: {e}",
            o.gateway
        )),
        (Some(f), None) => Some(format!("{}: fault injected on {what}: {f}", o.gateway)),
        (None, Some(e)) => Some(format!("{}: TLS handshake refused: {e}", o.gateway)),
        (None, None) => None,
    }
}

/// The failover timeline of a call that tried more than one gateway: one bar per attempt from
/// its start to its end, positioned on the call's time span; nothing for a one-attempt call.
pub fn timeline(h: &mut String, call: &CallRecord) {
    if call.attempts.len() < 2 {
        return;
    }
    let spans: Vec<(u64, u64)> = call
        .attempts
        .iter()
        .map(|a| {
            let s = a.started_at_us.or(a.invite_at_us).unwrap_or(0);
            (s, a.ended_at_us.unwrap_or(s).max(s))
        })
        .collect();
    let t0 = spans.iter().map(|s| s.0).min().unwrap_or(0);
    let t1 = spans.iter().map(|s| s.1).max().unwrap_or(t0).max(t0 + 1);
    let pct = |t: u64| (t - t0) as f64 * 100.0 / (t1 - t0) as f64;
    let _ = write!(
        h,
        "<div class=\"timeline\"><div class=\"muted\">Failover timeline: {} ms from the first attempt's start to the last one's end</div>",
        ms3(t1 - t0)
    );
    for (a, (s, e)) in call.attempts.iter().zip(&spans) {
        let class = match (a.status, &a.error) {
            (Some(st), _) if (200..300).contains(&st) => "answered",
            (Some(_), _) => "rejected",
            (None, _) if a.invite_at_us.is_none() && a.started_at_us == a.ended_at_us => "skipped",
            _ => "failed",
        };
        let what = crate::describe::attempt_result(a);
        let _ = write!(
            h,
            "<div class=\"bar\"><span class=\"lab\">{}</span><span class=\"seg {class}\" style=\"left:calc(5em + {:.2}% * 0.85);width:calc({:.2}% * 0.85)\" title=\"{}\">+{} ms: {}</span></div>",
            esc(&a.gateway),
            pct(*s),
            (pct(*e) - pct(*s)).max(0.3),
            esc(&what),
            ms3(s - t0),
            esc(&what)
        );
    }
    h.push_str("</div>");
}
