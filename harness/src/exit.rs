//! Process exit codes, the same for every subcommand: 0 every check passed; 1 a check failed (the
//! system under test broke an expectation); 2 bad usage or bad input; 3 a harness or
//! infrastructure error (nothing could be proved).

/// Exit code: every check passed.
pub const EXIT_PASSED: u8 = 0;
/// Exit code: at least one check failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit code: bad usage or bad input.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: harness or infrastructure error.
pub const EXIT_ERROR: u8 = 3;
