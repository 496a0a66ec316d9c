//! With `--callers` against the embedded gateways: every INVITE the gateways observe is checked
//! against the caller row its call used. The row of a call is a pure function of its index
//! ([`Callers::row`]), and the index is in the load's Call-ID (`<index hex>-<run>@host`), so the
//! checker needs nothing from the generator. Observations come from the gateways' broadcast; if
//! the checker falls behind under load, the lost ones are counted as unchecked, never guessed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mock_gateway::{Gateway, Observation};
use reports::load_detail::AniCheck;
use tokio::sync::broadcast::error::RecvError;

use super::callers::Callers;

/// The running checker.
#[derive(Debug)]
pub struct Checker {
    tally: Arc<Mutex<AniCheck>>,
    /// INVITE observations seen (checked or not) plus observations lost.
    seen: Arc<AtomicU64>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Digits and a leading `+`: how the gateway writes a number.
fn plain(n: &str) -> String {
    n.chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect()
}

/// The call index in a load Call-ID.
fn index_of(call_id: &str) -> Option<u64> {
    let (hex, rest) = call_id.split_once('-')?;
    rest.contains('@').then_some(())?;
    u64::from_str_radix(hex, 16).ok()
}

/// Checks one observation against the rows; `None` when it is not an INVITE.
pub fn check(obs: &Observation, callers: &Callers, tally: &mut AniCheck) -> Option<()> {
    if obs.method != "INVITE" || obs.retransmission {
        return None;
    }
    let Some(idx) = obs.call_id.as_deref().and_then(index_of) else {
        tally.unchecked += 1;
        return Some(());
    };
    let row = callers.row(idx);
    tally.checked += 1;
    let seen = obs.ani.as_ref().map(|a| plain(&a.number));
    if seen.as_deref() != Some(plain(&row.ani).as_str()) {
        tally.mismatched += 1;
        if tally.examples.len() < AniCheck::MAX_EXAMPLES {
            tally.examples.push(format!(
                "call {idx} (row at line {}): expected ANI {}, {} saw {}",
                row.line,
                row.ani,
                obs.gateway,
                seen.as_deref().unwrap_or("none")
            ));
        }
    }
    if let Some(want) = &row.location {
        let routed = obs.routing.as_deref().unwrap_or("");
        if !routed.eq_ignore_ascii_case(want) {
            tally.routing_mismatched += 1;
            if tally.examples.len() < AniCheck::MAX_EXAMPLES {
                tally.examples.push(format!(
                    "call {idx} (row at line {}): expected routing {want}, {} routed to {}",
                    row.line,
                    obs.gateway,
                    if routed.is_empty() { "nothing" } else { routed }
                ));
            }
        }
    }
    Some(())
}

impl Checker {
    /// Subscribes to every gateway (on the gateways' runtime) before any call is placed.
    pub fn start(
        rt: &tokio::runtime::Handle,
        gateways: &[Gateway],
        callers: Arc<Callers>,
    ) -> Checker {
        let tally = Arc::new(Mutex::new(AniCheck::default()));
        let seen = Arc::new(AtomicU64::new(0));
        let tasks = gateways
            .iter()
            .map(|gw| {
                let mut rx = gw.subscribe();
                let (tally, seen, callers) = (tally.clone(), seen.clone(), callers.clone());
                rt.spawn(async move {
                    loop {
                        match rx.recv().await {
                            Ok(obs) => {
                                let mut t = tally.lock().unwrap_or_else(|p| p.into_inner());
                                if check(&obs, &callers, &mut t).is_some() {
                                    seen.fetch_add(1, Ordering::Release);
                                }
                            }
                            Err(RecvError::Lagged(n)) => {
                                // Lost observations may have been any request; count them all.
                                tally.lock().unwrap_or_else(|p| p.into_inner()).unchecked += n;
                                seen.fetch_add(n, Ordering::Release);
                            }
                            Err(RecvError::Closed) => return,
                        }
                    }
                })
            })
            .collect();
        Checker { tally, seen, tasks }
    }

    /// Waits (at most `bound`) until the checker has seen as many INVITEs as the gateways
    /// counted since they started, then takes the tally since the last take.
    pub async fn take(&self, gateways: &[Gateway], bound: Duration) -> AniCheck {
        let want: u64 = gateways.iter().map(|g| g.stats().invites).sum();
        let deadline = Instant::now() + bound;
        while self.seen.load(Ordering::Acquire) < want && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        std::mem::take(&mut *self.tally.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl Drop for Checker {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::load::flags::{CallerOrder, Shard};

    fn obs(call_id: &str, ani: &str) -> Observation {
        let mut o: Observation = serde_json::from_value(serde_json::json!({
            "gateway": "gw1", "seq": 1, "at_ms": 0, "peer": "p", "transport": "TLS",
            "method": "INVITE", "request_uri": "sip:911@h", "call_id": call_id,
            "routing": "psap",
        }))
        .unwrap();
        o.ani = Some(mock_gateway::AniObservation {
            number: ani.into(),
            source: "P-Asserted-Identity".into(),
            ..Default::default()
        });
        o
    }

    #[test]
    fn the_observed_ani_is_compared_with_the_row_of_the_call() {
        let callers = Callers::read(
            "ani,location\n+13125550100,psap\n+13125550101,fallback centre\n".as_bytes(),
            Path::new("c.csv"),
            CallerOrder::Sequential,
            0,
            Shard::WHOLE,
        )
        .unwrap();
        let mut t = AniCheck::default();
        check(&obs("a-r1@h", "+13125550101"), &callers, &mut t); // call 10 -> row 0
        check(&obs("3-r1@h", "+1 312 555 0101"), &callers, &mut t); // call 3 -> row 1
        check(&obs("nonsense", "+1"), &callers, &mut t);
        let mut bye = obs("3-r1@h", "+1");
        bye.method = "BYE".into();
        assert!(check(&bye, &callers, &mut t).is_none());
        assert_eq!((t.checked, t.mismatched, t.unchecked), (2, 1, 1));
        assert_eq!(
            t.routing_mismatched, 1,
            "call 3's row expects the fallback centre"
        );
        assert!(
            t.examples[0].contains("expected ANI +13125550100"),
            "{:?}",
            t.examples
        );
    }
}
