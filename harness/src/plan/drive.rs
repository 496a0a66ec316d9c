//! Unattended runs: a command that makes the originator place a step's calls (SIPp, the
//! harness's own `e911-harness call`, a script that calls a lab trunk's API). It runs once per
//! step, after the gateways apply the step's faults, through `sh -c`, with the step in its
//! environment ([`env()`]); its output goes to a log file; it is bounded by the step's timeout
//! (then its whole process group is stopped).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use scenarios::Scenario;
use scenarios::plan::PlanStep;

use super::judge::{Driven, expected_ani};

/// What every step's drive command is told about the run (the gateways and how to reach them).
#[derive(Debug, Clone)]
pub struct RunEnv {
    /// gw1 then gw2: (name, host name, `ip:port`).
    pub gateways: Vec<(String, String, String)>,
    /// `tls` or `tcp`.
    pub transport: String,
    /// The CA the gateways' certificates chain to (PEM file).
    pub ca: PathBuf,
}

/// The environment of a step's drive command:
/// `E911_STEP` (1-based), `E911_STEPS`, `E911_STEP_NAME`, `E911_SAY`, `E911_DIAL`,
/// `E911_ANI` (the ANI that must arrive; empty when the step names none), `E911_ORG`,
/// `E911_CALLS`, `E911_TIMEOUT` (seconds), `E911_TRANSPORT`, `E911_CA`, and per gateway
/// `E911_GW1` (`ip:port`) and `E911_GW1_HOST` (its name), `E911_GW2`, `E911_GW2_HOST`.
pub fn env(
    run: &RunEnv,
    step: &PlanStep,
    sc: &Scenario,
    index: usize,
    total: usize,
) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = [
        ("E911_STEP", (index + 1).to_string()),
        ("E911_STEPS", total.to_string()),
        ("E911_STEP_NAME", sc.name.clone()),
        ("E911_SAY", step.say.clone()),
        ("E911_DIAL", sc.call.dial.clone()),
        ("E911_ANI", expected_ani(sc).unwrap_or_default()),
        (
            "E911_ORG",
            sc.call.org_headers.first().cloned().unwrap_or_default(),
        ),
        ("E911_CALLS", step.calls().to_string()),
        ("E911_TIMEOUT", step.timeout.as_secs().to_string()),
        ("E911_TRANSPORT", run.transport.clone()),
        ("E911_CA", run.ca.display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (name, host, addr) in &run.gateways {
        let key = format!("E911_{}", name.to_ascii_uppercase());
        v.push((format!("{key}_HOST"), host.clone()));
        v.push((key, addr.clone()));
    }
    v
}

/// A drive command running for one step.
#[derive(Debug)]
pub struct Running {
    child: tokio::process::Child,
    log: PathBuf,
}

impl Running {
    /// Starts `command` with `env`, its output to `log` (created, with its folder).
    pub fn start(command: &str, env: &[(String, String)], log: &Path) -> std::io::Result<Running> {
        if let Some(dir) = log.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let out = std::fs::File::create(log)?;
        let err = out.try_clone()?;
        let mut cmd = tokio::process::Command::new("sh");
        cmd.arg("-c")
            .arg(command)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .kill_on_drop(true);
        #[cfg(unix)]
        cmd.process_group(0);
        Ok(Running {
            child: cmd.spawn()?,
            log: log.to_owned(),
        })
    }

    /// Its end, when it has ended (without waiting).
    pub fn poll(&mut self) -> Option<Driven> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(self.ended(status.code())),
            Ok(None) => None,
            Err(_) => Some(self.ended(None)),
        }
    }

    /// Stops it and everything it started (its process group): SIGTERM, then SIGKILL after
    /// `grace`.
    pub async fn stop(mut self, grace: Duration) -> Driven {
        if let Some(d) = self.poll() {
            return d;
        }
        if let Some(pid) = self.child.id() {
            signal_group(pid, "TERM");
            let stopped = tokio::time::timeout(grace, self.child.wait()).await.is_ok();
            // What it started may outlive it: the group goes too.
            signal_group(pid, "KILL");
            if stopped {
                return self.ended(None);
            }
        }
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(grace, self.child.wait()).await;
        self.ended(None)
    }

    fn ended(&self, code: Option<i32>) -> Driven {
        Driven {
            started: true,
            code,
            tail: tail(&self.log, 5),
        }
    }
}

/// Sends `signal` to the process group `pid` leads (started with `process_group(0)`).
fn signal_group(pid: u32, signal: &str) {
    let _ = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg("--")
        .arg(format!("-{pid}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// The last `n` non-empty lines of `path`, joined with ` | `.
fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_command_sees_the_step_and_its_output_is_kept() {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("drive/01-x.log");
        let env = vec![("E911_DIAL".to_owned(), "911".to_owned())];
        let mut r = Running::start("echo dialing $E911_DIAL; exit 3", &env, &log).expect("start");
        let d = loop {
            if let Some(d) = r.poll() {
                break d;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        assert_eq!(d.code, Some(3));
        assert_eq!(d.tail, "dialing 911");
    }

    #[tokio::test]
    async fn a_command_past_its_time_is_stopped_with_what_it_started() {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("x.log");
        let pid_file = dir.path().join("bg.pid");
        let command = format!(
            "sleep 30 & echo $! > {}; sleep 30; echo never",
            pid_file.display()
        );
        let r = Running::start(&command, &[], &log).expect("start");
        let bg = loop {
            match std::fs::read_to_string(&pid_file) {
                Ok(p) if p.ends_with('\n') => break p.trim().to_owned(),
                _ => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        };
        let started = std::time::Instant::now();
        let d = r.stop(Duration::from_secs(2)).await;
        assert_eq!(d.code, None);
        assert!(started.elapsed() < Duration::from_secs(10));
        // What the command started in the background was stopped with it (its process group):
        // gone, or a zombie waiting for a reaper (state Z in /proc).
        let gone = (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(20));
            match std::fs::read_to_string(format!("/proc/{bg}/stat")) {
                Err(_) => true,
                Ok(stat) => stat
                    .rsplit_once(')')
                    .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
            }
        });
        assert!(gone, "the background sleep {bg} outlived the stop");
    }
}
