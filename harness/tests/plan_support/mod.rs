//! What the `certify --originator` tests share: the built binary run with a bounded wait,
//! free ports for peers that need a number, the report it wrote, and each step's failing
//! checks.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reports::{Outcome, RunReport};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_e911-harness");

/// A file of the repository.
pub fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// The shipped example plan, as a file.
pub fn genesys_plan() -> PathBuf {
    repo("scenarios/plans/genesys-byoc.toml")
}

/// The executable `name` from `PATH` or one of `extra` folders, or a panic saying how to get it.
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

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Run {
    /// Its exit code.
    pub code: i32,
    /// report.json, read back.
    pub report: RunReport,
    /// What it printed on stderr (the operator guidance).
    pub guidance: String,
    /// Its --out folder.
    pub out: PathBuf,
}

impl Run {
    /// Each step (scenario report) with its failing and erroring check ids.
    pub fn failures(&self) -> BTreeMap<String, Vec<String>> {
        self.report
            .scenarios
            .iter()
            .filter_map(|s| {
                let bad: Vec<String> = s
                    .checks
                    .iter()
                    .filter(|c| matches!(c.outcome, Outcome::Fail | Outcome::Error))
                    .map(|c| c.id.clone())
                    .collect();
                (!bad.is_empty()).then(|| (s.name.clone(), bad))
            })
            .collect()
    }

    /// The outcome of check `id` of step `step`.
    pub fn outcome(&self, step: &str, id: &str) -> Outcome {
        self.check(step, id).outcome
    }

    /// Check `id` of step `step`, or a panic listing the step's checks.
    pub fn check(&self, step: &str, id: &str) -> &reports::CheckResult {
        let s = self
            .report
            .scenarios
            .iter()
            .find(|s| s.name == step)
            .unwrap_or_else(|| panic!("no step {step} in the report"));
        s.checks
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("step {step} has no check {id}: {:#?}", s.checks))
    }

    /// Whether step `step` was reported as not applicable.
    pub fn not_applicable(&self, step: &str) -> bool {
        self.report
            .scenarios
            .iter()
            .any(|s| s.name == step && s.not_applicable.is_some())
    }

    /// The failures, the guidance's tail and the summary, for assertion messages.
    pub fn explain(&self) -> String {
        let lines: Vec<String> = self
            .report
            .scenarios
            .iter()
            .flat_map(|s| {
                s.checks
                    .iter()
                    .filter(|c| matches!(c.outcome, Outcome::Fail | Outcome::Error))
                    .map(move |c| format!("{} {}: {}: {}", c.outcome, s.name, c.id, c.message))
            })
            .collect();
        let g: Vec<&str> = self.guidance.lines().collect();
        format!(
            "exit {}\n{}\n--- guidance (tail) ---\n{}",
            self.code,
            lines.join("\n"),
            g[g.len().saturating_sub(60)..].join("\n")
        )
    }
}

/// Runs `e911-harness certify --originator <args>` in `dir` (its reports in `dir/out`) and
/// waits at most `limit`, killing it and panicking with its output past that.
pub fn certify(dir: &Path, args: &[&str], limit: Duration) -> Run {
    let out = dir.join("out");
    let stdout = std::fs::File::create(dir.join("stdout.txt")).expect("stdout file");
    let stderr = std::fs::File::create(dir.join("stderr.txt")).expect("stderr file");
    let mut child = Command::new(BIN)
        .arg("certify")
        .args(args)
        .arg("--out")
        .arg(&out)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .expect("start e911-harness");
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for e911-harness") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "certify --originator did not finish within {limit:?}:\n{}",
                std::fs::read_to_string(dir.join("stderr.txt")).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let guidance = std::fs::read_to_string(dir.join("stderr.txt")).unwrap_or_default();
    let json = std::fs::read_to_string(out.join("report.json"))
        .unwrap_or_else(|e| panic!("no report.json ({e}); stderr:\n{guidance}"));
    Run {
        code: status.code().unwrap_or(-1),
        report: reports::from_json_str(&json).expect("report.json parses"),
        guidance,
        out,
    }
}

/// A background process the test started, stopped with SIGTERM (then SIGKILL) when dropped.
#[derive(Debug)]
pub struct Background(pub std::process::Child);

impl Drop for Background {
    fn drop(&mut self) {
        let pid = self.0.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
