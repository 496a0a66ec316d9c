//! Printing to stdout that ends quietly when stdout is closed (`e911-harness ... | head`):
//! `print!` panics on a broken pipe (exit 101); these drop the text instead, since the reports
//! on disk and the exit code are what a run leaves behind.

use std::io::Write as _;

/// Writes `text` to stdout and flushes; a closed or failing stdout is ignored.
pub fn print_quietly(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// [`print_quietly`] with a line end.
pub fn println_quietly(text: &str) {
    print_quietly(&format!("{text}\n"));
}
