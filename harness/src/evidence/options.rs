//! The evidence options every running command shares: `--pcap FILE` (every SIP message the
//! harness and the embedded gateways sent and received, decrypted, as pcapng) and
//! `--tls-keylog FILE` (TLS secrets in the `SSLKEYLOGFILE` format, for a capture of the real
//! wire), and writing the trace at the end of a run.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use sip::transport::capture::Keep;
use sip::transport::keylog::KeyLogFile;

use crate::evidence::recording::Recording;
use crate::evidence::trace::{self, Lanes};

/// `--pcap` and `--tls-keylog`.
#[derive(Debug, Clone, Default, Args)]
pub struct EvidenceArgs {
    /// Write every SIP message the harness and the embedded gateways sent and received to FILE
    /// (pcapng: the decrypted TLS content on synthetic TCP/IP headers between the real
    /// addresses; open it in Wireshark, Telephony > SIP Flows).
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
    /// Append every TLS session's secrets to FILE (the SSLKEYLOGFILE format), to decrypt a
    /// capture of the real wire.
    #[arg(long, value_name = "FILE")]
    pub tls_keylog: Option<PathBuf>,
}

impl EvidenceArgs {
    /// The run's recording: messages captured as `keep` says (`None`: only with `--pcap`,
    /// then everything), secrets logged with `--tls-keylog`.
    pub fn recording(&self, keep: Option<Keep>, max_bytes: usize) -> anyhow::Result<Recording> {
        let keep = keep.or(self.pcap.as_ref().map(|_| Keep::All));
        let mut r = match keep {
            Some(k) => Recording::capturing(k, max_bytes),
            None => Recording::default(),
        };
        if let Some(path) = &self.tls_keylog {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            r.key_log = Some(
                KeyLogFile::open(path)
                    .with_context(|| format!("opening the TLS key log {}", path.display()))?,
            );
        }
        Ok(r)
    }

    /// Writes the capture's messages to `--pcap`, when it was given; prints where.
    pub fn finish(&self, recording: &Recording, lanes: &Lanes) -> anyhow::Result<()> {
        let (Some(path), Some((capture, wall))) = (&self.pcap, &recording.capture) else {
            return Ok(());
        };
        let records = capture.finish();
        let bytes = reports::pcap::pcapng(&trace::pcap(&records, lanes, *wall))
            .context("building the pcapng trace")?;
        write(path, &bytes)?;
        let dropped = capture.dropped();
        println!(
            "trace: {} ({} SIP messages{})",
            path.display(),
            records.len(),
            if dropped > 0 {
                format!(", {dropped} more dropped: the capture was full")
            } else {
                String::new()
            }
        );
        Ok(())
    }
}

/// `load`'s evidence options: a load run captures only with `--pcap`, and then keeps the
/// first calls and every failed call.
#[derive(Debug, Clone, Default, Args)]
pub struct LoadEvidenceArgs {
    /// `--pcap`, `--tls-keylog`.
    #[command(flatten)]
    pub evidence: EvidenceArgs,
    /// With --pcap: how many calls are kept whatever their outcome (failed calls are all kept).
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub pcap_first_calls: u64,
}

impl LoadEvidenceArgs {
    /// The load run's recording: nothing captured without `--pcap` (a load run pays nothing
    /// for it), else the first calls and every failed call, at most [`LOAD_CAPTURE_BYTES`].
    pub fn recording(&self) -> anyhow::Result<Recording> {
        let keep = self
            .evidence
            .pcap
            .as_ref()
            .map(|_| Keep::FirstCallsAndFailures {
                first: self.pcap_first_calls,
            });
        self.evidence.recording(keep, LOAD_CAPTURE_BYTES)
    }
}

/// How much message text a load run's capture holds at most.
pub const LOAD_CAPTURE_BYTES: usize = 512 * 1024 * 1024;

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    reports::write_atomic(path, bytes).with_context(|| format!("writing {}", path.display()))
}
