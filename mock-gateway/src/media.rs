//! The gateway's media on answered calls (ICD 4): a UDP socket bound before the answer is
//! written (its port goes into the SDP), the session started when the 200 OK goes out, sending
//! SRTP with the answer's own key to the offer's address and authenticating what the trunk
//! sends with the offer's key, and stopped at the call's BYE, whose observation carries the
//! [`MediaLeg`]. A media fault ([`MediaFault`]) changes what is sent, never the signalling.
//!
//! Sessions are kept gateway-wide by Call-ID (a BYE may come over another connection than its
//! INVITE); each ends by itself after [`SESSION_BOUND`] if no BYE comes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use media::{Keying, MasterKey, Plan, Program, Session, Suite};
use reports::MediaLeg;
use scenarios::MediaFault;

use crate::sdp::{Negotiated, Reserved};

/// How long a gateway's media session runs at most without a BYE.
pub const SESSION_BOUND: Duration = Duration::from_secs(300);

/// A socket bound for an answer, with the key the answer announces.
#[derive(Debug)]
pub(crate) struct Reservation {
    pub(crate) socket: std::net::UdpSocket,
    pub(crate) reserved: Reserved,
    pub(crate) key: MasterKey,
}

/// Binds a media socket on `ip` and draws the key; `None` (and a log line) when no port in
/// the range is free: the call is then answered without media.
pub(crate) fn reserve(ip: IpAddr) -> Option<Reservation> {
    match media::bind(ip) {
        Ok(socket) => {
            let port = socket.local_addr().ok()?.port();
            let key = MasterKey::generate();
            Some(Reservation {
                socket,
                reserved: Reserved {
                    port,
                    key: key.inline(),
                },
                key,
            })
        }
        Err(e) => {
            tracing::warn!(error = %e, "no media port free in 30000-60000; answering without media");
            None
        }
    }
}

/// Media ready to start when the 200 OK goes out.
#[derive(Debug)]
pub(crate) struct Pending {
    socket: std::net::UdpSocket,
    plan: Plan,
}

/// What the session does, from what was negotiated, the caller (a 933 plays its number back)
/// and the fault, if any. `None` when the offer named no IP address to send to.
pub(crate) fn pending(
    r: Reservation,
    n: &Negotiated,
    readback: Option<&str>,
    fault: Option<MediaFault>,
) -> Option<Pending> {
    let remote = n.remote?;
    let suite = n.suite.and_then(Suite::from_name);
    let mut notes = Vec::new();
    let send = suite.map(|suite| Keying { suite, key: r.key });
    let receive = suite.map(|suite| {
        let key = n
            .offer_key
            .as_deref()
            .map(MasterKey::from_key_params)
            .and_then(|k| {
                k.map_err(|e| notes.push(format!("the offer's key is unusable ({e})")))
                    .ok()
            })
            // An unusable key authenticates nothing: every packet is counted as a failure.
            .unwrap_or_else(MasterKey::generate);
        Keying { suite, key }
    });
    let mut plan = Plan {
        remote,
        send_to: remote,
        send,
        receive,
        payload_type: n.payload_type,
        program: readback.map_or(Program::Comfort, Program::readback),
        send_after: Duration::ZERO,
        sending: true,
        bound: SESSION_BOUND,
        fault: None,
    };
    if let Some(f) = fault {
        notes.push(format!("media {}", f.label()));
        match f {
            MediaFault::None => plan.sending = false,
            MediaFault::WrongPort => plan.send_to.set_port(remote.port().wrapping_add(2)),
            MediaFault::WrongKey => {
                if let Some(k) = &mut plan.send {
                    k.key = MasterKey::generate();
                }
            }
            MediaFault::PlainRtp => plan.send = None,
            MediaFault::Late(d) => plan.send_after = d,
        }
    }
    plan.fault = (!notes.is_empty()).then(|| notes.join("; "));
    Some(Pending {
        socket: r.socket,
        plan,
    })
}

/// The gateway's live media sessions by Call-ID.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    live: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Starts `p` now (the 200 OK is going out) for `call_id`.
    pub(crate) fn start(&self, call_id: &str, p: Pending) {
        let socket = match tokio::net::UdpSocket::from_std(p.socket) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "media socket could not be registered");
                return;
            }
        };
        let session = Session::start(socket, p.plan);
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|_, s| !s.is_finished());
        // A second session for the same Call-ID (a re-INVITE) replaces the first, which ends.
        live.insert(call_id.to_owned(), session);
    }

    /// Stops the session of `call_id` and returns what it recorded.
    pub(crate) async fn stop(&self, call_id: &str) -> Option<MediaLeg> {
        let s = self
            .live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(call_id)?;
        Some(s.stop().await)
    }
}
