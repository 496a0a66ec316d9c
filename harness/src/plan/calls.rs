//! What the gateways received during a step, sorted into calls, and the calls matched to the
//! step (pure: no sockets, no clocks).
//!
//! A call is the INVITEs of one emergency call across the gateways: a new INVITE joins the call
//! whose INVITE carried the same Call-ID at another gateway (a proxy that fails over), or else
//! the latest call that it can be the failover of: same dialled number, its last INVITE not
//! answered 2xx, this gateway not yet tried, within [`RETRY_WINDOW_US`] (a B2BUA re-originates
//! with a new Call-ID). Anything else starts a call. In-dialog requests (ACK, BYE, CANCEL) join
//! the call of their Call-ID at their gateway. A connection that carried no request (a refused
//! handshake, a fault on accept) at a gateway the call did not reach with an INVITE is the
//! call's, when it is the latest such connection in the window before the call's first INVITE:
//! the originator's OPTIONS probes open connections too, so earlier ones may be probes, and a
//! refused connection carries nothing that says which.
//!
//! A step's calls are those with its dialled number, those with its ANI first, up to the number
//! the step expects; every other call is unexpected (reported, never dropped).

use reports::Observation;

use crate::verdict::identity::same_number;
use crate::verdict::normalize_number;

/// How long after an unanswered INVITE another gateway's INVITE can still be its failover:
/// twice RFC 3261's Timer B.
pub const RETRY_WINDOW_US: u64 = 64_000_000;

/// One call as the gateways received it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedCall {
    /// Its requests (INVITEs, in-dialog requests) and connection events, in arrival order.
    pub observations: Vec<Observation>,
}

impl ObservedCall {
    /// The new INVITEs, in arrival order.
    pub fn invites(&self) -> impl Iterator<Item = &Observation> {
        self.observations.iter().filter(|o| o.is_new_invite())
    }

    /// The first INVITE.
    pub fn first(&self) -> Option<&Observation> {
        self.invites().next()
    }

    /// The last INVITE.
    pub fn last(&self) -> Option<&Observation> {
        self.invites().last()
    }

    /// The dialled number the gateways read from the first INVITE.
    pub fn dialed(&self) -> &str {
        self.first()
            .and_then(|o| o.dialed.as_deref())
            .unwrap_or_default()
    }

    /// The ANI the first INVITE delivered.
    pub fn ani(&self) -> Option<&str> {
        self.first()
            .and_then(|o| o.ani.as_ref())
            .map(|a| a.number.as_str())
    }

    /// When its first INVITE arrived.
    pub fn at_us(&self) -> u64 {
        self.first().map_or(0, |o| o.at_us)
    }

    /// Whether the call has ended at the gateways: its last INVITE answered 2xx and its BYE
    /// answered, or its last INVITE given a failure status (a retry may still follow).
    pub fn is_finished(&self) -> bool {
        let Some(last) = self.last() else {
            return false;
        };
        match last.response {
            Some(s) if (200..300).contains(&s) => self.observations.iter().any(|o| {
                o.method == "BYE"
                    && o.gateway == last.gateway
                    && o.call_id == last.call_id
                    && o.response.is_some()
            }),
            Some(_) => true,
            None => false,
        }
    }
}

/// The observations of a step window, sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sorted {
    /// The calls, in the order their first INVITE arrived.
    pub calls: Vec<ObservedCall>,
    /// OPTIONS requests (the originator's probing).
    pub options: Vec<Observation>,
    /// Connection events no call claims (probes that met a connection fault, most likely).
    pub connections: Vec<Observation>,
    /// Requests that belong to no call (an ACK or BYE for a call of an earlier step).
    pub strays: Vec<Observation>,
}

/// Sorts `observations` into calls, probes, connection events and strays.
pub fn sort(observations: &[Observation]) -> Sorted {
    let mut all: Vec<&Observation> = observations.iter().collect();
    all.sort_by_key(|o| (o.at_us, o.seq));
    let mut out = Sorted::default();
    let mut events: Vec<&Observation> = Vec::new();
    for o in all {
        if o.is_connection_event() {
            events.push(o);
        } else if o.method == "OPTIONS" {
            out.options.push(o.clone());
        } else if o.is_new_invite() {
            match joins(&out.calls, o) {
                Some(i) => out.calls[i].observations.push(o.clone()),
                None => out.calls.push(ObservedCall {
                    observations: vec![o.clone()],
                }),
            }
        } else {
            let owner = out.calls.iter().position(|c| {
                c.invites().any(|i| {
                    i.gateway == o.gateway && i.call_id.is_some() && i.call_id == o.call_id
                })
            });
            match owner {
                Some(i) => out.calls[i].observations.push(o.clone()),
                None => out.strays.push(o.clone()),
            }
        }
    }
    attach_connections(&mut out, events);
    out
}

/// The call a new INVITE `o` belongs to, if any (see the module docs).
fn joins(calls: &[ObservedCall], o: &Observation) -> Option<usize> {
    // The same Call-ID: a proxy's failover (another gateway), or a re-INVITE (the same one).
    if o.call_id.is_some()
        && let Some(i) = calls
            .iter()
            .position(|c| c.invites().any(|i| i.call_id == o.call_id))
    {
        return Some(i);
    }
    let number = o.dialed.as_deref().map(normalize_number);
    calls.iter().rposition(|c| {
        let Some(last) = c.last() else { return false };
        !last.answered_2xx()
            && c.invites().all(|i| i.gateway != o.gateway)
            && c.first()
                .and_then(|f| f.dialed.as_deref())
                .map(normalize_number)
                == number
            && o.at_us.saturating_sub(last.at_us) <= RETRY_WINDOW_US
    })
}

/// Gives each call the latest connection (by gateway and connection number) that carried no
/// request, at a gateway it did not reach with an INVITE, in the window before its first
/// INVITE (after the previous call's first INVITE, within [`RETRY_WINDOW_US`]).
fn attach_connections(out: &mut Sorted, events: Vec<&Observation>) {
    let mut claimed: Vec<(String, u64)> = Vec::new();
    let starts: Vec<u64> = out.calls.iter().map(ObservedCall::at_us).collect();
    for (i, call) in out.calls.iter_mut().enumerate() {
        let at = starts[i];
        let since = i
            .checked_sub(1)
            .map_or(0, |p| starts[p])
            .max(at.saturating_sub(RETRY_WINDOW_US));
        let reached: Vec<String> = call.invites().map(|o| o.gateway.clone()).collect();
        let latest = events
            .iter()
            .filter(|e| {
                e.at_us > since
                    && e.at_us <= at
                    && !reached.contains(&e.gateway)
                    && !claimed.contains(&(e.gateway.clone(), e.conn))
            })
            .max_by_key(|e| (e.at_us, e.conn));
        if let Some(e) = latest {
            let key = (e.gateway.clone(), e.conn);
            call.observations.extend(
                events
                    .iter()
                    .filter(|x| x.gateway == key.0 && x.conn == key.1)
                    .map(|x| (*x).clone()),
            );
            call.observations.sort_by_key(|o| (o.at_us, o.seq));
            claimed.push(key);
        }
    }
    out.connections = events
        .into_iter()
        .filter(|e| !claimed.contains(&(e.gateway.clone(), e.conn)))
        .cloned()
        .collect();
}

/// The calls of a step and the calls it did not expect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matched {
    /// The step's calls, in arrival order.
    pub mine: Vec<ObservedCall>,
    /// Every other call.
    pub unexpected: Vec<ObservedCall>,
}

/// Matches `calls` to a step dialling `dial` from `ani` (when the step knows it) that expects
/// `expected` calls: calls with the step's number, those from its ANI first, up to `expected`.
pub fn assign(calls: Vec<ObservedCall>, dial: &str, ani: Option<&str>, expected: usize) -> Matched {
    let number = normalize_number(scenarios::dialled_number(dial));
    let same_ani = |c: &ObservedCall| {
        ani.is_some_and(|want| c.ani().is_some_and(|got| same_number(got, want)))
    };
    let ours = |c: &ObservedCall| normalize_number(c.dialed()) == number;
    let mut chosen: Vec<usize> = Vec::new();
    for pass_ani in [true, false] {
        for (i, c) in calls.iter().enumerate() {
            if chosen.len() < expected && !chosen.contains(&i) && ours(c) && same_ani(c) == pass_ani
            {
                chosen.push(i);
            }
        }
    }
    chosen.sort_unstable();
    let mut m = Matched::default();
    for (i, c) in calls.into_iter().enumerate() {
        if chosen.contains(&i) {
            m.mine.push(c);
        } else {
            m.unexpected.push(c);
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{connection_event, invite_obs};

    fn invite(gateway: &str, at_us: u64, status: Option<u16>, call_id: &str) -> Observation {
        let mut o = invite_obs(gateway, at_us, 200);
        o.response = status;
        o.call_id = Some(call_id.into());
        o
    }

    fn req(method: &str, gateway: &str, at_us: u64, call_id: &str) -> Observation {
        let mut o = invite(gateway, at_us, Some(200), call_id);
        o.method = method.into();
        o
    }

    #[test]
    fn a_b2bua_failover_with_a_new_call_id_is_one_call() {
        let obs = [
            invite("gw1", 100, Some(503), "a"),
            invite("gw2", 900, Some(200), "b"),
            req("ACK", "gw2", 950, "b"),
            req("BYE", "gw2", 2_000, "b"),
        ];
        let s = sort(&obs);
        assert_eq!(s.calls.len(), 1);
        assert_eq!(s.calls[0].invites().count(), 2);
        assert!(s.calls[0].is_finished());
        assert!(s.strays.is_empty());
    }

    #[test]
    fn answered_calls_and_retries_at_the_same_gateway_are_separate_calls() {
        let obs = [
            invite("gw1", 100, Some(200), "a"),
            req("BYE", "gw1", 500, "a"),
            invite("gw1", 1_000, Some(403), "b"),
            // A second INVITE at gw1 after a 403: another call, not a failover.
            invite("gw1", 2_000, Some(403), "c"),
            // A stray BYE of nothing seen.
            req("BYE", "gw2", 3_000, "zzz"),
        ];
        let s = sort(&obs);
        assert_eq!(s.calls.len(), 3);
        assert_eq!(s.strays.len(), 1);
        // A retry on gw2 after the final 403 joins the call it retries (no-retry fails there).
        let obs = [
            invite("gw1", 100, Some(403), "a"),
            invite("gw2", 400, Some(200), "b"),
        ];
        assert_eq!(sort(&obs).calls.len(), 1);
    }

    #[test]
    fn a_proxy_keeps_the_call_id_and_an_unanswered_call_is_not_finished() {
        let obs = [
            invite("gw1", 100, None, "same"),
            invite("gw2", 2_000_000, Some(200), "same"),
        ];
        let s = sort(&obs);
        assert_eq!(s.calls.len(), 1);
        assert!(!s.calls[0].is_finished(), "answered but no BYE yet");
        let silent = sort(&obs[..1]);
        assert!(!silent.calls[0].is_finished());
        // Past the window an INVITE is a new call.
        let late = [
            invite("gw1", 100, None, "a"),
            invite("gw2", 100 + RETRY_WINDOW_US + 1, Some(200), "b"),
        ];
        assert_eq!(sort(&late).calls.len(), 2);
    }

    #[test]
    fn a_refused_handshake_before_a_call_is_the_calls_and_older_ones_are_probes() {
        let mut probe = connection_event("gw1", 50, Some("tls protocol error"), None);
        probe.conn = 1;
        let mut call_conn = connection_event("gw1", 300, Some("tls protocol error"), None);
        call_conn.conn = 2;
        let obs = [probe, call_conn, invite("gw2", 400, Some(200), "b"), {
            let mut o = connection_event("gw1", 900, Some("tls protocol error"), None);
            o.conn = 3;
            o
        }];
        let s = sort(&obs);
        assert_eq!(s.calls.len(), 1);
        let conns: Vec<u64> = s.calls[0]
            .observations
            .iter()
            .filter(|o| o.is_connection_event())
            .map(|o| o.conn)
            .collect();
        assert_eq!(conns, [2]);
        assert_eq!(
            s.connections.iter().map(|o| o.conn).collect::<Vec<_>>(),
            [1, 3]
        );
    }

    #[test]
    fn options_are_probes() {
        let mut o = invite_obs("gw1", 10, 200);
        o.method = "OPTIONS".into();
        let s = sort(&[o]);
        assert_eq!(s.options.len(), 1);
        assert!(s.calls.is_empty());
    }

    fn from(ani: &str, dial: &str, at: u64) -> ObservedCall {
        let mut o = invite_obs("gw1", at, 200);
        o.dialed = Some(dial.into());
        if let Some(a) = o.ani.as_mut() {
            a.number = ani.into();
        }
        ObservedCall {
            observations: vec![o],
        }
    }

    #[test]
    fn a_step_takes_its_number_its_ani_first_and_no_more_than_it_expects() {
        let calls = vec![
            from("+13125550199", "911", 1),
            from("+13125550100", "911", 2),
            from("+13125550100", "9911", 3),
        ];
        let m = assign(calls.clone(), "911", Some("+13125550100"), 1);
        assert_eq!(m.mine.len(), 1);
        assert_eq!(m.mine[0].at_us(), 2);
        assert_eq!(m.unexpected.len(), 2);
        // The wrong ANI is still the step's call when nothing better arrived (its ANI fails).
        let m = assign(calls[..1].to_vec(), "911", Some("+13125550100"), 1);
        assert_eq!(m.mine.len(), 1);
        // Dial strings with a context still name the number; E.164 forms of the ANI match.
        let m = assign(
            vec![from("3125550100", "911", 1)],
            "911;phone-context=+1",
            Some("+13125550100"),
            1,
        );
        assert_eq!(m.mine.len(), 1);
        let m = assign(calls, "933", Some("+13125550100"), 1);
        assert!(m.mine.is_empty());
        assert_eq!(m.unexpected.len(), 3);
    }
}
