//! The running gateway: a listener, an accept loop bounded by a connection semaphore, and one
//! task per connection ([`crate::conn`]); all tracked for a bounded graceful shutdown.

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use sip::transport::TransportKind;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, broadcast};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{GatewayConfig, Limits, Policy};
use crate::error::GatewayError;
use crate::observation::Observation;
use crate::record::Recorder;

/// How long [`Gateway::shutdown`] waits for connection tasks.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Smallest message cap that still holds a minimal request.
const MIN_MESSAGE_BYTES: usize = 256;

/// What every connection task of one gateway shares (no sockets in here).
pub(crate) struct Shared {
    pub(crate) host: String,
    pub(crate) transport: TransportKind,
    pub(crate) tls: Option<TlsAcceptor>,
    pub(crate) limits: Limits,
    pub(crate) policy: RwLock<Arc<Policy>>,
    pub(crate) recorder: Recorder,
    pub(crate) cancel: CancellationToken,
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
        if config.limits.max_connections == 0 {
            return Err(GatewayError::InvalidLimit(
                "max_connections must be at least 1",
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
        let shared = Arc::new(Shared {
            host: config.host,
            transport: config.transport,
            tls,
            limits: config.limits,
            policy: RwLock::new(Arc::new(config.policy)),
            recorder: Recorder::new(&config.name),
            cancel: CancellationToken::new(),
        });
        let tracker = TaskTracker::new();
        tracker.spawn(accept_loop(listener, shared.clone(), tracker.clone()));
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

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, tracker: TaskTracker) {
    let permits = Arc::new(Semaphore::new(shared.limits.max_connections));
    let mut backoff = Duration::from_millis(10);
    loop {
        let permit = tokio::select! {
            () = shared.cancel.cancelled() => return,
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return,
            },
        };
        let accepted = tokio::select! {
            () = shared.cancel.cancelled() => return,
            a = listener.accept() => a,
        };
        match accepted {
            Ok((tcp, peer)) => {
                backoff = Duration::from_millis(10);
                let shared = shared.clone();
                tracker.spawn(async move {
                    crate::conn::serve(tcp, peer, shared).await;
                    drop(permit);
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
