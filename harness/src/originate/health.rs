//! OPTIONS health probing of the route's gateways (ICD 5.3: "trunks may be probed with SIP
//! OPTIONS"), as a trunk does to stop sending calls to a gateway that is down.
//!
//! One task per gateway sends an OPTIONS on a fresh connection every `interval`. A probe
//! succeeds when a final response below 500 arrives within the bound (the interval, at least
//! 250 ms); a refused connection, a failed handshake, silence or a 5xx is a failure. A gateway
//! is marked down after `down_after` consecutive failures and up again after `up_after`
//! consecutive successes; it starts up (no evidence yet). Every change is recorded as a
//! [`Transition`] with its detection time: from the first probe of the streak that caused it
//! to the probe that completed the streak.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use scenarios::HealthSpec;
use sip::codec::Frame;
use sip::message::{new_branch, new_call_id, new_tag};
use sip::transport::{self, TransportKind};
use sip::{HeaderName, Message, Method, Request};
use tokio::task::JoinHandle;

use crate::originate::uac::{Target, UacConfig};

pub use crate::evidence::Transition;

#[derive(Debug, Default)]
struct GwState {
    down: bool,
    streak: u32,
    streak_started_us: u64,
    probes: u64,
}

#[derive(Debug, Default)]
struct Shared {
    gateways: HashMap<String, GwState>,
    transitions: Vec<Transition>,
}

/// Probes gateways in the background until [`HealthMonitor::stop`].
#[derive(Debug)]
pub struct HealthMonitor {
    shared: Arc<Mutex<Shared>>,
    tasks: Vec<JoinHandle<()>>,
}

impl HealthMonitor {
    /// Starts one probing task per target (each must be reachable as `cfg` says).
    pub fn start(spec: HealthSpec, targets: &[Target], cfg: &UacConfig) -> HealthMonitor {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let started = Instant::now();
        let tasks = targets
            .iter()
            .map(|t| {
                lock(&shared)
                    .gateways
                    .insert(t.name.clone(), GwState::default());
                let (shared, target, cfg) = (shared.clone(), t.clone(), cfg.clone());
                tokio::spawn(async move {
                    let mut tick = tokio::time::interval(spec.interval);
                    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    loop {
                        tick.tick().await;
                        let probe_at = micros(started.elapsed());
                        let ok = probe(&target, &cfg, spec.interval).await.is_ok();
                        record(&shared, &target.name, ok, probe_at, started, &spec);
                    }
                })
            })
            .collect();
        HealthMonitor { shared, tasks }
    }

    /// Whether `gateway` is up (unknown gateways count as up).
    pub fn is_up(&self, gateway: &str) -> bool {
        lock(&self.shared)
            .gateways
            .get(gateway)
            .is_none_or(|g| !g.down)
    }

    /// Probes answered or failed so far for `gateway`.
    pub fn probes(&self, gateway: &str) -> u64 {
        lock(&self.shared)
            .gateways
            .get(gateway)
            .map_or(0, |g| g.probes)
    }

    /// Every state change so far, in order.
    pub fn transitions(&self) -> Vec<Transition> {
        lock(&self.shared).transitions.clone()
    }

    /// Waits until `gateway` is in state `up`, at most `bound`; whether it got there.
    pub async fn wait_for(&self, gateway: &str, up: bool, bound: Duration) -> bool {
        let until = Instant::now() + bound;
        loop {
            if self.is_up(gateway) == up {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Stops probing without waiting (for a monitor shared behind an `Arc`).
    pub fn shutdown(&self) {
        for t in &self.tasks {
            t.abort();
        }
    }

    /// Stops probing and waits for the probe tasks to end.
    pub async fn stop(self) {
        for t in &self.tasks {
            t.abort();
        }
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

fn lock(m: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Applies one probe result to a gateway's state (pure apart from the lock).
fn record(
    shared: &Mutex<Shared>,
    name: &str,
    ok: bool,
    probe_at_us: u64,
    started: Instant,
    spec: &HealthSpec,
) {
    let mut s = lock(shared);
    let Some(g) = s.gateways.get_mut(name) else {
        return;
    };
    g.probes += 1;
    // A streak counts probes that point away from the current state.
    let against = ok == g.down;
    if !against {
        g.streak = 0;
        return;
    }
    if g.streak == 0 {
        g.streak_started_us = probe_at_us;
    }
    g.streak += 1;
    let needed = if g.down {
        spec.up_after
    } else {
        spec.down_after
    };
    if g.streak >= needed {
        g.down = !g.down;
        g.streak = 0;
        let at_us = micros(started.elapsed());
        let t = Transition {
            gateway: name.to_owned(),
            up: !g.down,
            at_us,
            detection_us: at_us.saturating_sub(g.streak_started_us),
        };
        s.transitions.push(t);
    }
}

/// One OPTIONS probe; `Ok(status)` when a final response below 500 arrived.
pub async fn probe(target: &Target, cfg: &UacConfig, bound: Duration) -> Result<u16, String> {
    let bound = bound.max(Duration::from_millis(250));
    let tls = match target.transport {
        TransportKind::Tcp => None,
        TransportKind::Tls => {
            let config = cfg.tls.clone().ok_or("no tls client configuration")?;
            let name = ServerName::try_from(target.host.clone()).map_err(|e| e.to_string())?;
            Some((config, name))
        }
    };
    let (mut conn, _) = transport::connect(target.addr, tls, cfg.connect_timeout.min(bound))
        .await
        .map_err(|e| e.to_string())?;
    cfg.recording.tap_trunk(&mut conn);
    let options = options_request(target, &cfg.local_host, conn.local_addr());
    conn.write_all(&options.to_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let until = Instant::now() + bound;
    loop {
        let frame = tokio::time::timeout_at(until.into(), conn.read_frame())
            .await
            .map_err(|_| "no answer to OPTIONS".to_owned())?
            .map_err(|e| e.to_string())?
            .ok_or("connection closed before answering OPTIONS")?;
        let Frame::Message(bytes) = frame else {
            continue;
        };
        if let Ok(Message::Response(r)) = Message::parse_bytes(bytes)
            && r.status >= 200
        {
            return if r.status < 500 {
                Ok(r.status)
            } else {
                Err(format!("OPTIONS answered {}", r.status))
            };
        }
    }
}

fn options_request(target: &Target, local_host: &str, local: std::net::SocketAddr) -> Request {
    let (via, param) = crate::originate::trunk::transport_token(target.transport);
    let uri = format!(
        "sip:{}:{};transport={param}",
        target.host,
        target.addr.port()
    );
    let uri = sip::Uri::parse(&uri)
        .unwrap_or_else(|_| crate::originate::trunk::request_uri("ping", target));
    let mut req = Request::new(Method::Options, uri.clone());
    let h = &mut req.headers;
    h.push(
        HeaderName::Via,
        format!("SIP/2.0/{via} {local};branch={};rport", new_branch()),
    );
    h.push(HeaderName::MaxForwards, "70");
    h.push(
        HeaderName::From,
        format!("<sip:ping@{local_host}>;tag={}", new_tag()),
    );
    h.push(HeaderName::To, format!("<{uri}>"));
    h.push(HeaderName::CallId, new_call_id(local_host));
    h.push(HeaderName::CSeq, "1 OPTIONS");
    h.push(HeaderName::UserAgent, crate::originate::trunk::user_agent());
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared() -> Mutex<Shared> {
        let mut s = Shared::default();
        s.gateways.insert("gw1".into(), GwState::default());
        Mutex::new(s)
    }

    #[test]
    fn down_after_n_failures_up_after_m_successes() {
        let spec = HealthSpec {
            interval: Duration::from_millis(10),
            down_after: 2,
            up_after: 3,
        };
        let s = shared();
        let t0 = Instant::now();
        let up = |s: &Mutex<Shared>| !lock(s).gateways["gw1"].down;
        record(&s, "gw1", false, 0, t0, &spec);
        assert!(up(&s), "one failure is not enough");
        record(&s, "gw1", true, 10, t0, &spec);
        record(&s, "gw1", false, 20, t0, &spec);
        assert!(up(&s), "a success resets the streak");
        record(&s, "gw1", false, 30, t0, &spec);
        assert!(!up(&s));
        for at in [40, 50] {
            record(&s, "gw1", true, at, t0, &spec);
        }
        assert!(!up(&s));
        record(&s, "gw1", true, 60, t0, &spec);
        assert!(up(&s));
        let t = lock(&s).transitions.clone();
        assert_eq!(t.iter().map(|t| t.up).collect::<Vec<_>>(), [false, true]);
        record(&s, "gw9", false, 0, t0, &spec); // unknown: ignored
    }
}
