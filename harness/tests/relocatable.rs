//! The binary runs anywhere: a copy of `e911-harness` in an empty folder outside the repository,
//! started there with an empty environment, certifies on the scenario library built into it and
//! writes every report; `--scenarios` still overrides the built-in library.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;

/// Held while a copy is written and while a child is started: a child forked while another
/// test's copy is still open for writing inherits that descriptor until it execs, and the
/// other test's exec of its copy then fails with ETXTBSY ("Text file busy").
static EXEC: Mutex<()> = Mutex::new(());

/// The built binary copied into `dir` (an empty folder outside the repository).
fn copied_binary(dir: &Path) -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .canonicalize()
        .expect("workspace root");
    let dir = dir.canonicalize().expect("temp dir");
    assert!(
        !dir.starts_with(&repo),
        "{} must be outside the repository {}",
        dir.display(),
        repo.display()
    );
    assert_eq!(
        std::fs::read_dir(&dir).expect("temp dir").count(),
        0,
        "an empty folder"
    );
    let bin = dir.join("e911-harness");
    let _one = EXEC.lock().unwrap_or_else(|e| e.into_inner());
    std::fs::copy(env!("CARGO_BIN_EXE_e911-harness"), &bin).expect("copy the binary");
    bin
}

/// Runs the copy in `dir` with nothing inherited: no CARGO_* variables, no PATH, no HOME.
fn run_in(dir: &Path, bin: &Path, args: &[&str]) -> Output {
    let child = {
        let _one = EXEC.lock().unwrap_or_else(|e| e.into_inner());
        Command::new(bin)
            .args(args)
            .current_dir(dir)
            .env_clear()
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the copied binary starts")
    };
    child.wait_with_output().expect("the copied binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn report(out: &Path) -> serde_json::Value {
    for f in ["report.json", "junit.xml", "summary.md"] {
        assert!(out.join(f).is_file(), "{f} written to {}", out.display());
    }
    serde_json::from_slice(&std::fs::read(out.join("report.json")).expect("read")).expect("json")
}

#[test]
fn a_copied_binary_certifies_from_an_empty_folder_outside_the_repo() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bin = copied_binary(tmp.path());
    let out = tmp.path().join("out");
    let o = run_in(
        tmp.path(),
        &bin,
        &["certify", "--out", out.to_str().expect("utf-8")],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let json = report(&out);
    let ran = json["scenarios"].as_array().expect("scenarios").len();
    assert_eq!(
        ran,
        scenarios::SHIPPED_FILES.len(),
        "the whole built-in library"
    );
    let basic = json["scenarios"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "basic-911"))
        .expect("basic-911 ran");
    assert_eq!(basic["file"], "library/basic-911.toml", "named by its file");
}

#[test]
fn scenarios_on_disk_still_override_the_built_in_library() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bin = copied_binary(tmp.path());
    let basic = scenarios::SHIPPED_FILES
        .iter()
        .find(|f| f.name == "basic-911.toml")
        .expect("basic-911 ships");
    let own = basic
        .text
        .replace("name = \"basic-911\"", "name = \"my-own-911\"");
    std::fs::write(tmp.path().join("mine.toml"), own).expect("write");
    let out = tmp.path().join("out");
    let o = run_in(
        tmp.path(),
        &bin,
        &["certify", "--scenarios", "mine.toml", "--out", "out"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let json = report(&out);
    let names: Vec<&str> = json["scenarios"]
        .as_array()
        .expect("scenarios")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["my-own-911"]);
}

#[test]
fn the_built_in_library_passes_the_checks_certify_applies_to_files() {
    let shipped = scenarios::shipped().expect("the built-in library loads");
    assert_eq!(
        scenarios::caller::caller_problems(&shipped),
        Vec::<String>::new()
    );
}

/// A loopback port nothing listens on (bound, then released).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

#[test]
fn a_copied_binary_attacks_with_the_torture_corpus_built_into_it() {
    // The RFC 4475/5118 messages are compiled in (`include_bytes!`): a copy outside the
    // repository sends them to its own gateway, started the same way.
    let tmp = tempfile::tempdir().expect("tempdir");
    let bin = copied_binary(tmp.path());
    let addr = format!("127.0.0.1:{}", free_port());
    let mut gateway = {
        let _one = EXEC.lock().unwrap_or_else(|e| e.into_inner());
        Command::new(&bin)
            .args([
                "gateway",
                "--listen",
                &addr,
                "--transport",
                "tcp",
                "--quiet",
            ])
            .current_dir(tmp.path())
            .env_clear()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the copied gateway starts")
    };
    let up = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        std::net::TcpStream::connect(&addr).is_ok()
    });
    assert!(up, "the gateway listens on {addr}");
    let o = run_in(
        tmp.path(),
        &bin,
        &[
            "torture",
            "--target",
            &addr,
            "--transport",
            "tcp",
            "--only",
            "rfc4475/",
            "--max-cases",
            "5",
            "--out",
            "out",
        ],
    );
    let _ = gateway.kill();
    let _ = gateway.wait();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let json = report(&tmp.path().join("out"));
    let cases: Vec<&str> = json["scenarios"][0]["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .filter(|id| id.starts_with("rfc4475/"))
        .collect();
    assert_eq!(cases.len(), 5, "{cases:?}");
}
