//! Load and run verdicts that never lie, against the built binary: a run where no call was
//! answered fails even without `--slo`; refusals by `--max-concurrent` fail; 404s for the
//! non-emergency numbers a `--mix` dials are declared; SIGTERM (what CI timeouts send) writes
//! the reports and exits 4 (INTERRUPTED, shown in JUnit) like SIGINT; a closed stdout ends
//! quietly. Every peer is on loopback; every wait is bounded.

use std::io::Read as _;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_e911-harness"))
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn junit(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("junit.xml")).unwrap_or_default()
}

#[test]
fn a_load_run_where_every_call_timed_out_fails_without_an_slo() {
    // A peer that accepts and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("silent");
    let o = bin()
        .args([
            "load",
            "--target",
            &addr,
            "--transport",
            "tcp",
            "--rate",
            "10",
            "--calls",
            "3",
        ])
        .args([
            "--timeout",
            "300ms",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    drop(silent);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(!t.contains("verdict: PASSED"), "{t}");
    assert!(junit(&out).contains("load.calls"), "{}", junit(&out));
}

#[test]
fn refusals_by_max_concurrent_fail_and_declared_404s_pass() {
    let dir = tempfile::tempdir().unwrap();
    let capped = dir.path().join("capped");
    let o = bin()
        .args([
            "load",
            "--transport",
            "tcp",
            "--rate",
            "20",
            "--calls",
            "10",
            "--hold",
            "1s",
        ])
        .args([
            "--max-concurrent",
            "1",
            "--quiet",
            "--out",
            capped.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("refused_max_concurrent"), "{}", text(&o));

    let mixed = dir.path().join("mixed");
    let o = bin()
        .args([
            "load",
            "--transport",
            "tcp",
            "--rate",
            "20",
            "--calls",
            "20",
        ])
        .args([
            "--mix",
            "911=50,4155550100=50",
            "--quiet",
            "--out",
            mixed.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

/// Starts `args`, sends SIGTERM once stderr shows `marker` (the run is under way), and returns
/// the exit status, stdout and the whole of stderr.
fn terminated(args: &[&str], marker: &str) -> Output {
    use std::io::BufRead as _;
    let mut child = bin()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let mut seen = String::new();
    let until = Instant::now() + Duration::from_secs(60);
    while !seen.contains(marker) {
        let left = until.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                seen.push_str(&line);
                seen.push('\n');
            }
            Err(_) => {
                let _ = child.kill();
                panic!("{marker:?} not seen within 60 s: {seen}");
            }
        }
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    while child.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < until + Duration::from_secs(60),
            "still running after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut out = child.wait_with_output().unwrap();
    reader.join().unwrap();
    seen.extend(rx.try_iter().map(|l| l + "\n"));
    out.stderr = seen.into_bytes();
    out
}

#[test]
fn sigterm_writes_the_reports_and_exits_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("load");
    let o = terminated(
        &[
            "load",
            "--transport",
            "tcp",
            "--rate",
            "20",
            "--duration",
            "60s",
            "--out",
            out.to_str().unwrap(),
        ],
        "offered",
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(4), "{t}");
    assert!(t.contains("verdict: INTERRUPTED"), "{t}");
    let j = junit(&out);
    assert!(
        j.contains("run.completed") && j.contains("INTERRUPTED"),
        "{j}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["load"]["interrupted"], true);

    let out = dir.path().join("certify");
    let o = terminated(&["certify", "--out", out.to_str().unwrap()], "[1/");
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(junit(&out).contains("run.completed"), "{}", junit(&out));
}

#[test]
fn a_closed_stdout_ends_quietly() {
    let library = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/library");
    let mut child = bin()
        .args(["validate", library.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end before the child writes its line.
    drop(child.stdout.take());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
