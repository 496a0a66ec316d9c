//! The `e911-harness` binary; everything lives in the `harness` library.

fn main() -> std::process::ExitCode {
    harness::cli::main()
}
