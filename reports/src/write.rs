//! Writing report files atomically: each file is written to a temporary sibling, flushed to
//! disk, then renamed over the target, so an interrupted run leaves either the previous file
//! or the complete new one, never half a file.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::model::RunReport;

/// File name of the JSON report inside the output folder.
pub const JSON_FILE: &str = "report.json";
/// File name of the JUnit XML report inside the output folder.
pub const JUNIT_FILE: &str = "junit.xml";
/// File name of the Markdown summary inside the output folder.
pub const MARKDOWN_FILE: &str = "summary.md";
/// File name of the HTML report inside the output folder.
pub const HTML_FILE: &str = "report.html";

/// Why a report could not be rendered or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The output folder could not be created.
    #[error("creating report folder {path}: {source}")]
    CreateDir {
        /// Folder that could not be created.
        path: PathBuf,
        /// Underlying I/O error.
        source: io::Error,
    },
    /// A report file could not be written or moved into place.
    #[error("writing {path}: {source}")]
    Io {
        /// File being written.
        path: PathBuf,
        /// Underlying I/O error.
        source: io::Error,
    },
    /// The report could not be serialized to (or read from) JSON.
    #[error("json report: {0}")]
    Json(#[source] serde_json::Error),
    /// The report could not be serialized to JUnit XML.
    #[error("junit report: {0}")]
    Junit(#[source] quick_junit::SerializeError),
}

/// Paths of the files [`write_all`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFiles {
    /// `report.json`.
    pub json: PathBuf,
    /// `junit.xml`.
    pub junit: PathBuf,
    /// `summary.md`.
    pub markdown: PathBuf,
    /// `report.html`.
    pub html: PathBuf,
}

impl std::fmt::Display for WrittenFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}, {}, {}, {}",
            self.json.display(),
            self.junit.display(),
            self.markdown.display(),
            self.html.display()
        )
    }
}

/// Creates `dir` (and its parents) and writes `report.json`, `junit.xml`, `summary.md` and
/// `report.html` into it, each atomically. Everything is rendered before the first file is
/// touched, so a rendering error writes nothing.
pub fn write_all(report: &RunReport, dir: &Path) -> Result<WrittenFiles, WriteError> {
    write_all_with(report, dir, &crate::html::Inputs::default())
}

/// [`write_all`], drawing `report.html` with `inputs` (a load run's interval log).
pub fn write_all_with(
    report: &RunReport,
    dir: &Path,
    inputs: &crate::html::Inputs<'_>,
) -> Result<WrittenFiles, WriteError> {
    let json = crate::json::to_json_string(report)?;
    let junit = crate::junit::to_junit_string(report)?;
    let markdown = crate::markdown::to_markdown(report);
    let html = crate::html::to_html(report, inputs);
    fs::create_dir_all(dir).map_err(|source| WriteError::CreateDir {
        path: dir.to_owned(),
        source,
    })?;
    let files = WrittenFiles {
        json: dir.join(JSON_FILE),
        junit: dir.join(JUNIT_FILE),
        markdown: dir.join(MARKDOWN_FILE),
        html: dir.join(HTML_FILE),
    };
    write_atomic(&files.json, json.as_bytes())?;
    write_atomic(&files.junit, junit.as_bytes())?;
    write_atomic(&files.markdown, markdown.as_bytes())?;
    write_atomic(&files.html, html.as_bytes())?;
    Ok(files)
}

/// Writes the HTML report to `path`, atomically, drawn with `inputs`.
pub fn write_html(
    report: &RunReport,
    path: &Path,
    inputs: &crate::html::Inputs<'_>,
) -> Result<(), WriteError> {
    write_atomic(path, crate::html::to_html(report, inputs).as_bytes())
}

/// Writes the JSON report to `path`, atomically.
pub fn write_json(report: &RunReport, path: &Path) -> Result<(), WriteError> {
    write_atomic(path, crate::json::to_json_string(report)?.as_bytes())
}

/// Writes the JUnit XML report to `path`, atomically.
pub fn write_junit(report: &RunReport, path: &Path) -> Result<(), WriteError> {
    write_atomic(path, crate::junit::to_junit_string(report)?.as_bytes())
}

/// Writes the Markdown summary to `path`, atomically.
pub fn write_markdown(report: &RunReport, path: &Path) -> Result<(), WriteError> {
    write_atomic(path, crate::markdown::to_markdown(report).as_bytes())
}

/// Writes `data` to a fresh temporary file next to `path`, syncs it and renames it over
/// `path`. On any failure the temporary file is removed and `path` is left as it was.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<(), WriteError> {
    let err = |source| WriteError::Io {
        path: path.to_owned(),
        source,
    };
    let tmp = temp_sibling(path).map_err(err)?;
    let result = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        sync_parent(path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(err)
}

/// A temporary name in the same folder (so the rename stays on one filesystem), unique per
/// process and call: `.<name>.<pid>.<n>.tmp`.
fn temp_sibling(path: &Path) -> io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "report path has no file name")
    })?;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.{n}.tmp", std::process::id()));
    Ok(path.with_file_name(tmp_name))
}

/// Makes the rename durable: on Unix the folder entry is synced too.
#[cfg(unix)]
fn sync_parent(path: &Path) -> io::Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    fs::File::open(parent)?.sync_all()
}

/// Makes the rename durable: elsewhere folders cannot be opened for syncing.
#[cfg(not(unix))]
fn sync_parent(_path: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::sample_report;

    fn dir_names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn write_all_creates_the_folder_and_three_complete_files() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("runs").join("r1");
        let report = sample_report();
        let files = write_all(&report, &out).unwrap();
        assert_eq!(
            dir_names(&out),
            ["junit.xml", "report.html", "report.json", "summary.md"],
            "no temp files left behind"
        );
        let json = fs::read_to_string(&files.json).unwrap();
        assert_eq!(crate::json::from_json_str(&json).unwrap(), report);
        assert_eq!(
            fs::read_to_string(&files.junit).unwrap(),
            crate::to_junit_string(&report).unwrap()
        );
        assert_eq!(
            fs::read_to_string(&files.markdown).unwrap(),
            crate::to_markdown(&report)
        );
    }

    #[test]
    fn rewriting_replaces_the_previous_files() {
        let tmp = tempfile::tempdir().unwrap();
        let mut report = sample_report();
        write_all(&report, tmp.path()).unwrap();
        report.command = "run".into();
        let files = write_all(&report, tmp.path()).unwrap();
        assert!(
            fs::read_to_string(&files.json)
                .unwrap()
                .contains("\"command\": \"run\"")
        );
        assert_eq!(dir_names(tmp.path()).len(), 4);
    }

    #[test]
    fn failed_write_leaves_the_old_file_and_no_temp() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("report.json");
        fs::write(&target, "old").unwrap();
        // Renaming a file over a non-empty folder fails: the folder stands in for a target
        // that cannot be replaced.
        let blocked = tmp.path().join("blocked");
        fs::create_dir(&blocked).unwrap();
        fs::write(blocked.join("keep"), "x").unwrap();
        let err = write_atomic(&blocked, b"new").unwrap_err();
        assert!(
            matches!(err, WriteError::Io { ref path, .. } if path == &blocked),
            "{err}"
        );
        assert_eq!(fs::read_to_string(&target).unwrap(), "old");
        assert_eq!(
            dir_names(tmp.path()),
            ["blocked", "report.json"],
            "temp file removed"
        );
    }

    #[test]
    fn write_all_reports_an_uncreatable_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("not-a-dir");
        fs::write(&file, "x").unwrap();
        let err = write_all(&sample_report(), &file.join("sub")).unwrap_err();
        assert!(matches!(err, WriteError::CreateDir { .. }), "{err}");
        assert!(err.to_string().starts_with("creating report folder"));
    }

    #[test]
    fn single_writers_write_to_the_given_path() {
        let tmp = tempfile::tempdir().unwrap();
        let report = sample_report();
        write_json(&report, &tmp.path().join("a.json")).unwrap();
        write_junit(&report, &tmp.path().join("a.xml")).unwrap();
        write_markdown(&report, &tmp.path().join("a.md")).unwrap();
        assert_eq!(dir_names(tmp.path()), ["a.json", "a.md", "a.xml"]);
        assert!(
            fs::read_to_string(tmp.path().join("a.xml"))
                .unwrap()
                .starts_with("<?xml")
        );
    }
}
