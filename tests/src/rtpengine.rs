//! rtpengine (Debian's `rtpengine-daemon`) as the media relay of the Kamailio SBC: started in
//! userspace (`--table=-1`, no kernel module) on loopback with its ng control socket on a free
//! UDP port and media ports in `ports`, in the foreground, and stopped with SIGTERM when
//! dropped. Ready once it answers an ng `ping`.

use std::fs::File;
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::peers::tool;

/// A running rtpengine.
#[derive(Debug)]
pub struct Rtpengine {
    child: Child,
    /// Its ng control socket (UDP).
    pub ng: SocketAddr,
    dir: tempfile::TempDir,
}

/// A UDP port on 127.0.0.1 that was free a moment ago.
fn free_udp_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    s.local_addr().expect("local addr").port()
}

impl Rtpengine {
    /// Starts rtpengine relaying media on `ports` (ICD 4: 30000-60000); panics with its log
    /// when it does not answer a ping within 10 s.
    pub fn start(ports: (u16, u16)) -> Rtpengine {
        let bin = tool(
            "rtpengine",
            &["/usr/sbin", "/usr/bin"],
            "Debian/Ubuntu: apt-get install rtpengine-daemon",
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let log = File::create(dir.path().join("rtpengine.log")).expect("log file");
        let ng: SocketAddr = ([127, 0, 0, 1], free_udp_port()).into();
        let mut child = Command::new(bin)
            .args([
                "--config-file=none",
                "--foreground",
                "--log-stderr",
                "--table=-1",
                "--interface=127.0.0.1",
                "--log-level=6",
                "--delete-delay=0",
            ])
            .arg(format!("--listen-ng={ng}"))
            .arg(format!("--port-min={}", ports.0))
            .arg(format!("--port-max={}", ports.1))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start rtpengine");
        let me = |child| Rtpengine { child, ng, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        let probe = UdpSocket::bind("127.0.0.1:0").expect("bind probe");
        probe
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        let mut buf = [0u8; 256];
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let r = me(child);
                panic!("rtpengine exited ({status}) before answering:\n{}", r.log());
            }
            let _ = probe.send_to(b"e911 d7:command4:pinge", ng);
            if let Ok((n, _)) = probe.recv_from(&mut buf)
                && buf[..n].windows(4).any(|w| w == b"pong")
            {
                return me(child);
            }
            if Instant::now() > deadline {
                let r = me(child);
                panic!("rtpengine did not answer a ping on {ng}:\n{}", r.log());
            }
        }
    }

    /// What rtpengine logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("rtpengine.log")).unwrap_or_default()
    }
}

impl Drop for Rtpengine {
    fn drop(&mut self) {
        crate::peers::terminate(&mut self.child);
    }
}
