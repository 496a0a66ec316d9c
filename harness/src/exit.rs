//! Process exit codes, the same for every subcommand: 0 every check passed; 1 a check failed (the
//! system under test broke an expectation); 2 bad usage or bad input; 3 a harness or
//! infrastructure error (nothing could be proved); 4 interrupted (SIGINT/SIGTERM) before the end.

/// Exit code: every check passed.
pub const EXIT_PASSED: u8 = 0;
/// Exit code: at least one check failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit code: bad usage or bad input.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: harness or infrastructure error.
pub const EXIT_ERROR: u8 = 3;
/// Exit code: the run was interrupted (SIGINT or SIGTERM) before it finished; the reports were
/// written with what it had, and say so.
pub const EXIT_INTERRUPTED: u8 = 4;

/// The check an interrupted run adds to its report (an `error` testcase in JUnit: the evidence
/// is incomplete), so an interruption never reads as a pass.
pub fn interrupted_check(what_was_left: &str) -> reports::CheckResult {
    reports::CheckResult {
        id: "run.completed".into(),
        requirement: None,
        outcome: reports::Outcome::Error,
        expected: Some("the run finished".into()),
        observed: Some("interrupted (SIGINT or SIGTERM)".into()),
        message: format!("INTERRUPTED: {what_was_left}"),
    }
}

/// An error that is the user's input, not the harness: a refused target, an unreadable or
/// malformed `--cert`, `--key`, `--ca` or `--locations` file. Anywhere in an error's chain it
/// makes the exit code [`EXIT_USAGE`] ([`code_for_error`]).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(String);

impl BadInput {
    /// A bad-input error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        BadInput(message.into())
    }
}

/// The exit code for an error that ended a subcommand: [`EXIT_USAGE`] when it is (or wraps)
/// [`BadInput`], else [`EXIT_ERROR`].
pub fn code_for_error(e: &anyhow::Error) -> u8 {
    if e.chain().any(|c| c.is::<BadInput>()) {
        EXIT_USAGE
    } else {
        EXIT_ERROR
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context as _;

    #[test]
    fn bad_input_anywhere_in_the_chain_is_a_usage_error() {
        let e = anyhow::Error::from(BadInput::new("refusing x")).context("starting");
        assert_eq!(code_for_error(&e), EXIT_USAGE);
        let io: Result<(), std::io::Error> = Err(std::io::Error::other("disk"));
        let e = io.context("writing").unwrap_err();
        assert_eq!(code_for_error(&e), EXIT_ERROR);
    }
}
