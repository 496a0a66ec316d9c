//! Real third-party peers (SIPp, Kamailio) as child processes: finding them with a message
//! that says how to install them, free ports for tools that cannot take port 0, and bounded
//! waits that kill the child and show its output instead of hanging.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Output};
use std::time::{Duration, Instant};

/// The executable `name` from `PATH` or one of `extra` folders (Debian puts kamailio in
/// /usr/sbin), or a panic that says how to install it.
pub fn tool(name: &str, extra: &[&str], install: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(extra.iter().map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("{name} is not installed: this test needs it ({install}; .ci/run installs it)")
        })
}

/// A TCP port on 127.0.0.1 that was free a moment ago, for peers that need a number.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// Stops a peer daemon: SIGTERM first (so it stops its own workers; SIGKILL would orphan
/// them), SIGKILL when it is still there 5 s later.
pub fn terminate(child: &mut Child) {
    let pid = child.id().to_string();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits until something accepts TCP connections on `addr`; panics (with the reason) when
/// `child` exits first, which is what a taken port or a bad configuration looks like.
pub fn wait_listening(addr: SocketAddr, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "{what} exited ({status}) before listening on {addr}: port taken or bad configuration"
            );
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{what} did not listen on {addr} within 10 s");
}

/// Waits for `child` to exit within `limit`; kills it and panics with its output otherwise.
pub fn wait_bounded(mut child: Child, limit: Duration, what: &str) -> Output {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return child.wait_with_output().expect("collect output"),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let out = child.wait_with_output().expect("collect output");
                panic!(
                    "{what} did not finish within {limit:?}; its output:\n{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            Err(e) => panic!("waiting for {what}: {e}"),
        }
    }
}
