//! Kamailio as the system under test, started the way a user starts it: `deploy/kamailio/
//! start.sh` with `deploy/kamailio/kamailio.cfg`, on a port of its own, in the foreground, with
//! certificates from the test. A [`Misconfiguration`] runs a copy of those two files with one
//! edit made to it, each edit found exactly once (so the shipped files cannot drift away from
//! the variants silently). Stopped with SIGTERM when dropped (start.sh execs Kamailio, so the
//! child is Kamailio itself).

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::peers::{free_port, tool, wait_listening};

/// The deploy folder of the repository.
pub fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/kamailio")
}

/// One edit of a shipped file: `find` (present exactly once) becomes `replace`.
#[derive(Debug, Clone, Copy)]
pub struct Edit {
    /// `kamailio.cfg` or `start.sh`.
    pub file: &'static str,
    /// The text replaced.
    pub find: &'static str,
    /// What it becomes.
    pub replace: &'static str,
}

/// A copy of the shipped configuration with one misconfiguration.
#[derive(Debug, Clone, Copy)]
pub struct Misconfiguration {
    /// A short name.
    pub name: &'static str,
    /// The edits that make it.
    pub edits: &'static [Edit],
}

/// How to start Kamailio.
#[derive(Debug, Clone)]
pub struct Options {
    /// `tls` or `tcp`: what the trunk connects with.
    pub trunk_transport: &'static str,
    /// gw1 then gw2.
    pub gateways: Vec<SocketAddr>,
    /// A folder `e911-harness certs` wrote (ca.pem is the gateways' CA).
    pub certs: PathBuf,
    /// The certificate and key Kamailio presents to the trunk (TLS).
    pub server_cert: Option<(PathBuf, PathBuf)>,
    /// Per-gateway INVITE timeout before failover, ms.
    pub gw_timeout_ms: u32,
    /// The configuration to run, `None` for the shipped one.
    pub misconfiguration: Option<Misconfiguration>,
    /// rtpengine's ng control socket: anchor the media on it (`start.sh --rtpengine`).
    pub rtpengine: Option<SocketAddr>,
}

/// A running Kamailio.
#[derive(Debug)]
pub struct Kamailio {
    child: Child,
    /// Where the trunk connects.
    pub addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl Kamailio {
    /// Starts Kamailio with `options`; panics with its log when it does not come up.
    pub fn start(options: &Options) -> Kamailio {
        // The same lookup start.sh does, here so a missing kamailio fails with this message.
        tool(
            "kamailio",
            &["/usr/sbin"],
            "Debian/Ubuntu: apt-get install kamailio kamailio-tls-modules",
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        let script = match options.misconfiguration {
            None => deploy_dir().join("start.sh"),
            Some(m) => misconfigured_copy(d, m),
        };
        let port = free_port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let list: Vec<String> = options.gateways.iter().map(ToString::to_string).collect();
        let log = File::create(d.join("kamailio.log")).expect("log file");
        let work = d.join("work");
        std::fs::create_dir_all(&work).expect("work dir");
        let mut cmd = Command::new("bash");
        cmd.arg(&script)
            .arg("--certs")
            .arg(&options.certs)
            .arg("--workdir")
            .arg(&work)
            .args(["--listen", &addr.to_string(), "--gateways", &list.join(",")])
            .args(["--trunk-transport", options.trunk_transport])
            .args(["--gateway-socket", &format!("127.0.0.1:{}", free_port())])
            .args(["--gw-timeout-ms", &options.gw_timeout_ms.to_string()])
            .args(["--shm", "128"]);
        if let Some(ng) = options.rtpengine {
            cmd.args(["--rtpengine", &ng.to_string()]);
        }
        if let Some((cert, key)) = &options.server_cert {
            cmd.arg("--server-cert")
                .arg(cert)
                .arg("--server-key")
                .arg(key);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start start.sh");
        wait_listening(addr, &mut child, "kamailio");
        Kamailio { child, addr, dir }
    }

    /// What Kamailio logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("kamailio.log")).unwrap_or_default()
    }
}

/// Writes `start.sh` and `kamailio.cfg` with `m`'s edits into `dir`; returns the script.
fn misconfigured_copy(dir: &Path, m: Misconfiguration) -> PathBuf {
    for file in ["start.sh", "kamailio.cfg"] {
        let mut text = std::fs::read_to_string(deploy_dir().join(file))
            .unwrap_or_else(|e| panic!("reading deploy/kamailio/{file}: {e}"));
        for e in m.edits.iter().filter(|e| e.file == file) {
            let n = text.matches(e.find).count();
            assert_eq!(
                n, 1,
                "misconfiguration {}: {:?} occurs {n} times in deploy/kamailio/{file}, expected once (the shipped file changed: update the variant)",
                m.name, e.find
            );
            text = text.replacen(e.find, e.replace, 1);
        }
        std::fs::write(dir.join(file), text).unwrap_or_else(|e| panic!("writing {file}: {e}"));
    }
    dir.join("start.sh")
}

impl Drop for Kamailio {
    /// SIGTERM first: Kamailio's main process then stops its workers (SIGKILL would orphan them).
    fn drop(&mut self) {
        crate::peers::terminate(&mut self.child);
    }
}
