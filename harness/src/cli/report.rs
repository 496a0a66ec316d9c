//! `e911-harness report REPORT.json`: the views again from a report alone (an old run's, or
//! one merged from several), with nothing but the file: `report.html` (its ladders come from
//! the calls' traces in the report) and `summary.md`. A load report's interval log is read
//! from beside the report when it is there, for the plots over time.

use std::path::PathBuf;

use clap::Args;

use crate::exit::{EXIT_ERROR, EXIT_PASSED, EXIT_USAGE};

/// `report` options.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The report.json to render.
    #[arg(value_name = "REPORT.json")]
    pub report: PathBuf,
    /// Write report.html (without --html or --markdown, both are written).
    #[arg(long)]
    pub html: bool,
    /// Write summary.md.
    #[arg(long)]
    pub markdown: bool,
    /// Folder to write to [default: the report's folder].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Runs `report`; returns the exit code.
pub fn report_cmd(a: &ReportArgs) -> anyhow::Result<u8> {
    let text = match std::fs::read_to_string(&a.report) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: reading {}: {e}", a.report.display());
            return Ok(EXIT_USAGE);
        }
    };
    let report = match reports::from_json_str(&text) {
        Ok(r) => r,
        Err(e) => {
            eprintln!(
                "error: {} is not an e911-harness report: {e}",
                a.report.display()
            );
            return Ok(EXIT_USAGE);
        }
    };
    let beside = a
        .report
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let dir = a.out.clone().unwrap_or_else(|| beside.clone());
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("error: creating {}: {e}", dir.display());
        return Ok(EXIT_ERROR);
    }
    let (html, markdown) = match (a.html, a.markdown) {
        (false, false) => (true, true),
        flags => flags,
    };
    let log = report
        .load
        .as_ref()
        .and_then(|l| l.interval_log.as_deref())
        .and_then(|name| std::fs::read(beside.join(name)).ok());
    let mut written = Vec::new();
    if html {
        let path = dir.join(reports::HTML_FILE);
        let inputs = reports::html::Inputs {
            interval_log: log.as_deref(),
        };
        reports::write_html(&report, &path, &inputs)?;
        written.push(path);
    }
    if markdown {
        let path = dir.join(reports::MARKDOWN_FILE);
        reports::write_markdown(&report, &path)?;
        written.push(path);
    }
    for p in &written {
        println!("wrote {}", p.display());
    }
    Ok(EXIT_PASSED)
}
