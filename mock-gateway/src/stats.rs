//! Gateway-wide counters: atomics, bumped from every connection task without a lock.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of a gateway's counters since it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// New INVITE transactions (retransmissions not counted).
    pub invites: u64,
    /// INVITEs answered 200 OK.
    pub answered: u64,
    /// INVITEs answered with a final status >= 300 (487 after CANCEL included).
    pub rejected: u64,
    /// BYE requests answered.
    pub byes: u64,
    /// OPTIONS requests answered.
    pub options: u64,
    /// Faults applied (to calls and to connections, capacity refusals included).
    pub faults_applied: u64,
    /// Connections accepted.
    pub connections: u64,
    /// Connections closed at once because the gateway held `max_connections`.
    pub refused_total: u64,
    /// Connections closed at once because their source held `max_connections_per_source`.
    pub refused_per_source: u64,
    /// Connections closed for sending no request within `first_request_timeout` or
    /// `idle_timeout` (keep-alives do not count).
    pub closed_idle: u64,
    /// Observations dropped from the retained window (oldest first) to bound memory.
    pub observations_dropped: u64,
    /// TLS handshakes completed in full (the gateway signed with its certificate key).
    pub tls_full: u64,
    /// TLS handshakes that resumed an earlier session.
    pub tls_resumed: u64,
    /// Media sessions ended (at a BYE).
    pub media_sessions: u64,
    /// RTP packets the gateway sent in them.
    pub media_sent: u64,
    /// RTP packets that arrived and authenticated.
    pub media_received: u64,
    /// Packets the sequence numbers say were sent but never authenticated here.
    pub media_lost: u64,
    /// Packets that failed SRTP authentication.
    pub media_auth_failures: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) invites: AtomicU64,
    pub(crate) answered: AtomicU64,
    pub(crate) rejected: AtomicU64,
    pub(crate) byes: AtomicU64,
    pub(crate) options: AtomicU64,
    pub(crate) faults_applied: AtomicU64,
    pub(crate) connections: AtomicU64,
    pub(crate) refused_total: AtomicU64,
    pub(crate) refused_per_source: AtomicU64,
    pub(crate) closed_idle: AtomicU64,
    pub(crate) tls_full: AtomicU64,
    pub(crate) tls_resumed: AtomicU64,
    pub(crate) media_sessions: AtomicU64,
    pub(crate) media_sent: AtomicU64,
    pub(crate) media_received: AtomicU64,
    pub(crate) media_lost: AtomicU64,
    pub(crate) media_auth_failures: AtomicU64,
}

/// Adds one.
pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    /// Adds what one ended media session recorded.
    pub(crate) fn media(&self, leg: &reports::MediaLeg) {
        bump(&self.media_sessions);
        self.media_sent.fetch_add(leg.sent, Ordering::Relaxed);
        self.media_received
            .fetch_add(leg.authenticated, Ordering::Relaxed);
        self.media_lost.fetch_add(leg.lost, Ordering::Relaxed);
        self.media_auth_failures
            .fetch_add(leg.auth_failures, Ordering::Relaxed);
    }

    /// Counts a completed TLS handshake as full or resumed.
    pub(crate) fn handshake(&self, conn: &rustls::ServerConnection) {
        if conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed) {
            bump(&self.tls_resumed);
        } else {
            bump(&self.tls_full);
        }
    }

    pub(crate) fn snapshot(&self) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            invites: get(&self.invites),
            answered: get(&self.answered),
            rejected: get(&self.rejected),
            byes: get(&self.byes),
            options: get(&self.options),
            faults_applied: get(&self.faults_applied),
            connections: get(&self.connections),
            refused_total: get(&self.refused_total),
            refused_per_source: get(&self.refused_per_source),
            closed_idle: get(&self.closed_idle),
            observations_dropped: 0,
            tls_full: get(&self.tls_full),
            tls_resumed: get(&self.tls_resumed),
            media_sessions: get(&self.media_sessions),
            media_sent: get(&self.media_sent),
            media_received: get(&self.media_received),
            media_lost: get(&self.media_lost),
            media_auth_failures: get(&self.media_auth_failures),
        }
    }
}
