//! The running gateway: a listener, an accept loop bounded by admission control
//! ([`crate::admission`]: total and per-source caps, refused at once), and one
//! task per connection ([`crate::conn`]); all tracked for a bounded graceful shutdown.
//!
//! The accept loop also runs a fault plan's outage: at its start it closes the listener (so
//! connect is refused) and cancels the token every live connection holds (so they drop); at its
//! end it binds the same address again.

use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use sip::transport::TransportKind;
use tokio::net::TcpListener;
use tokio::sync::{Notify, broadcast};
use tokio::time::{Instant, sleep_until};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::admission::Admission;
use crate::config::{GatewayConfig, Limits, Policy};
use crate::error::GatewayError;
use crate::fault::{Active, FaultError, FaultPlan, TlsFaultKind};
use crate::observation::Observation;
use crate::record::Recorder;
use crate::stats::{Counters, Stats};

/// How long [`Gateway::shutdown`] waits for connection tasks.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Smallest message cap that still holds a minimal request.
const MIN_MESSAGE_BYTES: usize = 256;

/// What every connection task of one gateway shares (no sockets in here).
pub(crate) struct Shared {
    pub(crate) host: String,
    pub(crate) transport: TransportKind,
    /// The acceptor new TLS connections use; replaced by [`Gateway::set_tls`].
    pub(crate) tls: RwLock<Option<TlsAcceptor>>,
    pub(crate) limits: Limits,
    pub(crate) policy: RwLock<Arc<Policy>>,
    pub(crate) recorder: Recorder,
    pub(crate) cancel: CancellationToken,
    /// Acceptors presenting the fault certificates.
    pub(crate) fault_tls: Option<FaultAcceptors>,
    /// The fault plan in force (an empty one when none is set).
    pub(crate) faults: RwLock<Arc<Active>>,
    /// Wakes the accept loop when the plan changes (outage schedule).
    pub(crate) plan_changed: Notify,
    /// Held by every connection; cancelled (and replaced) when an outage starts.
    pub(crate) up: RwLock<CancellationToken>,
    /// Live INVITE dialogs, gateway-wide (the capacity fault compares against it).
    pub(crate) dialogs: AtomicU64,
    /// Counters for [`Gateway::stats`].
    pub(crate) counters: Counters,
    /// Connections accepted so far (each gets the next number, from 1).
    pub(crate) connections: AtomicU64,
    /// Connections open now (their tasks are running).
    pub(crate) open: AtomicU64,
    /// Where connections record their messages, when the gateway is captured.
    pub(crate) capture: Option<sip::transport::capture::Capture>,
    /// Media sessions of answered calls, by Call-ID.
    pub(crate) media: crate::media::Sessions,
}

/// One acceptor per certificate fault.
#[derive(Clone)]
pub(crate) struct FaultAcceptors {
    pub(crate) untrusted: TlsAcceptor,
    pub(crate) expired: TlsAcceptor,
    pub(crate) wrong_name: TlsAcceptor,
    pub(crate) ecdsa: TlsAcceptor,
}

impl FaultAcceptors {
    pub(crate) fn get(&self, f: TlsFaultKind) -> Option<&TlsAcceptor> {
        match f {
            TlsFaultKind::Untrusted => Some(&self.untrusted),
            TlsFaultKind::Expired => Some(&self.expired),
            TlsFaultKind::WrongName => Some(&self.wrong_name),
            TlsFaultKind::EcdsaCertificate => Some(&self.ecdsa),
            TlsFaultKind::ProtocolError => None,
        }
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("host", &self.host)
            .field("transport", &self.transport)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Shared {
    pub(crate) fn policy(&self) -> Arc<Policy> {
        self.policy
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The TLS acceptor for a new connection (`None` over TCP).
    pub(crate) fn tls_acceptor(&self) -> Option<TlsAcceptor> {
        self.tls.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The fault plan in force.
    pub(crate) fn faults(&self) -> Arc<Active> {
        self.faults
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The token that is cancelled when the next outage starts.
    pub(crate) fn up_token(&self) -> CancellationToken {
        self.up.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Drops every established connection (an outage starts).
    fn drop_connections(&self) {
        let fresh = CancellationToken::new();
        let old = std::mem::replace(
            &mut *self.up.write().unwrap_or_else(|p| p.into_inner()),
            fresh,
        );
        old.cancel();
    }
}

/// A running mock gateway.
#[derive(Debug)]
pub struct Gateway {
    name: String,
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    tracker: TaskTracker,
}

impl Gateway {
    /// Binds `config.listen` (port 0 picks one) and starts accepting connections.
    pub async fn start(config: GatewayConfig) -> Result<Gateway, GatewayError> {
        if config.limits.max_connections == 0 || config.limits.max_connections_per_source == 0 {
            return Err(GatewayError::InvalidLimit(
                "max_connections and max_connections_per_source must be at least 1",
            ));
        }
        if config.limits.max_message_bytes < MIN_MESSAGE_BYTES {
            return Err(GatewayError::InvalidLimit(
                "max_message_bytes must be at least 256",
            ));
        }
        let tls = match config.transport {
            TransportKind::Tls => Some(TlsAcceptor::from(
                config.tls.clone().ok_or(GatewayError::MissingTls)?,
            )),
            _ => None,
        };
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| GatewayError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let local_addr = listener.local_addr().map_err(|source| GatewayError::Bind {
            addr: config.listen,
            source,
        })?;
        let fault_tls = config.fault_tls.map(|f| FaultAcceptors {
            untrusted: TlsAcceptor::from(f.untrusted),
            expired: TlsAcceptor::from(f.expired),
            wrong_name: TlsAcceptor::from(f.wrong_name),
            ecdsa: TlsAcceptor::from(f.ecdsa),
        });
        let shared = Arc::new(Shared {
            host: config.host,
            transport: config.transport,
            tls: RwLock::new(tls),
            limits: config.limits,
            policy: RwLock::new(Arc::new(config.policy)),
            recorder: Recorder::new(&config.name, config.retain, config.epoch),
            connections: AtomicU64::new(0),
            open: AtomicU64::new(0),
            cancel: CancellationToken::new(),
            fault_tls,
            faults: RwLock::new(Arc::new(Active::default())),
            plan_changed: Notify::new(),
            up: RwLock::new(CancellationToken::new()),
            dialogs: AtomicU64::new(0),
            counters: Counters::default(),
            capture: config.capture,
            media: crate::media::Sessions::default(),
        });
        let tracker = TaskTracker::new();
        tracker.spawn(accept_loop(
            listener,
            local_addr,
            shared.clone(),
            tracker.clone(),
        ));
        tracing::info!(gateway = %config.name, %local_addr, "gateway listening");
        Ok(Gateway {
            name: config.name,
            local_addr,
            shared,
            tracker,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The gateway's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Replaces the policy; requests decided from now on use it.
    pub fn set_policy(&self, policy: Policy) {
        *self
            .shared
            .policy
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Arc::new(policy);
    }

    /// Serves `config` to TLS connections accepted from now on (a scenario's TLS profile, see
    /// [`sip::transport::TlsProfile`]); established connections keep theirs. Refused on a TCP
    /// gateway.
    pub fn set_tls(&self, config: Arc<rustls::ServerConfig>) -> Result<(), GatewayError> {
        if self.shared.transport != TransportKind::Tls {
            return Err(GatewayError::NotTls);
        }
        *self.shared.tls.write().unwrap_or_else(|p| p.into_inner()) =
            Some(TlsAcceptor::from(config));
        Ok(())
    }

    /// Replaces the fault plan (see [`crate::fault`]); call and connection indexes and the
    /// outage window count from now. A plan the gateway cannot carry out is refused and the
    /// previous plan stays.
    pub fn set_faults(&self, plan: FaultPlan) -> Result<(), FaultError> {
        plan.validate()?;
        for t in plan.tls_faults() {
            let ready = self.shared.transport == TransportKind::Tls
                && (t == TlsFaultKind::ProtocolError || self.shared.fault_tls.is_some());
            if !ready {
                return Err(FaultError::NoFaultTls(t.label()));
            }
        }
        self.install(Active::new(plan));
        Ok(())
    }

    /// Removes every fault: the gateway answers normally from now on, and a pending outage is
    /// ended (the listener is bound again at once).
    pub fn clear_faults(&self) {
        self.install(Active::default());
    }

    /// Puts `active` in force. When the old or the new plan acts on connections, every
    /// established connection is dropped, as a gateway that restarts with a new certificate or
    /// goes down does: a peer that keeps its connections (an SBC) must connect again and meet
    /// the new plan, and nothing accepted under a fault outlives it. So what a scenario proves
    /// never depends on the connections earlier scenarios left open.
    fn install(&self, active: Active) {
        let old = std::mem::replace(
            &mut *self
                .shared
                .faults
                .write()
                .unwrap_or_else(|p| p.into_inner()),
            Arc::new(active),
        );
        if old.acts_on_connections() || self.shared.faults().acts_on_connections() {
            self.shared.drop_connections();
        }
        self.shared.plan_changed.notify_one();
    }

    /// How many connections are open now.
    pub fn open_connections(&self) -> u64 {
        self.shared.open.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Waits (at most `bound`) until no connection is open: after a fault plan that dropped
    /// the established ones, so the first call of what follows meets the new plan.
    pub async fn wait_no_connections(&self, bound: std::time::Duration) -> bool {
        let until = tokio::time::Instant::now() + bound;
        while self.open_connections() > 0 {
            if tokio::time::Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        true
    }

    /// The gateway's counters since it started.
    pub fn stats(&self) -> Stats {
        Stats {
            observations_dropped: self.shared.recorder.dropped(),
            ..self.shared.counters.snapshot()
        }
    }

    /// A copy of every observation recorded so far (since the last take).
    pub fn observations(&self) -> Vec<Observation> {
        self.shared.recorder.snapshot()
    }

    /// Every observation recorded so far, leaving the log empty.
    pub fn take_observations(&self) -> Vec<Observation> {
        self.shared.recorder.take()
    }

    /// Observations as they are recorded, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Observation> {
        self.shared.recorder.subscribe()
    }

    /// Stops accepting, closes every connection and waits (boundedly) for the tasks to end.
    pub async fn shutdown(self) {
        self.shared.cancel.cancel();
        self.tracker.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!(gateway = %self.name, "connection tasks still running after shutdown grace");
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    addr: SocketAddr,
    shared: Arc<Shared>,
    tracker: TaskTracker,
) {
    let admission = Admission::new(
        shared.limits.max_connections,
        shared.limits.max_connections_per_source,
    );
    let mut listener = Some(listener);
    let mut backoff = Duration::from_millis(10);
    loop {
        let (down, next_change) = outage_now(&shared.faults());
        let mut wake = next_change;
        if down && listener.is_some() {
            listener = None;
            shared.drop_connections();
            tracing::info!(%addr, "outage: listener closed, connections dropped");
        } else if !down && listener.is_none() {
            match TcpListener::bind(addr).await {
                Ok(l) => {
                    listener = Some(l);
                    tracing::info!(%addr, "outage over: listening again");
                }
                Err(e) => {
                    tracing::warn!(%addr, error = %e, "cannot listen again yet; retrying");
                    let retry = Instant::now() + Duration::from_millis(50);
                    wake = Some(wake.map_or(retry, |w| w.min(retry)));
                }
            }
        }
        let accept = async {
            match &listener {
                Some(l) => l.accept().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = shared.cancel.cancelled() => return,
            () = shared.plan_changed.notified() => {}
            () = sleep_until(wake.unwrap_or_else(Instant::now)), if wake.is_some() => {}
            accepted = accept, if listener.is_some() => {
                match accepted {
                    Ok((tcp, peer)) => {
                        backoff = Duration::from_millis(10);
                        // Over a cap: closed now (a reset), never left in the backlog.
                        let ticket = match admission.admit(peer.ip(), &shared.counters) {
                            Ok(t) => t,
                            Err(why) => {
                                tracing::debug!(%peer, ?why, "connection refused by admission control");
                                crate::conn::reset(&tcp);
                                continue;
                            }
                        };
                        let shared = shared.clone();
                        let up = shared.up_token();
                        tracker.spawn(async move {
                            crate::conn::serve(tcp, peer, shared, up).await;
                            drop(ticket);
                        });
                    }
                    Err(e) => {
                        // EMFILE and friends: wait and retry rather than spin.
                        tracing::warn!(error = %e, "accept failed; backing off {backoff:?}");
                        tokio::select! {
                            () = shared.cancel.cancelled() => return,
                            () = tokio::time::sleep(backoff) => {}
                        }
                        backoff = (backoff * 2).min(Duration::from_secs(1));
                    }
                }
            }
        }
    }
}

/// Whether the plan's outage is on now, and when that next changes.
fn outage_now(active: &Active) -> (bool, Option<Instant>) {
    let (Some(o), Some(set_at)) = (active.plan.outage, active.set_at) else {
        return (false, None);
    };
    let now = Instant::now();
    let (from, until) = (set_at + o.from, set_at + o.until);
    if now < from {
        (false, Some(from))
    } else if now < until {
        (true, Some(until))
    } else {
        (false, None)
    }
}
