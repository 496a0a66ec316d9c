//! TLS secrets for Wireshark: [`KeyLogFile`] writes every TLS session's secrets to a file of the
//! caller's choosing, in the NSS key log format (`SSLKEYLOGFILE`), so a capture of the real
//! wire can be decrypted. rustls' own `KeyLogFile` reads the path from the environment; this
//! one takes it as an argument (`--tls-keylog FILE`) and reports when it cannot be opened.

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Appends TLS secrets to one file, one line per secret:
/// `LABEL <client_random hex> <secret hex>`.
#[derive(Debug)]
pub struct KeyLogFile {
    file: Mutex<File>,
}

impl KeyLogFile {
    /// Opens (creates, appends to) `path`.
    pub fn open(path: &Path) -> io::Result<Arc<KeyLogFile>> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Arc::new(KeyLogFile {
            file: Mutex::new(file),
        }))
    }
}

impl rustls::KeyLog for KeyLogFile {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let mut line =
            String::with_capacity(label.len() + 2 * (client_random.len() + secret.len()) + 3);
        line.push_str(label);
        line.push(' ');
        for b in client_random {
            let _ = write!(line, "{b:02x}");
        }
        line.push(' ');
        for b in secret {
            let _ = write!(line, "{b:02x}");
        }
        line.push('\n');
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = f.write_all(line.as_bytes()) {
            // A secret that cannot be logged must not break the call it belongs to.
            let _ = e;
        }
    }
}

/// `config` with its secrets logged to `log`.
pub fn client_with_keylog(
    config: &Arc<rustls::ClientConfig>,
    log: &Arc<KeyLogFile>,
) -> Arc<rustls::ClientConfig> {
    let mut c = (**config).clone();
    c.key_log = log.clone();
    Arc::new(c)
}

/// `config` with its secrets logged to `log`.
pub fn server_with_keylog(
    config: &Arc<rustls::ServerConfig>,
    log: &Arc<KeyLogFile>,
) -> Arc<rustls::ServerConfig> {
    let mut c = (**config).clone();
    c.key_log = log.clone();
    Arc::new(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::KeyLog as _;

    #[test]
    fn writes_nss_key_log_lines() {
        let dir = std::env::temp_dir().join(format!("keylog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keys.log");
        let _ = std::fs::remove_file(&path);
        let log = KeyLogFile::open(&path).unwrap();
        log.log("CLIENT_RANDOM", &[0xab, 0x01], &[0x00, 0xff]);
        log.log("SERVER_TRAFFIC_SECRET_0", &[1], &[2]);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "CLIENT_RANDOM ab01 00ff\nSERVER_TRAFFIC_SECRET_0 01 02\n"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
