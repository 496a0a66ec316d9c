//! Waivers: a known, accepted deviation turns the checks it names into "skipped, with the
//! reason" in every report (JUnit `<skipped message="waived: ...">`, the requirements matrix
//! shows `PASS (1 waived)`), instead of failing the run. A waiver file is TOML:
//!
//! ```toml
//! [[waiver]]
//! check = "org-wrong/response.warning"   # scenario/check-id; `*` and `?` match any text
//! reason = "the lab SBC strips Warning headers (CHG-1234)"
//! ```
//!
//! A pattern without `/` matches that check id in every scenario. Only checks that did not pass
//! are waived (a pass stays a pass). A waiver that matches no check at all is an error with its
//! file and line: it is stale, or mistyped, and would hide nothing while looking like it does.

use std::path::{Path, PathBuf};

use reports::{Outcome, ScenarioReport, WAIVED_PREFIX};
use serde::Deserialize;
use toml::Spanned;

/// One accepted deviation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiver {
    /// `scenario/check-id` or `check-id`, with `*` and `?` wildcards.
    pub pattern: String,
    /// Why it is accepted (a change request, a ticket).
    pub reason: String,
    /// Line of the `check` key in the file.
    pub line: usize,
}

/// The waivers of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Waivers {
    /// The file they came from.
    pub file: PathBuf,
    /// In file order.
    pub items: Vec<Waiver>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileToml {
    #[serde(default)]
    waiver: Vec<WaiverToml>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WaiverToml {
    check: Spanned<String>,
    reason: Spanned<String>,
}

/// A waiver file that cannot be used, with its position.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct WaiverError {
    /// The file.
    pub file: String,
    /// 1-based line (0 when the file could not be read).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Reads and checks a waiver file: every entry needs a non-empty `check` and `reason`.
pub fn load(path: &Path) -> Result<Waivers, WaiverError> {
    let file = path.display().to_string();
    // Bounded like every input file: a regular file of at most 1 MiB.
    let text = scenarios::read_text(path).map_err(|e| WaiverError {
        file: file.clone(),
        line: 0,
        message: format!("cannot read the waiver file: {e}"),
    })?;
    parse(&text, path)
}

/// [`load`] on text already read.
pub fn parse(text: &str, path: &Path) -> Result<Waivers, WaiverError> {
    let file = path.display().to_string();
    let doc: FileToml = toml::from_str(text).map_err(|e| WaiverError {
        file: file.clone(),
        line: e.span().map_or(1, |s| line_of(text, s.start)),
        message: e.message().to_owned(),
    })?;
    let mut items = Vec::new();
    for w in doc.waiver {
        let line = line_of(text, w.check.span().start);
        let pattern = w.check.into_inner().trim().to_owned();
        if pattern.is_empty() {
            return Err(WaiverError {
                file,
                line,
                message: "waiver.check is empty: name `scenario/check-id` or `check-id`".into(),
            });
        }
        let reason_line = line_of(text, w.reason.span().start);
        let reason = w.reason.into_inner().trim().to_owned();
        if reason.is_empty() {
            return Err(WaiverError {
                file,
                line: reason_line,
                message: format!("waiver.reason for `{pattern}` is empty: say why it is accepted"),
            });
        }
        items.push(Waiver {
            pattern,
            reason,
            line,
        });
    }
    Ok(Waivers {
        file: path.to_owned(),
        items,
    })
}

/// `*` matches any run of characters, `?` any one character; everything else literally.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

impl Waiver {
    fn matches(&self, scenario: &str, check: &str) -> bool {
        match self.pattern.split_once('/') {
            Some((sp, cp)) => glob(sp, scenario) && glob(cp, check),
            None => glob(&self.pattern, check),
        }
    }
}

impl Waivers {
    /// Turns every non-passing check a waiver names into a skip with `waived: <reason>` (the
    /// original outcome and message kept after it). Returns the waivers that matched no check
    /// at all (pass or not) as errors.
    pub fn apply(&self, scenarios: &mut [ScenarioReport]) -> Vec<WaiverError> {
        let mut used = vec![false; self.items.len()];
        for s in scenarios.iter_mut() {
            for c in &mut s.checks {
                let Some(i) = self.items.iter().position(|w| w.matches(&s.name, &c.id)) else {
                    continue;
                };
                used[i] = true;
                if matches!(c.outcome, Outcome::Fail | Outcome::Error) {
                    c.message = format!(
                        "{WAIVED_PREFIX}{} (was {}: {})",
                        self.items[i].reason,
                        c.outcome.label(),
                        c.message
                    );
                    c.outcome = Outcome::Skipped;
                }
            }
        }
        self.items
            .iter()
            .zip(used)
            .filter(|(_, u)| !u)
            .map(|(w, _)| WaiverError {
                file: self.file.display().to_string(),
                line: w.line,
                message: format!("waiver `{}` matches no check in this run", w.pattern),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reports::CheckResult;

    fn check(id: &str, outcome: Outcome) -> CheckResult {
        CheckResult {
            id: id.into(),
            requirement: None,
            outcome,
            expected: None,
            observed: None,
            message: "m".into(),
        }
    }

    fn scenario(name: &str, checks: Vec<CheckResult>) -> ScenarioReport {
        ScenarioReport {
            name: name.into(),
            checks,
            ..ScenarioReport::default()
        }
    }

    const FILE: &str = "# accepted deviations\n[[waiver]]\ncheck = \"org-*/response.warning\"\nreason = \"SBC strips Warning (CHG-1)\"\n\n[[waiver]]\ncheck = \"transport.tls\"\nreason = \"lab\"\n\n[[waiver]]\ncheck = \"nothing/*\"\nreason = \"stale\"\n";

    #[test]
    fn waives_failures_keeps_passes_and_reports_stale_waivers_with_their_line() {
        let w = parse(FILE, Path::new("waivers.toml")).unwrap();
        assert_eq!(w.items.len(), 3);
        assert_eq!(w.items[0].line, 3);
        let mut runs = vec![
            scenario(
                "org-wrong",
                vec![
                    check("response.warning", Outcome::Fail),
                    check("call.final-status", Outcome::Fail),
                ],
            ),
            scenario("basic-911", vec![check("transport.tls", Outcome::Pass)]),
        ];
        let stale = w.apply(&mut runs);
        let waived = &runs[0].checks[0];
        assert_eq!(waived.outcome, Outcome::Skipped);
        assert!(waived.is_waived());
        assert_eq!(
            waived.message,
            "waived: SBC strips Warning (CHG-1) (was FAIL: m)"
        );
        assert_eq!(runs[0].checks[1].outcome, Outcome::Fail, "not named");
        assert_eq!(
            runs[1].checks[0].outcome,
            Outcome::Pass,
            "a pass stays a pass"
        );
        assert_eq!(stale.len(), 1);
        assert_eq!(
            stale[0].to_string(),
            "waivers.toml:11: waiver `nothing/*` matches no check in this run"
        );
    }

    #[test]
    fn bad_files_say_where() {
        let e = parse("[[waiver]]\ncheck = \"x\"\n", Path::new("w.toml")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("w.toml:1: missing field `reason`"),
            "{e}"
        );
        let e = parse(
            "[[waiver]]\ncheck = \"x\"\nreason = \" \"\n",
            Path::new("w.toml"),
        )
        .unwrap_err();
        assert_eq!(e.line, 3);
        let e = parse(
            "[[waiver]]\ncheck = \"x\"\nreason = \"r\"\nwhy = 1\n",
            Path::new("w.toml"),
        )
        .unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        assert!(e.message.contains("why"), "{e}");
    }

    #[test]
    fn glob_matches_like_a_shell() {
        assert!(glob("org-*", "org-wrong"));
        assert!(glob("*", ""));
        assert!(glob("a?c", "abc"));
        assert!(glob("*.tls", "transport.tls"));
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("a*b", "axxc"));
        assert!(!glob("org-*", "basic-911"));
    }
}
