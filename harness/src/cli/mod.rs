//! The `e911-harness` command line: clap types and the subcommand drivers. `main.rs` only calls
//! [`main`], so tests can drive every subcommand in-process.
//!
//! Exit codes are [`crate::exit`]'s.

use std::path::PathBuf;
use std::process::ExitCode;

pub mod call;
pub mod certify;
pub mod certs;
pub mod gateway;
pub mod originator;
pub mod report;

pub use certify::{CertifyArgs, RunArgs};
pub use certs::CertsArgs;
pub use gateway::GatewayArgs;

use clap::{Args, Parser, Subcommand};

use crate::exit::{EXIT_ERROR, EXIT_PASSED, EXIT_USAGE};

/// Prove that emergency calls (911/933) work over a SIP/TLS trunk to a pair of E911 gateways.
#[derive(Debug, Parser)]
#[command(name = "e911-harness", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the shipped certification suite against two embedded mock gateways over TLS.
    Certify(CertifyArgs),
    /// Run scenarios against the embedded gateways or any gateway/SBC (--target).
    Run(RunArgs),
    /// Run a standalone mock E911 gateway that logs what it receives as JSON lines.
    Gateway(GatewayArgs),
    /// Write a lab CA and gateway certificates; with --sbc, a certificate for your SBC too.
    Certs(CertsArgs),
    /// Lint scenario files and test plans (every problem, with file, line and field).
    Validate(ValidateArgs),
    /// Open-loop load (calls per second) with latency percentiles, SLOs and --find-max.
    Load(crate::load::LoadArgs),
    /// Attack a system under test with RFC 4475/5118 messages and INVITE mutations, checking
    /// after each batch that it still answers OPTIONS and completes a 911 call.
    Torture(crate::torture::TortureArgs),
    /// Place emergency calls as the trunk does, to gw1 then gw2 (an originator for
    /// `certify --originator --drive`).
    Call(call::CallArgs),
    /// Merge the reports of several load generators (shards) exactly into one.
    Merge(crate::load::merge::MergeArgs),
    /// Render report.html and summary.md again from a report.json.
    Report(report::ReportArgs),
}

/// `validate` options.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario files, test plans, or folders of them.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// Parses the process arguments, runs the subcommand, maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    match rt.block_on(run_command(cli.command)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(crate::exit::code_for_error(&e))
        }
    }
}

/// Runs one subcommand and returns its exit code.
pub async fn run_command(command: Command) -> anyhow::Result<u8> {
    // The commands that stop cleanly on SIGINT/SIGTERM and write their reports take the
    // signals from the start, so a signal never kills them unreported; the others (a single
    // call, certificates, validation, merge, re-rendering) keep the default: a signal ends them.
    if matches!(
        command,
        Command::Certify(_)
            | Command::Run(_)
            | Command::Gateway(_)
            | Command::Load(_)
            | Command::Torture(_)
    ) {
        let _ = crate::signals::shutdown_token();
    }
    match command {
        Command::Certify(a) => certify::certify_cmd(a).await,
        Command::Run(a) => certify::run_cmd(a).await,
        Command::Gateway(a) => gateway_cmd(a).await,
        Command::Certs(a) => certs::certs_cmd(a),
        Command::Validate(a) => Ok(validate_cmd(&a.paths)),
        Command::Load(a) => crate::load::load_cmd(a).await,
        Command::Torture(a) => {
            crate::torture::torture_cmd(a, crate::signals::shutdown_token()).await
        }
        Command::Call(a) => call::call_cmd(a).await,
        Command::Merge(a) => crate::load::merge::merge_cmd(&a),
        Command::Report(a) => report::report_cmd(&a),
    }
}

pub(crate) fn load(paths: &[PathBuf]) -> Result<Vec<scenarios::Scenario>, u8> {
    match scenarios::load_paths(paths) {
        Ok(s) if s.is_empty() => {
            eprintln!(
                "error: no scenario files found in {}",
                paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            Err(EXIT_USAGE)
        }
        Ok(s) => {
            let problems = scenarios::caller::caller_problems(&s);
            for p in &problems {
                eprintln!("{p}");
            }
            if problems.is_empty() {
                Ok(s)
            } else {
                Err(EXIT_USAGE)
            }
        }
        Err(e) => {
            eprintln!("{e}");
            Err(EXIT_USAGE)
        }
    }
}

/// Lints scenario files and test plans (a file whose document has a `[plan]` table); folders
/// contribute their `*.toml` files. Every problem of every file is printed.
fn validate_cmd(paths: &[PathBuf]) -> u8 {
    let (plans, scenario_paths) = split_plans(paths);
    let mut code = EXIT_PASSED;
    let mut valid_plans = 0;
    for p in &plans {
        match scenarios::plan::load_plan_file(p) {
            Ok(_) => valid_plans += 1,
            Err(e) => {
                eprintln!("{e}");
                code = EXIT_USAGE;
            }
        }
    }
    let scenarios = if scenario_paths.is_empty() && !plans.is_empty() {
        Ok(Vec::new())
    } else {
        load(&scenario_paths)
    };
    match scenarios {
        Ok(s) if code == EXIT_PASSED => {
            crate::stdout::println_quietly(&format!(
                "ok: {} scenario(s) and {valid_plans} plan(s) valid",
                s.len()
            ));
            EXIT_PASSED
        }
        Ok(_) => code,
        Err(c) => c,
    }
}

/// Separates the test plans among `paths` (files and the `*.toml` of folders) from the rest,
/// which stays as given for the scenario loader (it reports unreadable paths itself).
fn split_plans(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<PathBuf>) {
    // Read bounded (a device or a huge file is not a plan, and is refused when loaded).
    let is_plan = |p: &std::path::Path| {
        scenarios::read_input_file(p, scenarios::MAX_INPUT_FILE_BYTES)
            .is_ok_and(|b| scenarios::plan::looks_like_plan(&String::from_utf8_lossy(&b)))
    };
    let mut plans = Vec::new();
    let mut rest = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
                .unwrap_or_default();
            files.retain(|f| f.is_file() && f.extension().is_some_and(|x| x == "toml"));
            files.sort();
            let (p, s): (Vec<PathBuf>, Vec<PathBuf>) = files.into_iter().partition(|f| is_plan(f));
            if p.is_empty() {
                rest.push(path.clone());
            } else {
                plans.extend(p);
                rest.extend(s);
            }
        } else if is_plan(path) {
            plans.push(path.clone());
        } else {
            rest.push(path.clone());
        }
    }
    (plans, rest)
}

async fn gateway_cmd(a: GatewayArgs) -> anyhow::Result<u8> {
    crate::cli::gateway::run(a).await
}
