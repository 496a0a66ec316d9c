//! What a run records besides its verdicts: every SIP message on the wire (for the report's
//! ladders and `--pcap`), and the TLS secrets (`--tls-keylog`). Carried by the originator's
//! configuration and the embedded gateways' alike, so both ends of a run record into one
//! capture on one clock.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use sip::transport::Connection;
use sip::transport::capture::{Capture, Keep};
use sip::transport::keylog::{KeyLogFile, client_with_keylog, server_with_keylog};

use super::Epoch;
use super::trace::TRUNK;

/// How much message text a certification run's capture holds at most.
pub const CERTIFY_CAPTURE_BYTES: usize = 256 * 1024 * 1024;

/// The run's capture and key log; the default records nothing.
#[derive(Debug, Clone, Default)]
pub struct Recording {
    /// The message capture, with the wall-clock time of its epoch (for pcapng timestamps).
    pub capture: Option<(Capture, SystemTime)>,
    /// Where TLS secrets go.
    pub key_log: Option<Arc<KeyLogFile>>,
}

impl Recording {
    /// A recording that captures messages as `keep` says, on a clock starting now.
    pub fn capturing(keep: Keep, max_bytes: usize) -> Recording {
        let (wall, now) = (SystemTime::now(), Instant::now());
        Recording {
            capture: Some((Capture::new(now, keep, max_bytes), wall)),
            key_log: None,
        }
    }

    /// The run's clock: the capture's epoch, or now.
    pub fn epoch(&self) -> Epoch {
        self.capture
            .as_ref()
            .map_or_else(Epoch::now, |(c, _)| Epoch(c.epoch()))
    }

    /// The capture, when messages are recorded.
    pub fn capture(&self) -> Option<&Capture> {
        self.capture.as_ref().map(|(c, _)| c)
    }

    /// Records `conn`'s messages as the trunk's, when capturing.
    pub fn tap_trunk(&self, conn: &mut Connection) {
        if let Some(c) = self.capture() {
            conn.set_capture(c, TRUNK);
        }
    }

    /// `config`, logging its secrets when a key log is set.
    pub fn client(&self, config: Arc<rustls::ClientConfig>) -> Arc<rustls::ClientConfig> {
        match &self.key_log {
            Some(log) => client_with_keylog(&config, log),
            None => config,
        }
    }

    /// `config`, logging its secrets when a key log is set.
    pub fn server(&self, config: Arc<rustls::ServerConfig>) -> Arc<rustls::ServerConfig> {
        match &self.key_log {
            Some(log) => server_with_keylog(&config, log),
            None => config,
        }
    }
}
