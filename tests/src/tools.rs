//! The system tools the evidence tests read the harness's output with: Debian's `chromium`
//! (headless) and `tshark`. A missing tool fails the test with how to install it; it never
//! skips it. `.ci/run` installs both.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Where the evidence tests keep what CI should keep: screenshots and sample outputs
/// (`target/evidence/`, or under `CARGO_TARGET_DIR`).
pub fn evidence_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("evidence");
    std::fs::create_dir_all(&dir).expect("evidence folder");
    dir
}

/// Runs `tool args...` under `timeout` (bounded), panicking with an install hint when the
/// tool is not there.
pub fn run(tool: &str, args: &[&str], seconds: u32) -> Output {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "{tool} is not installed: this test needs the real {tool} (Debian: `apt-get install {}`; .ci/run installs it)",
        if tool == "chromium" {
            "chromium"
        } else {
            "tshark"
        }
    );
    Command::new("timeout")
        .arg(seconds.to_string())
        .arg(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {tool}: {e}"))
}

/// What headless Chromium made of a page.
#[derive(Debug)]
pub struct Rendered {
    /// The DOM after load (and after the page's script ran).
    pub dom: String,
    /// Every console message the page produced (errors, CSP violations, uncaught
    /// exceptions, logs): a report page produces none.
    pub console: Vec<String>,
}

fn chromium(profile: &Path, extra: &[&str], url: &str) -> Output {
    let profile = format!("--user-data-dir={}", profile.display());
    let mut args = vec![
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        profile.as_str(),
    ];
    args.extend_from_slice(extra);
    args.push(url);
    run("chromium", &args, 120)
}

/// Loads `page` in headless Chromium (a fresh profile): its DOM and console, and a
/// screenshot of the top `height` pixels at 1280 wide into `screenshot`.
pub fn render(page: &Path, screenshot: &Path, height: u32) -> Rendered {
    let profile = tempfile::tempdir().expect("browser profile");
    let url = format!("file://{}", page.canonicalize().expect("page").display());
    let out = chromium(
        profile.path(),
        &["--enable-logging=stderr", "--v=0", "--dump-dom"],
        &url,
    );
    assert!(out.status.success(), "chromium --dump-dom failed: {out:?}");
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    let console = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect();
    let _ = std::fs::remove_file(screenshot);
    let shot = format!("--screenshot={}", screenshot.display());
    let size = format!("--window-size=1280,{height}");
    let out = chromium(profile.path(), &[&shot, &size, "--hide-scrollbars"], &url);
    assert!(
        out.status.success() && screenshot.is_file(),
        "chromium --screenshot wrote no {}: {out:?}",
        screenshot.display()
    );
    Rendered { dom, console }
}
